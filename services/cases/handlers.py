"""Cases: create, add a person, archive; and the retention job, which erases every case archived
longer than the retention period (``KIMHUB_CASE_RETENTION_DAYS``). One handler per command.

Erasing a case erases each of its persons (``erase_person_now``: the same code path as an Art. 17
request, ``services/rights/handlers.py``) unless another case still needs them; each erasure, and
each person kept, is a record in the transfer log (no personal data).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from services.audit.record import RightsLogRecord
from services.cases import domain
from services.cases.commands import AddPerson, ArchiveCase, CreateCase, EraseExpiredCases
from services.cases.domain import Case, CaseStatus, LifecycleError
from services.cases.views import as_dict, visible_case
from services.directory.model import Directory
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork

RETENTION_BASIS = "Löschfrist nach Archivierung des Falls (Art. 5 Abs. 1 lit. e, Art. 17 Abs. 1 lit. a DSGVO)"
UNKNOWN_PERSON = "Person nicht gefunden: Ihre Stelle hat für diese Person keine Einwilligung erfasst."


async def create_case(cmd: CreateCase, actor: Actor, uow: HubUnitOfWork) -> dict:
    """A new open case of the actor's office with persons the office knows (a consent it recorded)."""
    persons = tuple(dict.fromkeys(cmd.persons))
    async with uow:
        await _known_to_office(uow, actor, persons)
        case = Case(f"f-{uuid.uuid4().hex}", actor.office, CaseStatus.OPEN, persons, utcnow())
        await uow.cases.add(case, actor.user)
        await uow.commit()
    return as_dict(case)


async def add_person(cmd: AddPerson, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        case = await _own_case(uow, actor, directory, cmd.case_id)
        await _known_to_office(uow, actor, [cmd.person])
        case = _rule(domain.add_person, case, cmd.person)
        await uow.cases.add_persons(case.id, [cmd.person], utcnow())
        await uow.commit()
    return as_dict(case)


async def archive_case(cmd: ArchiveCase, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        case = _rule(domain.archive, await _own_case(uow, actor, directory, cmd.case_id), utcnow())
        await uow.cases.save_state(case)
        await uow.commit()
    return as_dict(case)


async def erase_expired_cases(cmd: EraseExpiredCases, actor: Actor, uow: HubUnitOfWork, settings: Settings) -> dict:
    """The retention job at ``cmd.now`` (the caller's clock): every case archived longer than the
    retention period is erased (at most ``cmd.limit`` a run; the next run takes the rest)."""
    retention = timedelta(days=settings.case_retention_days)
    async with uow:
        due = await uow.cases.archived_before(cmd.now - retention, cmd.limit)
        records: list[RightsLogRecord] = []
        for case in due:
            records += await erase_case_now(uow, case, cmd.now, retention, actor, "retention", RETENTION_BASIS)
        await uow.log.append_many(records)  # after the deletes: rows first, then the log head (as the gate)
        late = await uow.erasure.sweep_late()
        await uow.commit()
    erased = [r for r in records if r.event == "erased"]
    return {"erased_cases": [c.id for c in due], "erased_persons": len(erased),
            "kept_persons": len(records) - len(erased), "late_rows_deleted": late}


async def erase_case_now(uow: HubUnitOfWork, case: Case, now: datetime, retention: timedelta, actor: Actor,
                         because: str, basis: str) -> list[RightsLogRecord]:
    """Erase the case's persons (those no other case still needs) and mark it erased; the log records
    (for the caller to append once its deletes are done)."""
    erased_case = _rule(domain.erase, case, utcnow())
    done = await uow.cases.erased_persons(case.id)
    records = []
    for person in case.persons:
        if person in done:
            continue
        others = [c for c in await uow.cases.of_person(person) if c.id != case.id]
        if domain.still_needed(others, now, retention):
            records.append(RightsLogRecord(
                recorded_at=utcnow(), event="kept", person=person, office=case.office, recorded_by=actor.user,
                legal_basis=basis, case_id=case.id, reasons=("needed_by_other_case",)))
            continue
        records.append(await erase_person_now(uow, person, case.office, actor, basis, case.id))
    await uow.cases.save_state(erased_case, because)
    return records


async def erase_person_now(uow: HubUnitOfWork, person: str, office: str, actor: Actor, basis: str,
                           case_id: str = "") -> RightsLogRecord:
    """Everything of the person at rest deleted, their keys destroyed, a tombstone for each of their
    consents on the compacted consent topic (written after the deletes, so it stays); the log record
    (not appended)."""
    consent_ids = await uow.erasure.consent_ids(person)
    erased = await uow.erasure.erase(person)
    for consent_id in consent_ids:
        await uow.outbox.add_tombstone(topics.CONSENT, consent_id)
    now = utcnow()
    await uow.cases.mark_person_erased(person, now)
    return RightsLogRecord(recorded_at=now, event="erased", person=person, office=office, recorded_by=actor.user,
                           legal_basis=basis, case_id=case_id, erased=tuple(erased))


async def _own_case(uow: HubUnitOfWork, actor: Actor, directory: Directory, case_id: str) -> Case:
    case = await visible_case(uow, actor, directory, case_id, lock=True)
    if case.office != actor.office:
        raise NotFound("Fall nicht gefunden.", field="case_id")
    return case


async def _known_to_office(uow: HubUnitOfWork, actor: Actor, persons) -> None:
    for i, person in enumerate(persons):
        if not await uow.consents.of_person(person, actor.office):
            raise NotFound(UNKNOWN_PERSON, field=f"persons.{i}" if len(persons) > 1 else "person")


def _rule(step, case: Case, *args) -> Case:
    try:
        return step(case, *args)
    except LifecycleError as exc:
        raise Conflict(exc.message, field="case_id", code_detail=exc.code) from None
