"""Cases and their persons in the database."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.cases.domain import Case, CaseStatus
from services.cases.tables import case_persons, cases


class CaseRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, case: Case, created_by: str) -> None:
        await self.conn.execute(insert(cases).values(
            id=case.id, office=case.office, status=case.status.value, created_by=created_by,
            created_at=case.created_at))
        await self.add_persons(case.id, case.persons, case.created_at)

    async def add_persons(self, case_id: str, persons: Iterable[str], now: datetime) -> None:
        rows = [{"case_id": case_id, "person": p, "added_at": now} for p in persons]
        if rows:
            await self.conn.execute(insert(case_persons), rows)

    async def get(self, case_id: str, lock: bool = False) -> Case | None:
        query = select(cases).where(cases.c.id == case_id)
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return (await self._cases([row]))[0] if row else None

    async def of_offices(self, offices: Iterable[str], status: str | None, limit: int) -> list[Case]:
        query = select(cases).where(cases.c.office.in_(sorted(offices)))
        if status:
            query = query.where(cases.c.status == status)
        rows = (await self.conn.execute(query.order_by(cases.c.created_at.desc()).limit(limit))).all()
        return await self._cases(rows)

    async def archived_before(self, cutoff: datetime, limit: int) -> list[Case]:
        """Archived cases archived before ``cutoff``, oldest first, locked (the job erases them)."""
        rows = (await self.conn.execute(
            select(cases).where(cases.c.status == CaseStatus.ARCHIVED.value, cases.c.archived_at < cutoff)
            .order_by(cases.c.archived_at).limit(limit).with_for_update(skip_locked=True))).all()
        return await self._cases(rows)

    async def of_person(self, person: str) -> list[Case]:
        ids = select(case_persons.c.case_id).where(case_persons.c.person == person)
        rows = (await self.conn.execute(select(cases).where(cases.c.id.in_(ids)))).all()
        return await self._cases(rows)

    async def save_state(self, case: Case, erased_because: str | None = None) -> None:
        await self.conn.execute(update(cases).where(cases.c.id == case.id).values(
            status=case.status.value, archived_at=case.archived_at, erased_at=case.erased_at,
            erased_because=erased_because))

    async def mark_person_erased(self, person: str, now: datetime) -> None:
        """In every case the person is in: their data is gone."""
        await self.conn.execute(update(case_persons).where(
            case_persons.c.person == person, case_persons.c.erased_at.is_(None)).values(erased_at=now))

    async def erased_persons(self, case_id: str) -> set[str]:
        return set((await self.conn.execute(select(case_persons.c.person).where(
            case_persons.c.case_id == case_id, case_persons.c.erased_at.is_not(None)))).scalars())

    async def _cases(self, rows) -> list[Case]:
        if not rows:
            return []
        links = (await self.conn.execute(
            select(case_persons.c.case_id, case_persons.c.person)
            .where(case_persons.c.case_id.in_([r.id for r in rows]))
            .order_by(case_persons.c.added_at, case_persons.c.person))).all()
        persons: dict[str, list[str]] = {}
        for link in links:
            persons.setdefault(link.case_id, []).append(link.person)
        return [Case(id=r.id, office=r.office, status=CaseStatus(r.status), persons=tuple(persons.get(r.id, ())),
                     created_at=r.created_at, archived_at=r.archived_at, erased_at=r.erased_at) for r in rows]
