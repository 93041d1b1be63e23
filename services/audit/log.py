"""Append to and query the transfer log. Appends join the caller's transaction."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit.record import TransferLogRecord
from services.audit.tables import transfer_log


async def append(conn: AsyncConnection, record: TransferLogRecord) -> None:
    await conn.execute(
        insert(transfer_log).values(
            recorded_at=record.recorded_at,
            transfer_id=record.transfer_id,
            sender_office=record.sender_office,
            recipient_office=record.recipient_office,
            person=record.person,
            purpose=record.purpose,
            decision=record.decision,
            record=record.canonical_bytes().decode(),
        )
    )


@dataclass(frozen=True)
class LogQuery:
    person: str | None = None
    office: str | None = None  # sender or recipient
    purpose: str | None = None
    decision: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    after_seq: int = 0


async def query(conn: AsyncConnection, q: LogQuery) -> tuple[list[tuple[int, dict]], int]:
    """Matching records (seq, record) in log order, and the total number of matches."""
    t = transfer_log
    conds = [t.c.seq > q.after_seq]
    if q.person:
        conds.append(t.c.person == q.person)
    if q.office:
        conds.append((t.c.sender_office == q.office) | (t.c.recipient_office == q.office))
    if q.purpose:
        conds.append(t.c.purpose == q.purpose)
    if q.decision:
        conds.append(t.c.decision == q.decision)
    if q.since:
        conds.append(t.c.recorded_at >= q.since)
    if q.until:
        conds.append(t.c.recorded_at < q.until)
    rows = await conn.execute(select(t.c.seq, t.c.record).where(*conds).order_by(t.c.seq).limit(q.limit))
    total = await conn.scalar(select(func.count()).select_from(t).where(*conds[1:]))
    return [(seq, json.loads(rec)) for seq, rec in rows], int(total or 0)
