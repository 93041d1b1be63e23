"""Restrictions (Art. 18) in the database; the gate reads them through its port (``restricted``)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.cases.tables import case_persons, cases
from services.consent.tables import consent_versions, consents
from services.delivery.tables import inbox_items
from services.gate.tables import transfers
from services.rights.tables import restrictions

_RESTRICTED = select(restrictions.c.person).where(restrictions.c.person.in_(bindparam("persons", expanding=True)))


class RestrictionRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def restricted(self, persons: Iterable[str]) -> set[str]:
        """Which of ``persons`` are restricted now (one query)."""
        persons = sorted(set(persons))
        if not persons:
            return set()
        return set((await self.conn.execute(_RESTRICTED, {"persons": persons})).scalars())

    async def get(self, person: str):
        return (await self.conn.execute(select(restrictions).where(restrictions.c.person == person))).first()

    async def add(self, person: str, office: str, user: str, now: datetime) -> None:
        await self.conn.execute(insert(restrictions).values(person=person, office=office, restricted_by=user,
                                                            restricted_at=now))

    async def remove(self, person: str) -> int:
        return (await self.conn.execute(delete(restrictions).where(restrictions.c.person == person))).rowcount


class PersonDataRepository:
    """What the hub holds about one person, for the DPO (scope check, Art. 20): reads only."""

    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def known_to(self, person: str, offices: Iterable[str]) -> bool:
        """Has one of ``offices`` recorded a consent, a case or a transfer about the person?"""
        offices = sorted(offices)
        for query in (
            select(consents.c.id).where(consents.c.person == person, consents.c.recorded_office.in_(offices)),
            select(cases.c.id).join(case_persons, case_persons.c.case_id == cases.c.id)
            .where(case_persons.c.person == person, cases.c.office.in_(offices)),
            select(transfers.c.id).where(transfers.c.person == person, or_(
                transfers.c.sender_office.in_(offices), transfers.c.recipient_office.in_(offices))),
        ):
            if (await self.conn.execute(query.limit(1))).first() is not None:
                return True
        return False

    async def consents(self, person: str, offices: Iterable[str]) -> list:
        """(consent row, its versions) the offices recorded about the person."""
        rows = (await self.conn.execute(select(consents).where(
            consents.c.person == person, consents.c.recorded_office.in_(sorted(offices)))
            .order_by(consents.c.created_at))).all()
        out = []
        for row in rows:
            versions = (await self.conn.execute(select(consent_versions).where(
                consent_versions.c.consent_id == row.id).order_by(consent_versions.c.version))).all()
            out.append((row, versions))
        return out

    async def transfers(self, person: str, offices: Iterable[str]) -> list:
        """(transfer row, its inbox item or None) sent or received by the offices about the person."""
        offices = sorted(offices)
        return (await self.conn.execute(
            select(transfers, inbox_items.c.sealed).outerjoin(inbox_items, inbox_items.c.transfer_id == transfers.c.id)
            .where(transfers.c.person == person, or_(transfers.c.sender_office.in_(offices),
                                                     transfers.c.recipient_office.in_(offices)))
            .order_by(transfers.c.requested_at))).all()
