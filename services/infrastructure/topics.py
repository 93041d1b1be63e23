"""Topic names. Key = person pseudonym, so one person's events stay in order; except on the compacted
``kim.consent.v1``: key = consent id, so compaction keeps the latest event of every consent (a full
snapshot of its latest version, or its revocation), not only the latest of each person."""
CONSENT = "kim.consent.v1"
TRANSFER_REQUESTED = "kim.transfer.requested.v1"
FEEDBACK = "kim.feedback.v1"
AUDIT = "kim.audit.v1"  # signed checkpoints of the transfer log


def office_inbox(office_id: str) -> str:
    return f"agency.{office_id}.inbox.v1"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics(office_ids: list[str]) -> list[str]:
    base = [CONSENT, TRANSFER_REQUESTED, FEEDBACK, AUDIT, *(office_inbox(o) for o in office_ids)]
    return base + [dead_letter(t) for t in base]
