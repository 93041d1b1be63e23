"""The data-protection officer carries out a person's rights, each logged in the transfer log
(a ``rights`` record: event, legal basis, table names; never content):

- Art. 17, erasure now: the person (refused while a case of theirs is open: the case manager archives
  it first) or an archived case (``services/cases``: the same erasure as the retention job);
- Art. 18, restriction: the data is kept, none of it processed: the gate refuses new transfers and
  withholds queued deliveries about the person, and no delivered item opens, until it is lifted;
- Art. 20, the person's own data as structured JSON (``views.py``).

Each DPO acts for their controller (Kreis or kreisfreie Stadt): a person none of its offices knows
is not found. An erasure reaches every table of the hub: the person's key is one for the hub.
"""
from __future__ import annotations

from datetime import timedelta

from services.audit.record import RightsLogRecord
from services.cases.domain import CaseStatus, erase
from services.cases.handlers import erase_case_now, erase_person_now
from services.cases.views import visible_case
from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.keys.holder import Keys
from services.rights import views
from services.rights.commands import EraseCase, ErasePerson, ExportPersonData, LiftRestriction, RestrictProcessing
from services.unit_of_work import HubUnitOfWork

ART17 = "Art. 17 Abs. 1 DSGVO (Antrag der betroffenen Person)"
ART18 = "Art. 18 Abs. 1 DSGVO"
ART20 = "Art. 20 Abs. 1 DSGVO"
OPEN_CASE = ("Die Person gehört zu einem noch offenen Fall. Bitte die Fallverantwortlichen, den Fall zu "
             "archivieren; danach kann gelöscht werden. Bis dahin kann die Verarbeitung nach Art. 18 DSGVO "
             "eingeschränkt werden.")
ALREADY_RESTRICTED = "Die Verarbeitung ist für diese Person bereits eingeschränkt (Art. 18 DSGVO)."
NOT_RESTRICTED = "Für diese Person ist keine Einschränkung der Verarbeitung verzeichnet."


async def erase_person(cmd: ErasePerson, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        await views.known_offices(uow, actor, directory, cmd.person)
        cases = await uow.cases.of_person(cmd.person)
        if any(c.status == CaseStatus.OPEN for c in cases):
            raise Conflict(OPEN_CASE, field="person", code_detail="open_case")
        record = await erase_person_now(uow, cmd.person, actor.office, actor, ART17)
        closed = []
        for case in cases:  # an archived case whose every person is now erased is erased itself
            if case.status == CaseStatus.ARCHIVED and set(case.persons) <= await uow.cases.erased_persons(case.id):
                await uow.cases.save_state(erase(case, utcnow()), "art17")
                closed.append(case.id)
        await uow.log.append(record)  # after the deletes: rows first, then the log head (as the gate)
        await uow.commit()
    return {"person": cmd.person, "erased": sorted(record.erased), "erased_cases": closed}


async def erase_case(cmd: EraseCase, actor: Actor, uow: HubUnitOfWork, directory: Directory,
                     settings: Settings) -> dict:
    async with uow:
        case = await visible_case(uow, actor, directory, cmd.case_id, lock=True)
        records = await erase_case_now(uow, case, utcnow(), timedelta(days=settings.case_retention_days), actor,
                                       "art17", ART17)
        await uow.log.append_many(records)
        await uow.commit()
    return {"case_id": case.id, "status": CaseStatus.ERASED.value,
            "erased_persons": [r.person for r in records if r.event == "erased"],
            "kept_persons": [r.person for r in records if r.event == "kept"]}


async def restrict(cmd: RestrictProcessing, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        await views.known_offices(uow, actor, directory, cmd.person)
        head = await uow.log.lock_head()  # before the change: a decision sees it, or is logged before it
        if await uow.restrictions.get(cmd.person) is not None:
            raise Conflict(ALREADY_RESTRICTED, field="person")
        now = utcnow()
        await uow.restrictions.add(cmd.person, actor.office, actor.user, now)
        await uow.log.append(_record("restricted", cmd.person, actor, ART18, now), head)
        await uow.commit()
    return {"person": cmd.person, "restricted": True, "restricted_at": now}


async def lift_restriction(cmd: LiftRestriction, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        await views.known_offices(uow, actor, directory, cmd.person)
        head = await uow.log.lock_head()
        if not await uow.restrictions.remove(cmd.person):
            raise NotFound(NOT_RESTRICTED, field="person")
        await uow.log.append(_record("restriction_lifted", cmd.person, actor, ART18, utcnow()), head)
        await uow.commit()
    return {"person": cmd.person, "restricted": False}


async def export_data(cmd: ExportPersonData, actor: Actor, uow: HubUnitOfWork, directory: Directory,
                      keys: Keys | None) -> dict:
    async with uow:
        offices = await views.known_offices(uow, actor, directory, cmd.person)
        now = utcnow()
        data = await views.person_data(uow, keys, cmd.person, offices, now)
        await uow.log.append(_record("exported", cmd.person, actor, ART20, now))
        await uow.commit()
    return data


def _record(event: str, person: str, actor: Actor, basis: str, now) -> RightsLogRecord:
    return RightsLogRecord(recorded_at=now, event=event, person=person, office=actor.office,
                           recorded_by=actor.user, legal_basis=basis)
