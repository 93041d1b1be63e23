"""Admins see dead-lettered messages (metadata only, never the payload) and can replay them."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.infrastructure.outbox import enqueue_raw
from services.infrastructure.tables import dead_letters

_SHOWN = ("ce_id", "ce_source", "ce_type", "ce_time")


async def list_dead_letters(conn: AsyncConnection, include_replayed: bool = False, limit: int = 100) -> list[dict]:
    q = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
    if not include_replayed:
        q = q.where(dead_letters.c.replayed_at.is_(None))
    return [{
        "id": r.id, "consumer": r.consumer, "topic": r.topic, "origin": r.origin, "reason": r.reason,
        "event": {k: v for k, v in r.headers.items() if k in _SHOWN}, "size_bytes": len(r.value),
        "created_at": r.created_at, "replayed_at": r.replayed_at, "replayed_by": r.replayed_by,
    } for r in (await conn.execute(q)).all()]


async def replay(conn: AsyncConnection, actor: Actor, dead_letter_id: int) -> dict:
    """Publish the original message again (through the outbox) to its original topic."""
    row = (await conn.execute(select(dead_letters).where(dead_letters.c.id == dead_letter_id)
                              .with_for_update())).first()
    if row is None:
        raise NotFound("Nachricht nicht gefunden.", field="id")
    if row.replayed_at is not None:
        raise Conflict("Die Nachricht wurde bereits erneut zugestellt.", field="id")
    await enqueue_raw(conn, row.topic, row.key or "", dict(row.headers), bytes(row.value))
    now = utcnow()
    await conn.execute(update(dead_letters).where(dead_letters.c.id == row.id)
                       .values(replayed_at=now, replayed_by=actor.user))
    return {"id": row.id, "topic": row.topic, "replayed_at": now}
