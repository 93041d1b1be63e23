"""The case retention job on PostgreSQL with a clock the test controls: a case archived 364 days ago
keeps everything; at 366 days every payload of its persons is gone from every table, their keys are
destroyed (the copy that went to Kafka no longer opens), the transfer log still verifies and records
the erasure. A family: a person who is also in an open case is kept until that case is due."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.transfer import TransferRequestedV2
from services.audit import handlers as audit_handlers
from services.audit import views as audit_views
from services.audit.note_keys import NoteSigner
from services.audit.tables import transfer_log
from services.audit.verify import verify
from services.cases import handlers as cases
from services.cases import views as case_views
from services.cases.commands import AddPerson, ArchiveCase, CreateCase
from services.crypto.errors import KeyDestroyed
from services.delivery import consumer as delivery_consumer
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.kernel.errors import Conflict
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import TEST_SIGNING_KEY, make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, _outbox, consent_terms
from tests.integration.test_sealed_transfers import _decided, _delivered
from tests.support import consents
from tests.support.cases import archived_case, run_retention, uow
from tests.support.raw_store import table_bytes
from tests.support.sealed import opened

DPO = Actor("dsb.rsk", "rsk-kim", roles=frozenset({Role.DPO}))
SIGNER = NoteSigner.from_skey(TEST_SIGNING_KEY)
KEPT_WITH_PSEUDONYM = {"case_persons"}  # the case names its persons by the hub's pseudonym, nothing else


def url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def holding(engine, *needles: str) -> set[str]:
    """The tables any of ``needles`` still stands in."""
    tables = await table_bytes(url(engine))
    return {t for t, raw in tables.items() if any(n.encode() in raw for n in needles)}


async def rights_records(engine, person: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.kind == "rights", transfer_log.c.person == AUDIT.pseudonym(person))
            .order_by(transfer_log.c.seq))).scalars()
        return [json.loads(r) for r in rows]


async def log_verifies(engine, directory) -> bool:
    async with uow(engine, AUDIT) as u:
        await audit_handlers.sign_if_grown(u.audit_log, SIGNER, "kimhub-test/transfer-log")
        await u.commit()
    cp = await audit_views.checkpoint(uow(engine, AUDIT), DPO)
    lines = [line async for line in audit_views.export(uow(engine, AUDIT), DPO, directory)]
    return verify(lines, cp["note"], [SIGNER.verifier()]).ok


async def test_a_case_is_erased_only_after_the_retention_period(private_engine, directory):
    engine = private_engine
    consent_id, person, transfer_id = await _delivered(engine, directory)
    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    kafka_copy = TransferRequestedV2.model_validate_json(requested.value).sealed  # as the relay published it
    assert (await opened(engine, kafka_copy, "troisdorf-abh", person))["person"]["given_name"] == "Amina"
    sealed_part = next(iter(kafka_copy.parts.values()))[-60:]
    case = await archived_case(engine, AUDIT, CM, directory, [person])

    early = await run_retention(engine, AUDIT, case["archived_at"] + timedelta(days=364))
    assert case["case_id"] not in early["erased_cases"]
    assert {"consents", "transfers", "inbox_items", "outbox", "person_keys"} <= await holding(engine, person)
    assert "consent_versions" in await holding(engine, consent_id)

    due = await run_retention(engine, AUDIT, case["archived_at"] + timedelta(days=366))
    assert case["case_id"] in due["erased_cases"]
    assert await holding(engine, person) == KEPT_WITH_PSEUDONYM
    assert await holding(engine, sealed_part) == set()  # no sealed copy at rest
    # the consent's terms are gone; its events are logged, and its tombstone for kim.consent.v1 waits in the
    # outbox: the consent id as key, no value, no headers naming the person
    assert await holding(engine, consent_id) <= {"transfer_log", "outbox"}
    assert [(r.value, r.headers) for r in await _outbox(engine, topics.CONSENT, consent_id)] == [(None, {})]
    assert await holding(engine, transfer_id) <= {"transfer_log", "processed_messages"}  # metadata only
    with pytest.raises(KeyDestroyed):
        await opened(engine, kafka_copy, "troisdorf-abh", person)  # the copy on the broker stays closed
    [record] = await rights_records(engine, person)
    assert (record["event"], record["case_id"]) == ("erased", case["case_id"])
    assert record["recorded_by"] == "kimhub-retention"
    assert {"person_keys", "consents", "inbox_items", "transfers", "outbox"} <= set(record["erased"])
    assert person not in json.dumps(record)  # the keyed pseudonym only
    assert await log_verifies(engine, directory)
    shown = await case_views.show(uow(engine, AUDIT), CM, directory, case["case_id"])
    assert shown["status"] == "erased" and shown["persons"] == [{"person": person, "erased": True}]


async def test_a_family_member_in_another_open_case_is_kept_until_that_case_is_due(private_engine, directory):
    engine = private_engine
    async with engine.begin() as conn:
        _, _, parent = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
        _, _, child = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
    open_case = await cases.create_case(CreateCase(persons=[child]), CM, uow(engine, AUDIT))
    family = await archived_case(engine, AUDIT, CM, directory, [parent, child])

    result = await run_retention(engine, AUDIT, family["archived_at"] + timedelta(days=366))
    assert family["case_id"] in result["erased_cases"]
    assert "consents" not in await holding(engine, parent)
    assert "consents" in await holding(engine, child)  # still needed by the open case
    assert [r["event"] for r in await rights_records(engine, child)] == ["kept"]
    assert (await rights_records(engine, child))[0]["reasons"] == ["needed_by_other_case"]

    with pytest.raises(Conflict, match="nicht mehr offen"):
        await cases.add_person(AddPerson(case_id=family["case_id"], person=child), CM, uow(engine, AUDIT),
                               directory)
    archived = await cases.archive_case(ArchiveCase(case_id=open_case["case_id"]), CM, uow(engine, AUDIT), directory)
    await run_retention(engine, AUDIT, archived["archived_at"] + timedelta(days=366))
    assert await holding(engine, child) == KEPT_WITH_PSEUDONYM
    assert [r["event"] for r in await rights_records(engine, child)] == ["kept", "erased"]


async def test_a_delivery_in_flight_at_the_erasure_is_deleted_by_the_next_run(private_engine, directory):
    engine = private_engine
    _, person, _, delivery = await _decided(engine, directory)  # on its way to the office's inbox
    case = await archived_case(engine, AUDIT, CM, directory, [person])
    due = case["archived_at"] + timedelta(days=366)
    await run_retention(engine, AUDIT, due)
    await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers), delivery.value, None)],
                                        HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())  # late
    assert await holding(engine, person) == KEPT_WITH_PSEUDONYM | {"inbox_items"}
    assert (await run_retention(engine, AUDIT, due))["late_rows_deleted"] == 1
    assert await holding(engine, person) == KEPT_WITH_PSEUDONYM
