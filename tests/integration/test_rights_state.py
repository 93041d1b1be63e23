"""The DPO's view of a person before acting on their rights (``services/rights/views.person_state``, the
web page's state): restricted or not, the controller's cases of the person and which are open, erased
or not; another controller's DPO does not find the person; reading it logs nothing."""
from __future__ import annotations

import pytest

from services.cases import handlers as cases
from services.cases.commands import ArchiveCase, CreateCase
from services.consent import handlers as consents
from services.consent.commands import RecordConsent
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor, Role
from services.rights import handlers as rights
from services.rights import views
from services.rights.commands import ErasePerson, RestrictProcessing
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, _consent_and_request, consent_terms
from tests.integration.test_rights import DPO, OTHER_DPO, events
from tests.support.cases import uow

CM_ME = Actor("cm.me", "me-kim", roles=frozenset({Role.CASE_MANAGER}))  # Kreis Mettmann: another controller


async def state(engine, directory, person: str, actor=DPO) -> dict:
    return await views.person_state(uow(engine, AUDIT), actor, directory, person)


async def test_the_state_follows_restriction_case_and_erasure(private_engine, directory):
    engine = private_engine
    _, person, _ = await _consent_and_request(engine, directory)
    first = await state(engine, directory, person)
    assert (first["restricted"], first["cases"], first["open_cases"], first["erased"]) == (False, [], [], False)
    assert first["open_elsewhere"] is False

    case_id = (await cases.create_case(CreateCase(persons=[person]), CM, uow(engine, AUDIT)))["case_id"]
    await rights.restrict(RestrictProcessing(person=person), DPO, uow(engine, AUDIT), directory)
    restricted = await state(engine, directory, person)
    assert restricted["restricted"] and restricted["restricted_by"] == DPO.user and restricted["restricted_at"]
    assert restricted["open_cases"] == [case_id]
    assert [(c["case_id"], c["status"], c["person_erased"]) for c in restricted["cases"]] == [(case_id, "open", False)]

    await cases.archive_case(ArchiveCase(case_id=case_id), CM, uow(engine, AUDIT), directory)
    await rights.erase_person(ErasePerson(person=person), DPO, uow(engine, AUDIT), directory)
    erased = await state(engine, directory, person)
    assert erased["erased"] and not erased["restricted"] and erased["open_cases"] == []
    assert [(c["status"], c["person_erased"]) for c in erased["cases"]] == [("erased", True)]
    assert await events(engine, person) == ["restricted", "erased"]  # the state itself is not logged


async def test_another_controllers_dpo_does_not_find_the_person(private_engine, directory):
    _, person, _ = await _consent_and_request(private_engine, directory)
    with pytest.raises(NotFound, match="Person nicht gefunden"):
        await state(private_engine, directory, person, OTHER_DPO)


async def test_an_open_case_of_another_controller_is_named_without_its_id(private_engine, directory):
    """The erasure waits for it too (the person key is one for the hub); its id is not this DPO's business."""
    engine = private_engine
    _, person, _ = await _consent_and_request(engine, directory)
    await consents.record(RecordConsent(terms=consent_terms(), person=person), CM_ME, uow(engine, AUDIT), directory)
    await cases.create_case(CreateCase(persons=[person]), CM_ME, uow(engine, AUDIT))
    found = await state(engine, directory, person)
    assert (found["open_cases"], found["cases"], found["open_elsewhere"]) == ([], [], True)
    with pytest.raises(Conflict, match="offenen Fall"):
        await rights.erase_person(ErasePerson(person=person), DPO, uow(engine, AUDIT), directory)
