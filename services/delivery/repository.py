"""The office inboxes in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.delivery.tables import inbox_items, office_notices
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

    def replace_sealed(self, rows: list[dict]) -> None:
        """Staged: items' sealed content replaced (``transfer_id``, ``sealed``): what a deletion leaves."""
        if rows:
            self._stage(Update(inbox_items, rows, key="transfer_id"))

    async def of_person(self, office: str, person: str) -> list:
        """What ``office`` received about ``person`` (a person's case timeline)."""
        return (await self.conn.execute(select(inbox_items).where(inbox_items.c.office == office,
                                                                  inbox_items.c.person == person))).all()


class OfficeNoticeRepository:
    """The revocation notices an office received, one row per affected inbox item (``office_notices``)."""

    def __init__(self, conn: AsyncConnection, stage=None):
        self.conn = conn
        self._stage = stage

    def add(self, rows: list[dict]) -> None:
        """Staged; a notice stored before (a repeat) is left as it is."""
        if rows:
            self._stage(Insert(office_notices, rows, skip_conflicts=True))

    async def of_item(self, office: str, transfer_id: str) -> list:
        """The notices about one of the office's inbox items."""
        n = office_notices
        return (await self.conn.execute(select(n).where(n.c.office == office, n.c.transfer_id == transfer_id)
                                        .order_by(n.c.issued_at))).all()

    async def of_office(self, office: str, state: str | None = None, limit: int = 500) -> list:
        """The office's notices' rows, newest notice first."""
        n = office_notices
        q = select(n).where(n.c.office == office)
        if state is not None:
            q = q.where(n.c.state == state)
        return (await self.conn.execute(q.order_by(n.c.issued_at.desc(), n.c.notice_id, n.c.transfer_id)
                                        .limit(limit))).all()

    async def get(self, notice_id: str, for_update: bool = False) -> list:
        """A notice's rows (``for_update``: locked until the commit)."""
        q = select(office_notices).where(office_notices.c.notice_id == notice_id).order_by(office_notices.c.transfer_id)
        if for_update:
            q = q.with_for_update()
        return (await self.conn.execute(q)).all()

    def confirm(self, notice_id: str, state: str, legal_basis: str | None, by: str, at: datetime) -> None:
        self._stage(Update(office_notices, [{"notice_id": notice_id, "state": state, "legal_basis": legal_basis,
                                             "confirmed_by": by, "confirmed_at": at}], key="notice_id"))
