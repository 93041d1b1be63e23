"""Art. 16 DSGVO on PostgreSQL: a rectification of a delivered transfer goes through the gate like a
referral (consent-gated for the office that received the original, its purpose and categories;
minimised; sealed), reaches that office linked to the original item, and is logged."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from contracts.consent import RevocationMethod
from contracts.envelope import Envelope
from contracts.rectification import RectificationV1
from services.audit.tables import transfer_log
from services.delivery import consumer as delivery_consumer
from services.gate import handlers
from services.gate.commands import SendRectification
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, INBOX, _outbox
from tests.integration.test_sealed_transfers import _delivered, _read
from tests.support import consents, gate


def rectification(transfer_id: str, **fields) -> SendRectification:
    return SendRectification(RectificationV1.model_validate({
        "corrects": transfer_id, "explanation": "Familienname falsch geschrieben",
        "person": {"given_name": "Amina", "family_name": "Kaya"}, **fields}))


async def _rectify(engine, directory, transfer_id: str, actor: Actor = CM, **fields):
    return await handlers.rectify(rectification(transfer_id, **fields), actor, HubUnitOfWork(engine, AUDIT),
                                  directory, make_keys())


async def _through_gate_and_delivery(engine, directory, person: str) -> None:
    """The gate decides the newest request about ``person``; the office stores the delivery."""
    requested = (await _outbox(engine, topics.TRANSFER_REQUESTED, person))[-1]
    async with engine.begin() as conn:
        await gate.consume(conn, [(Envelope.from_headers(requested.headers), requested.value)], directory, AUDIT)
    delivery = (await _outbox(engine, INBOX, person))[-1]
    await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers), delivery.value, None)],
                                        HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())


async def _log(engine, transfer_id: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.transfer_id == transfer_id, transfer_log.c.kind == "transfer")
            .order_by(transfer_log.c.seq))).all()
    return [json.loads(r.record) for r in rows]


async def test_a_rectification_reaches_the_office_linked_to_the_original_minimised_and_logged(
        private_engine, directory):
    engine = private_engine
    _, person, original = await _delivered(engine, directory)
    outcome = await _rectify(engine, directory, original, health_notes="Diabetes")  # Art. 9: not covered
    assert outcome.status == "requested" and outcome.recipient_office == "troisdorf-abh"
    requested = (await _outbox(engine, topics.TRANSFER_REQUESTED, person))[-1]
    assert b"Kaya" not in requested.value and b"Diabetes" not in requested.value  # sealed; health dropped

    await _through_gate_and_delivery(engine, directory, person)
    item = await _read(engine, directory, outcome.transfer_id)
    assert item["message_type"] == "rectification.v1" and item["corrects"] == original
    assert item["payload"]["person"] == {"given_name": "Amina", "family_name": "Kaya"}
    assert "health_notes" not in item["payload"] and item["removed_categories"] == ["besondere_kategorien"]
    assert (await _read(engine, directory, original))["rectifications"] == [outcome.transfer_id]

    [record] = await _log(engine, outcome.transfer_id)
    assert (record["message_type"], record["decision"]) == ("rectification.v1", "delivered")
    assert record["categories_removed"] == ["besondere_kategorien"]


async def test_only_the_sender_rectifies_and_only_what_was_delivered(private_engine, directory):
    engine = private_engine
    _, person, original = await _delivered(engine, directory)
    other_office = Actor("cm.me", "me-kim", roles=frozenset({Role.CASE_MANAGER}))
    for actor, transfer_id in ((other_office, original), (CM, "t-unknown")):
        with pytest.raises(NotFound, match="Übermittlung nicht gefunden"):
            await _rectify(engine, directory, transfer_id, actor)
    assert len(await _outbox(engine, topics.TRANSFER_REQUESTED, person)) == 1  # the original's only


async def test_a_rectification_the_consent_no_longer_covers_is_refused_and_logged(private_engine, directory):
    engine = private_engine
    consent_id, person, original = await _delivered(engine, directory)
    async with engine.begin() as conn:
        await consents.revoke(conn, CM, consent_id, RevocationMethod.WRITTEN, AUDIT)
    outcome = await _rectify(engine, directory, original)
    assert outcome.status == "refused" and [r["code"] for r in outcome.reasons] == ["consent_revoked"]
    [record] = await _log(engine, outcome.transfer_id)
    assert (record["message_type"], record["decision"], record["reasons"]) == (
        "rectification.v1", "refused", ["consent_revoked"])
