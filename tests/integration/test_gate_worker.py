"""The gate end to end on PostgreSQL, without the broker: request -> outbox -> worker -> delivery or withholding.

The worker is driven by hand with the outbox row the request wrote (value and headers, exactly
what the relay would publish). Runs on a private database (see ``private_db``): a hub from the
e2e tests, relaying and consuming on the shared session database, would otherwise race the
hand-driven worker for the same transfers.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from contracts.consent import ConsentTerms, RevocationMethod
from contracts.envelope import Envelope
from contracts.transfer import OfficeDeliveryV2, RefusalV1, TransferRequestedV2
from services.audit.record import TransferLogRecord
from services.audit.tables import transfer_log
from tests.support import consents
from tests.support import gate
from services.gate.commands import SendTransfer
from services.gate.sealing import sealed_payload_digest
from tests.support.sealed import opened
from services.infrastructure import topics
from services.kernel.identity import Actor, Role
from tests.conftest import make_audit_log

AUDIT = make_audit_log()
from services.infrastructure.tables import outbox
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)

CM = Actor("cm.rsk", "rsk-kim", roles=frozenset({Role.CASE_MANAGER}))
TROISDORF = "05382068"
INBOX = topics.office_inbox("troisdorf-abh")


def consent_terms() -> ConsentTerms:
    return ConsentTerms.model_validate({
        "municipality": TROISDORF,
        "provisions": [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                        "categories": ["stammdaten", "falldaten"]}],
        "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2099-01-01T00:00:00Z",
        "evidence": {"form_sha256": hashlib.sha256(b"form").hexdigest(), "form_version": "KIM-EW-2025-1",
                     "language": "ar"},
    })


def referral(person: str) -> SendTransfer:
    return SendTransfer.model_validate({
        "person": person, "municipality": TROISDORF, "recipient": {"kind": "abh"},
        "purpose": "aufenthaltsperspektive",
        "payload": {
            "reason": "Prüfung § 25b AufenthG", "requested_action": "Beratungstermin anbieten",
            "person": {"given_name": "Amina", "family_name": "K."},  # stammdaten: covered
            "health_notes": "Diabetes",  # besondere_kategorien: optional and not covered
        },
    })


async def _outbox(engine, topic: str, person: str):
    async with engine.connect() as conn:
        return (await conn.execute(
            select(outbox).where(outbox.c.topic == topic, outbox.c.key == person).order_by(outbox.c.id)
        )).all()


async def _log(engine, transfer_id: str) -> list[TransferLogRecord]:
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(transfer_log).where(transfer_log.c.transfer_id == transfer_id).order_by(transfer_log.c.seq)
        )).all()
    return [TransferLogRecord.from_dict(json.loads(r.record)) for r in rows]


async def _status(engine, transfer_id: str) -> dict:
    async with engine.connect() as conn:
        return await gate.status(conn, CM, transfer_id, AUDIT)


async def _consent_and_request(engine, directory):
    async with engine.begin() as conn:
        consent_id, _, person = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
    async with engine.begin() as conn:
        outcome = await gate.send(conn, CM, referral(person), directory, AUDIT)
    return consent_id, person, outcome


async def _run_worker(engine, directory, requested_row) -> None:
    env = Envelope.from_headers(requested_row.headers)
    async with engine.begin() as conn:
        await gate.consume(conn, [(env, requested_row.value)], directory, AUDIT)


async def test_requested_transfer_is_minimised_delivered_and_logged(private_engine, directory):
    engine = private_engine
    consent_id, person, outcome = await _consent_and_request(engine, directory)
    assert outcome.status == "requested"
    assert outcome.recipient_office == "troisdorf-abh"  # Troisdorf has its own ABH
    assert (outcome.consent_id, outcome.consent_version) == (consent_id, 1)
    assert (await _status(engine, outcome.transfer_id))["status"] == "requested"
    assert await _log(engine, outcome.transfer_id) == []  # allowed requests are logged at delivery

    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    env = Envelope.from_headers(requested.headers)
    assert (env.id, env.subject, env.type) == (outcome.transfer_id, person, "de.nrw.kim.transfer.requested.v2")
    assert (env.consentid, env.consentversion, env.recipientoffice) == (consent_id, 1, "troisdorf-abh")
    msg = TransferRequestedV2.model_validate_json(requested.value)
    assert set(msg.sealed.parts) == {"falldaten", "stammdaten"}  # minimised at request time, before the outbox
    assert b"Amina" not in requested.value  # sealed: nothing readable
    assert b"Diabetes" not in requested.value and msg.removed_categories == ["besondere_kategorien"]

    await _run_worker(engine, directory, requested)

    status = await _status(engine, outcome.transfer_id)
    assert status["status"] == "delivered"
    assert status["categories"] == ["falldaten", "stammdaten"]
    assert status["removed_categories"] == ["besondere_kategorien"]

    [delivery] = await _outbox(engine, INBOX, person)
    out = OfficeDeliveryV2.model_validate_json(delivery.value)
    assert b"Amina" not in delivery.value and b"Diabetes" not in delivery.value
    payload = await opened(engine, out.sealed, "troisdorf-abh", person)
    assert "health_notes" not in payload
    assert payload["person"] == {"given_name": "Amina", "family_name": "K."}
    assert payload["reason"] == "Prüfung § 25b AufenthG"
    assert (out.transfer_id, out.recipient_office, out.consent_id, out.consent_version) == (
        outcome.transfer_id, "troisdorf-abh", consent_id, 1)
    assert out.removed_categories == ["besondere_kategorien"]
    out_env = Envelope.from_headers(delivery.headers)
    assert out_env.id == f"{outcome.transfer_id}/delivery"
    assert out_env.subject == person and delivery.key == person
    assert out_env.recipientoffice == "troisdorf-abh" and out_env.consentid == consent_id

    [record] = await _log(engine, outcome.transfer_id)
    assert record.decision == "delivered" and record.stage == "delivery"
    assert record.categories_sent == ("falldaten", "stammdaten")
    assert record.categories_removed == ("besondere_kategorien",)
    assert (record.consent_id, record.consent_version) == (consent_id, 1)
    assert record.payload_sha256 == sealed_payload_digest(out.sealed)  # over the ciphertext
    assert record.person == AUDIT.pseudonym(person) and record.recipient_office == "troisdorf-abh"
    assert await _outbox(engine, topics.FEEDBACK, person) == []


async def test_consent_revoked_before_delivery_withholds_the_transfer(private_engine, directory):
    engine = private_engine
    consent_id, person, outcome = await _consent_and_request(engine, directory)
    assert outcome.status == "requested"
    async with engine.begin() as conn:
        await consents.revoke(conn, CM, consent_id, RevocationMethod.WRITTEN, AUDIT)

    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    await _run_worker(engine, directory, requested)

    status = await _status(engine, outcome.transfer_id)
    assert status["status"] == "withheld"
    assert [r["code"] for r in status["reasons"]] == ["consent_revoked"]
    assert await _outbox(engine, INBOX, person) == []

    [record] = await _log(engine, outcome.transfer_id)
    assert record.decision == "withheld" and record.stage == "delivery"
    assert record.reasons == ("consent_revoked",)
    assert record.categories_sent == ()

    [feedback] = await _outbox(engine, topics.FEEDBACK, person)
    refusal = RefusalV1.model_validate_json(feedback.value)
    assert refusal.transfer_id == outcome.transfer_id and refusal.decision == "withheld"
    assert [r.code for r in refusal.reasons] == ["consent_revoked"]
    fb_env = Envelope.from_headers(feedback.headers)
    assert fb_env.type == "de.nrw.kim.transfer.refusal.v1"
    assert fb_env.id == f"{outcome.transfer_id}/withheld"
    assert fb_env.recipientoffice == "rsk-kim"  # the feedback goes to the sender

    # a repeat of the request does not change the decision
    await _run_worker(engine, directory, requested)
    assert (await _status(engine, outcome.transfer_id))["status"] == "withheld"
    assert len(await _log(engine, outcome.transfer_id)) == 1
    assert len(await _outbox(engine, topics.FEEDBACK, person)) == 1


async def test_running_the_worker_twice_delivers_once(private_engine, directory):
    engine = private_engine
    _, person, outcome = await _consent_and_request(engine, directory)
    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)

    await _run_worker(engine, directory, requested)
    first_status = await _status(engine, outcome.transfer_id)
    await _run_worker(engine, directory, requested)

    assert await _status(engine, outcome.transfer_id) == first_status
    assert first_status["status"] == "delivered"
    assert len(await _outbox(engine, INBOX, person)) == 1
    assert [r.decision for r in await _log(engine, outcome.transfer_id)] == ["delivered"]
