"""The office inboxes in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.delivery.tables import inbox_items
from services.infrastructure.bulk import Insert, Update


class InboxRepository:
    def __init__(self, conn: AsyncConnection, stage=None):
        self.conn = conn
        self._stage = stage  # the unit of work's: rows written at its commit

    def add_deliveries(self, rows: list[dict]) -> None:
        """Delivered messages, each skipped when its transfer is in the inbox already (a repeat)."""
        self._stage(Insert(inbox_items, rows, skip_conflicts=True))

    async def get(self, transfer_id: str, for_update: bool = False):
        """The inbox item of a transfer, or None; ``for_update`` locks it until the commit."""
        q = select(inbox_items).where(inbox_items.c.transfer_id == transfer_id)
        if for_update:
            q = q.with_for_update()
        return (await self.conn.execute(q)).first()

    async def of_office(self, office: str, unread_only: bool = False, limit: int = 100) -> list:
        """An office's items, newest delivery first; ``unread_only``: those without a receipt."""
        q = select(inbox_items).where(inbox_items.c.office == office)
        if unread_only:
            q = q.where(inbox_items.c.received_at.is_(None))
        return (await self.conn.execute(q.order_by(inbox_items.c.delivered_at.desc()).limit(limit))).all()

    def mark_received(self, transfer_id: str, now: datetime, by: str) -> None:
        """Staged: written at the commit, with the receipt's outbox row (one statement on PostgreSQL)."""
        self._stage(Update(inbox_items, [{"transfer_id": transfer_id, "received_at": now, "received_by": by}],
                           key="transfer_id"))

    async def of_person(self, office: str, person: str) -> list:
        """What ``office`` received about ``person`` (a person's case timeline)."""
        return (await self.conn.execute(select(inbox_items).where(inbox_items.c.office == office,
                                                                  inbox_items.c.person == person))).all()
