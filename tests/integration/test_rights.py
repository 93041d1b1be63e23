"""The DPO carries out a person's rights on PostgreSQL: Art. 18 (the gate refuses a new referral and
withholds a queued one, naming Art. 18; lifting it lets them through), Art. 20 (the person's consents
and what was sent about them, opened, as JSON), Art. 17 (refused while a case is open; then the same
erasure as the retention job). Each is logged."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from contracts.envelope import Envelope
from services.audit.tables import transfer_log
from services.cases import handlers as cases
from services.cases.commands import CreateCase
from services.kernel.errors import Conflict, Forbidden, NotFound
from services.kernel.identity import Actor, Role
from services.rights import handlers as rights
from services.rights.commands import EraseCase, ErasePerson, ExportPersonData, LiftRestriction, RestrictProcessing
from tests.conftest import make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, _consent_and_request, _outbox, _status, referral
from tests.integration.test_sealed_transfers import _delivered, _read
from tests.support import gate
from tests.support.cases import SETTINGS, archived_case, uow
from services.infrastructure import topics

DPO = Actor("dsb.rsk", "rsk-kim", roles=frozenset({Role.DPO}))
OTHER_DPO = Actor("dsb.me", "me-kim", roles=frozenset({Role.DPO}))  # Kreis Mettmann: another controller


async def events(engine, person: str) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.kind == "rights", transfer_log.c.person == AUDIT.pseudonym(person))
            .order_by(transfer_log.c.seq))).scalars()
        return [json.loads(r)["event"] for r in rows]


async def send(engine, directory, person: str):
    async with engine.begin() as conn:
        return await gate.send(conn, CM, referral(person), directory, AUDIT)


async def test_a_restriction_refuses_new_referrals_and_withholds_queued_ones_until_lifted(private_engine, directory):
    engine = private_engine
    _, person, queued = await _consent_and_request(engine, directory)
    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    await rights.restrict(RestrictProcessing(person=person), DPO, uow(engine, AUDIT), directory)
    with pytest.raises(Conflict, match="bereits eingeschränkt"):
        await rights.restrict(RestrictProcessing(person=person), DPO, uow(engine, AUDIT), directory)

    refused = await send(engine, directory, person)
    assert refused.status == "refused"
    [reason] = [r for r in refused.reasons if r["code"] == "processing_restricted"]
    assert "Art. 18 DSGVO" in reason["message"]
    async with engine.begin() as conn:
        await gate.consume(conn, [(Envelope.from_headers(requested.headers), requested.value)], directory, AUDIT)
    status = await _status(engine, queued.transfer_id)
    assert status["status"] == "withheld" and "processing_restricted" in [r["code"] for r in status["reasons"]]

    await rights.lift_restriction(LiftRestriction(person=person), DPO, uow(engine, AUDIT), directory)
    assert (await send(engine, directory, person)).status == "requested"
    assert await events(engine, person) == ["restricted", "restriction_lifted"]


async def test_a_restricted_persons_delivered_item_does_not_open(private_engine, directory):
    engine = private_engine
    _, person, transfer_id = await _delivered(engine, directory)
    await rights.restrict(RestrictProcessing(person=person), DPO, uow(engine, AUDIT), directory)
    with pytest.raises(Forbidden, match="Art. 18 DSGVO"):
        await _read(engine, directory, transfer_id)


async def test_the_persons_own_data_as_json(private_engine, directory):
    engine = private_engine
    consent_id, person, transfer_id = await _delivered(engine, directory)
    data = await rights.export_data(ExportPersonData(person=person), DPO, uow(engine, AUDIT), directory, make_keys())
    json.dumps(data, default=str)  # structured, machine-readable
    [consent] = data["consents"]
    assert consent["consent_id"] == consent_id and consent["versions"][0]["terms"]["municipality"] == "05382068"
    [sent] = data["transfers"]
    assert (sent["transfer_id"], sent["status"]) == (transfer_id, "delivered")
    assert sent["recipient_office"] == "troisdorf-abh"
    assert sent["payload"]["person"] == {"given_name": "Amina", "family_name": "K."}
    assert await events(engine, person) == ["exported"]
    with pytest.raises(NotFound):  # another controller's DPO does not know the person
        await rights.export_data(ExportPersonData(person=person), OTHER_DPO, uow(engine, AUDIT), directory, make_keys())


async def test_erasure_on_request_is_refused_while_a_case_is_open(private_engine, directory):
    engine = private_engine
    _, person, transfer_id = await _delivered(engine, directory)
    case = await cases.create_case(CreateCase(persons=[person]), CM, uow(engine, AUDIT))
    with pytest.raises(Conflict, match="offenen Fall"):
        await rights.erase_person(ErasePerson(person=person), DPO, uow(engine, AUDIT), directory)
    with pytest.raises(Conflict, match="noch offen"):
        await rights.erase_case(EraseCase(case_id=case["case_id"]), DPO, uow(engine, AUDIT), directory, SETTINGS)
    await cases.archive_case(cases.ArchiveCase(case_id=case["case_id"]), CM, uow(engine, AUDIT), directory)

    done = await rights.erase_person(ErasePerson(person=person), DPO, uow(engine, AUDIT), directory)
    assert {"consents", "person_keys", "inbox_items"} <= set(done["erased"])
    assert done["erased_cases"] == [case["case_id"]]  # its only person is gone
    data = await rights.export_data(ExportPersonData(person=person), DPO, uow(engine, AUDIT), directory, make_keys())
    assert data["consents"] == [] and data["transfers"] == []
    assert await events(engine, person) == ["erased", "exported"]


async def test_an_archived_case_is_erased_on_request_before_its_period_ends(private_engine, directory):
    engine = private_engine
    _, person, _ = await _delivered(engine, directory)
    case = await archived_case(engine, AUDIT, CM, directory, [person])
    done = await rights.erase_case(EraseCase(case_id=case["case_id"]), DPO, uow(engine, AUDIT), directory, SETTINGS)
    assert done["erased_persons"] == [person]
    assert await events(engine, person) == ["erased"]
