"""Transfers in the database: what was requested, and its status as the gate decides it."""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gate.tables import revocation_notices, transfers
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

    async def delivered_under(self, consent_id: str) -> list:
        """The transfers delivered (or received) under the consent, any version (revocation notices)."""
        return (await self.conn.execute(select(transfers).where(
            transfers.c.consent_id == consent_id, transfers.c.status.in_(("delivered", "received")))
            .order_by(transfers.c.id))).all()

    async def sent_by(self, office: str, person: str) -> list:
        return (await self.conn.execute(select(transfers).where(transfers.c.sender_office == office,
                                                                transfers.c.person == person))).all()

    async def rectifications_of(self, transfer_id: str, office: str) -> list[str]:
        """The rectifications (Art. 16 DSGVO) of ``transfer_id`` delivered to ``office``, oldest first."""
        t = transfers
        return list((await self.conn.execute(select(t.c.id).where(
            t.c.in_reply_to == transfer_id, t.c.message_type == "rectification.v1", t.c.recipient_office == office,
            t.c.status.in_(("delivered", "received"))).order_by(t.c.requested_at))).scalars())


class NoticeRepository:
    """The revocation notices the hub sent, one row per affected transfer (``revocation_notices``)."""

    def __init__(self, conn: AsyncConnection, stage):
        self.conn = conn
        self._stage = stage

    def add(self, rows: list[dict]) -> None:
        """Staged: written at the commit with the notices' outbox rows."""
        if rows:
            self._stage(Insert(revocation_notices, rows))

    async def noticed(self, transfer_ids: list[str]) -> dict[str, frozenset[str]]:
        """The categories earlier notices already named, per transfer."""
        if not transfer_ids:
            return {}
        n = revocation_notices
        out: dict[str, set[str]] = {}
        for tid, cats in (await self.conn.execute(select(n.c.transfer_id, n.c.categories)
                                                  .where(n.c.transfer_id.in_(transfer_ids)))).all():
            out.setdefault(tid, set()).update(cats)
        return {tid: frozenset(c) for tid, c in out.items()}

    async def lock_open(self, notice_id: str, office: str) -> list:
        """The notice's rows if it was sent to ``office`` and is still open, locked until the commit."""
        n = revocation_notices
        return (await self.conn.execute(select(n).where(n.c.notice_id == notice_id, n.c.office == office,
                                                        n.c.state == "open")
                                        .order_by(n.c.transfer_id).with_for_update())).all()

    def confirm(self, notice_id: str, state: str, legal_basis: str | None, by: str, at) -> None:
        self._stage(Update(revocation_notices, [{"notice_id": notice_id, "state": state, "legal_basis": legal_basis,
                                                 "confirmed_by": by, "confirmed_at": at}], key="notice_id"))

    async def of_sender(self, office: str, person: str) -> list:
        """The notices about consents ``office`` recorded for ``person`` (the case manager's view)."""
        n = revocation_notices
        return (await self.conn.execute(select(n).where(n.c.sender_office == office, n.c.person == person)
                                        .order_by(n.c.issued_at, n.c.notice_id, n.c.transfer_id))).all()

    async def in_scope(self, offices: frozenset[str], state: str | None, limit: int) -> list:
        """Notices sent by or to one of ``offices`` (a DPO's controller), newest first."""
        n = revocation_notices
        q = select(n).where(or_(n.c.sender_office.in_(offices), n.c.office.in_(offices)))
        if state is not None:
            q = q.where(n.c.state == state)
        return (await self.conn.execute(q.order_by(n.c.issued_at.desc(), n.c.notice_id, n.c.transfer_id)
                                        .limit(limit))).all()
