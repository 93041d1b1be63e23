"""Reads that the transfer log records: opening an inbox item, a document or a case timeline, and the
Art. 15 report. A view that opens content stages one append of these records in its own unit of work
and commits it (``log_reads``): who read what, when; never what the content said."""
from __future__ import annotations

from services.audit.record import AccessLogRecord
from services.infrastructure.db import utcnow
from services.kernel.identity import Actor

INBOX_ITEM = "inbox_item"
DOCUMENT = "document"
TIMELINE = "timeline"
ACCESS_REPORT = "access_report"
READS = (INBOX_ITEM, DOCUMENT, TIMELINE, ACCESS_REPORT)


def item_read(actor: Actor, read: str, row, document_sha256: str = "") -> AccessLogRecord:
    """``actor`` read the content of a delivered item (an inbox row: ``transfer_id``, ``person``, ...)."""
    return AccessLogRecord(
        recorded_at=utcnow(), read=read, office=actor.office, user=actor.user, roles=_roles(actor),
        person=row.person, transfer_id=row.transfer_id, message_type=row.message_type, purpose=row.purpose,
        document_sha256=document_sha256)


def report_read(actor: Actor, person: str) -> AccessLogRecord:
    """``actor`` (the DPO) produced the Art. 15 report about ``person``."""
    return AccessLogRecord(recorded_at=utcnow(), read=ACCESS_REPORT, office=actor.office, user=actor.user,
                           roles=_roles(actor), person=person)


async def log_reads(uow, records: list[AccessLogRecord]) -> None:
    """Append the records (one append, the unit's only one) and commit the unit of work."""
    await uow.log.stage_append(records)
    await uow.commit()


def _roles(actor: Actor) -> tuple[str, ...]:
    return tuple(sorted(r.value for r in actor.roles))
