"""Topic names. Key = person pseudonym, so one person's events stay in order; except on the compacted
``kim.consent.v1``: key = consent id, so compaction keeps the latest event of every consent (a full
snapshot of its latest version, or its revocation), not only the latest of each person."""
CONSENT = "kim.consent.v1"
TRANSFER_REQUESTED = "kim.transfer.requested.v1"
FEEDBACK = "kim.feedback.v1"
AUDIT = "kim.audit.v1"  # signed checkpoints of the transfer log

DAY_MS = 24 * 60 * 60 * 1000
# The compacted topic's configuration (Apache Kafka topic configs, the 4.1 names). Compaction keeps
# the latest record per key and drops the key whose latest record is a tombstone (an erased person's
# consents: the erasure writes one per consent). It cleans closed segments only: the active segment
# is closed at the first write after it is a day old (``segment.ms``), and a closed segment is
# cleaned at the latest when its oldest record is 7 days old (``max.compaction.lag.ms``, whatever the
# dirty ratio). A tombstone stays at least a day longer (``delete.retention.ms``), so a reader of the
# topic sees the deletion.
COMPACTION = {"cleanup.policy": "compact", "segment.ms": str(DAY_MS), "max.compaction.lag.ms": str(7 * DAY_MS),
              "delete.retention.ms": str(DAY_MS)}


def office_inbox(office_id: str) -> str:
    return f"agency.{office_id}.inbox.v1"


def dead_letter(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics(office_ids: list[str]) -> list[str]:
    base = [CONSENT, TRANSFER_REQUESTED, FEEDBACK, AUDIT, *(office_inbox(o) for o in office_ids)]
    return base + [dead_letter(t) for t in base]
