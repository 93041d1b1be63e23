"""Transfers in the database: what was requested, and its status as the gate decides it."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gate.tables import transfers
from services.infrastructure.bulk import Insert, Update

# Built once (composing the select costs more CPU than running it); ids in order, against deadlocks.
_LOCK_TRANSFERS = (select(transfers.c.id, transfers.c.status)
                   .where(transfers.c.id.in_(bindparam("ids", expanding=True)))
                   .order_by(transfers.c.id).with_for_update())


class TransferRepository:
    def __init__(self, conn: AsyncConnection, stage):
        self.conn = conn
        self._stage = stage  # the unit of work's: rows written at its commit

    def add_many(self, rows: list[dict]) -> None:
        self._stage(Insert(transfers, rows))

    def update_many(self, rows: list[dict]) -> None:
        """Rows by ``id``, each with the columns it changes (all rows the same columns)."""
        self._stage(Update(transfers, rows))

    async def get(self, transfer_id: str):
        return (await self.conn.execute(select(transfers).where(transfers.c.id == transfer_id))).first()

    async def lock_statuses(self, transfer_ids: list[str]) -> dict[str, str]:
        """Lock the transfers' rows until the commit (in id order) and return their statuses."""
        return dict((await self.conn.execute(_LOCK_TRANSFERS, {"ids": sorted(set(transfer_ids))})).all())

    async def lock_delivered_to(self, transfer_id: str, office: str):
        """The transfer delivered to ``office``, its row locked until the commit; None otherwise."""
        return (await self.conn.execute(select(transfers).where(
            transfers.c.id == transfer_id, transfers.c.recipient_office == office).with_for_update())).first()

    async def set_status(self, transfer_id: str, status: str, now) -> None:
        await self.conn.execute(update(transfers).where(transfers.c.id == transfer_id)
                                .values(status=status, updated_at=now))

    async def sent_by(self, office: str, person: str) -> list:
        return (await self.conn.execute(select(transfers).where(transfers.c.sender_office == office,
                                                                transfers.c.person == person))).all()

    async def rectifications_of(self, transfer_id: str, office: str) -> list[str]:
        """The rectifications (Art. 16 DSGVO) of ``transfer_id`` delivered to ``office``, oldest first."""
        t = transfers
        return list((await self.conn.execute(select(t.c.id).where(
            t.c.in_reply_to == transfer_id, t.c.message_type == "rectification.v1", t.c.recipient_office == office,
            t.c.status.in_(("delivered", "received"))).order_by(t.c.requested_at))).scalars())
