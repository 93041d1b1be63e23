"""Dead-lettered messages in the database (``messaging.dead_letter`` writes them)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.admin.scope import INBOX_PREFIX, INBOX_SUFFIX
from services.infrastructure.tables import dead_letters


class DeadLetterRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def latest(self, include_replayed: bool = False, limit: int = 100,
                     offices: frozenset[str] | None = None) -> list:
        """The newest dead letters first; without ``include_replayed`` only those not replayed yet;
        with ``offices`` only those about one of them or about no office (``scope.visible``)."""
        q = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        if offices is not None:
            q = q.where(_visible(offices))
        if not include_replayed:
            q = q.where(dead_letters.c.replayed_at.is_(None))
        return (await self.conn.execute(q)).all()

    async def get_for_update(self, dead_letter_id: int):
        """The dead letter, locked until the transaction ends (one replay at a time), or None."""
        return (await self.conn.execute(select(dead_letters).where(dead_letters.c.id == dead_letter_id)
                                        .with_for_update())).first()

    async def mark_replayed(self, dead_letter_id: int, now: datetime, by: str) -> None:
        await self.conn.execute(update(dead_letters).where(dead_letters.c.id == dead_letter_id)
                                .values(replayed_at=now, replayed_by=by))


def _visible(offices: frozenset[str]):
    """``scope.visible`` in SQL."""
    d, names = dead_letters, sorted(offices)
    named = d.c.headers["ce_recipientoffice"].as_string()
    inbox = d.c.topic.like(f"{INBOX_PREFIX}%{INBOX_SUFFIX}")
    return or_(d.c.topic.in_([f"{INBOX_PREFIX}{o}{INBOX_SUFFIX}" for o in names]),
               and_(~inbox, or_(named.is_(None), named == "", named.in_(names))))
