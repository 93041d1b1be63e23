"""The notifications' SQL: the offices' addresses and the outbox of mails."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.delivery.tables import inbox_items
from services.gate.tables import transfers
from services.infrastructure.bulk import Insert, Update
from services.infrastructure.db import utcnow
from services.notifications.tables import notification_settings, notifications

_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
UNANSWERED = ("refused", "withheld")  # an answer in these states did not reach the other office


class NotificationRepository:
    def __init__(self, conn: AsyncConnection, stage=None):
        self.conn = conn
        self._stage = stage  # the unit of work's: rows written at its commit

    def add(self, kind: str, items: list[tuple[str, str]], due: datetime) -> None:
        """Staged: a notification per (office, transfer id), each skipped when it exists (a repeat)."""
        now = utcnow()
        self._stage(Insert(notifications, [{
            "id": f"{kind}:{transfer_id}", "kind": kind, "office": office, "transfer_id": transfer_id,
            "state": "pending", "attempts": 0, "next_attempt_at": due, "last_error": None, "created_at": now,
            "done_at": None} for office, transfer_id in items], skip_conflicts=True))

    async def due(self, now: datetime, limit: int = 500) -> list:
        """Pending notifications whose time has come, locked (another sender skips them)."""
        q = (select(notifications).where(notifications.c.state == "pending", notifications.c.next_attempt_at <= now)
             .order_by(notifications.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
        return (await self.conn.execute(q)).all()

    def finish(self, ids: list[str], state: str, now: datetime) -> None:
        self._stage(Update(notifications, [{"id": i, "state": state, "done_at": now} for i in ids]))

    def retry(self, later: list[tuple[str, int, datetime]], error: str) -> None:
        """Staged: each (id, attempts so far, next attempt at) tried again then; ``error`` a class name."""
        self._stage(Update(notifications, [{"id": i, "attempts": n + 1, "next_attempt_at": at, "last_error": error}
                                           for i, n, at in later]))

    async def forget_done(self, before: datetime) -> None:
        """Delete the notifications done (sent, cancelled, unaddressed) before ``before``."""
        await self.conn.execute(delete(notifications).where(notifications.c.state != "pending",
                                                            notifications.c.done_at < before))

    async def answered(self, transfer_ids: list[str]) -> set[str]:
        """Those of the transfers that were answered (an answer that was not refused or withheld)."""
        q = select(transfers.c.in_reply_to).where(transfers.c.in_reply_to.in_(transfer_ids),
                                                  transfers.c.status.not_in(UNANSWERED))
        return set((await self.conn.execute(q)).scalars())

    async def delivered(self, transfer_ids: list[str]) -> set[str]:
        """Those of the transfers that are in their office's inbox."""
        q = select(inbox_items.c.transfer_id).where(inbox_items.c.transfer_id.in_(transfer_ids))
        return set((await self.conn.execute(q)).scalars())

    async def not_delivered(self, transfer_ids: list[str]) -> set[str]:
        """Those of the transfers that will never reach an inbox (refused or withheld)."""
        q = select(transfers.c.id).where(transfers.c.id.in_(transfer_ids), transfers.c.status.in_(UNANSWERED))
        return set((await self.conn.execute(q)).scalars())

    async def addresses(self, office: str):
        """The office's settings row, or None."""
        return (await self.conn.execute(select(notification_settings).where(
            notification_settings.c.office == office))).first()

    async def addresses_of(self, offices: list[str]) -> dict:
        """The settings rows of these offices (those that have one), by office."""
        rows = (await self.conn.execute(select(notification_settings).where(
            notification_settings.c.office.in_(offices)))).all()
        return {r.office: r for r in rows}

    async def set_addresses(self, office: str, new_items: list[str], overdue: list[str], by: str) -> None:
        """Insert or replace the office's addresses (one statement: two admins at once cannot collide)."""
        row = {"office": office, "new_items": new_items, "overdue_replies": overdue, "updated_at": utcnow(),
               "updated_by": by}
        insert = _UPSERT[self.conn.dialect.name](notification_settings).values(row)
        await self.conn.execute(insert.on_conflict_do_update(
            index_elements=["office"], set_={k: v for k, v in row.items() if k != "office"}))
