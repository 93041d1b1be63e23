"""The sealed path on PostgreSQL: what is stored opens only for the recipient office, and only while
the consent it was delivered under still covers it (the cryptographic consent gate); a person's
destroyed keys leave every stored copy unreadable; a rotated office key keeps old items open.

Driven by hand like test_gate_worker: request → outbox row → gate worker → delivery consumer → read.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contracts.consent import RevocationMethod
from contracts.envelope import Envelope
from contracts.transfer import OfficeDeliveryV2, TransferRequestedV2
from services.crypto.errors import KeyDestroyed
from services.crypto.key_store import OfficeKeyStore
from services.crypto.layers import open_layers
from services.crypto.person_keys import PersonKeys
from services.crypto.seal import protected_header
from services.delivery import consumer as delivery_consumer
from services.delivery import views
from services.delivery.tables import inbox_items
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.infrastructure.db import utcnow
from services.infrastructure.errors import PermanentError
from services.infrastructure.tables import outbox
from services.kernel.errors import Forbidden, NotFound
from services.kernel.identity import Actor, Role
from services.keys.holder import Keys
from services.keys.repository import PersonKeyRepository
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, INBOX, _consent_and_request, _outbox
from tests.support import consents, gate

CLERK = Actor("clerk.troisdorf-abh", "troisdorf-abh", roles=frozenset({Role.CLERK}))


async def _delivered(engine, directory):
    """A referral requested, decided by the gate and stored by the office: (consent id, person, transfer id)."""
    consent_id, person, outcome, delivery = await _decided(engine, directory)
    await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers), delivery.value, None)],
                                        HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    return consent_id, person, outcome.transfer_id


async def _decided(engine, directory):
    """A referral requested and decided by the gate: consent id, person, outcome, its delivery's outbox row."""
    consent_id, person, outcome = await _consent_and_request(engine, directory)
    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    async with engine.begin() as conn:
        await gate.consume(conn, [(Envelope.from_headers(requested.headers), requested.value)], directory, AUDIT)
    [delivery] = await _outbox(engine, INBOX, person)
    return consent_id, person, outcome, delivery


async def _read(engine, directory, transfer_id: str, keys: Keys | None = None) -> dict:
    return await views.item(HubUnitOfWork(engine, AUDIT), CLERK, transfer_id, keys or make_keys(), directory)


async def test_the_office_reads_what_its_consent_covers_and_nothing_is_readable_at_rest(private_engine, directory):
    engine = private_engine
    _, person, transfer_id = await _delivered(engine, directory)
    item = await _read(engine, directory, transfer_id)
    assert item["payload"]["person"] == {"given_name": "Amina", "family_name": "K."}
    assert "health_notes" not in item["payload"]
    async with engine.connect() as conn:
        stored = (await conn.execute(select(inbox_items).where(inbox_items.c.transfer_id == transfer_id))).one()
        values = [r.value for r in (await conn.execute(select(outbox).where(outbox.c.key == person))).all()]
    assert "Amina" not in str(stored._mapping) and all(b"Amina" not in v for v in values)
    assert set(stored.sealed["parts"]) == {"falldaten", "stammdaten"} and stored.signature


async def test_a_revoked_consent_closes_items_already_delivered(private_engine, directory):
    engine = private_engine
    consent_id, _, transfer_id = await _delivered(engine, directory)
    async with engine.begin() as conn:
        await consents.revoke(conn, CM, consent_id, RevocationMethod.WRITTEN, AUDIT)
    with pytest.raises(Forbidden, match="deckt das Lesen nicht mehr ab"):
        await _read(engine, directory, transfer_id)


async def test_a_forged_consent_reference_gets_no_key(private_engine, directory):
    engine = private_engine
    _, _, transfer_id = await _delivered(engine, directory)
    other_consent, _, _ = await _consent_and_request(engine, directory)  # a real consent, of another person
    for forged in ({"consent_id": other_consent}, {"consent_version": 2}, {"consent_id": None, "consent_version": None}):
        async with engine.begin() as conn:
            original = (await conn.execute(select(inbox_items.c.consent_id, inbox_items.c.consent_version)
                                           .where(inbox_items.c.transfer_id == transfer_id))).one()
            await conn.execute(update(inbox_items).where(inbox_items.c.transfer_id == transfer_id).values(**forged))
        with pytest.raises(Forbidden, match="nicht die Einwilligung"):
            await _read(engine, directory, transfer_id)
        async with engine.begin() as conn:
            await conn.execute(update(inbox_items).where(inbox_items.c.transfer_id == transfer_id)
                               .values(consent_id=original.consent_id, consent_version=original.consent_version))
    assert (await _read(engine, directory, transfer_id))["payload"]["reason"]


async def test_destroyed_person_keys_leave_no_stored_copy_readable(private_engine, directory):
    engine = private_engine
    keys = make_keys()
    _, person, transfer_id = await _delivered(engine, directory)
    async with engine.connect() as conn:
        tokens = [t for r in (await conn.execute(select(outbox.c.value).where(outbox.c.key == person))).all()
                  if (v := r.value).startswith(b"{") and b'"sealed"' in v
                  for t in _tokens(v)]
    assert len(tokens) == 4  # two parts on the way to the gate, two on the way to the office
    async with engine.begin() as conn:
        assert await PersonKeys(PersonKeyRepository(conn), keys.master).destroy(person) == 1
    ring = keys.ring("troisdorf-abh", utcnow())
    async with engine.connect() as conn:
        for token in tokens:
            with pytest.raises(KeyDestroyed):
                await open_layers(token, ring, PersonKeys(PersonKeyRepository(conn), keys.master))
    with pytest.raises(NotFound, match="Schlüssel der Person wurden vernichtet"):
        await _read(engine, directory, transfer_id)


async def test_a_rotated_office_key_keeps_old_items_open_and_seals_new_ones_with_the_new_key(
        private_engine, directory, tmp_path):
    engine = private_engine
    shared = make_keys()
    keys = Keys(OfficeKeyStore(tmp_path), shared.master, shared.signer, generate=True)
    _, _, old = await _delivered_with(engine, directory, keys)
    now = utcnow()
    old_kid = keys.ring("troisdorf-abh", now).sealing_key(now).kid
    keys.offices.save(keys.ring("troisdorf-abh", now).rotate(now, timedelta(days=30)))
    new_kid = keys.ring("troisdorf-abh", now).sealing_key(now).kid
    assert new_kid != old_kid
    _, person, new = await _delivered_with(engine, directory, keys)
    [delivery] = await _outbox(engine, INBOX, person)
    assert {protected_header(t)["kid"] for t in OfficeDeliveryV2.model_validate_json(delivery.value).sealed.parts.values()} == {new_kid}
    assert (await _read(engine, directory, old, keys))["payload"]["reason"]  # during the overlap
    assert (await _read(engine, directory, new, keys))["payload"]["reason"]
    keys.offices.save(keys.ring("troisdorf-abh", now).prune(now + timedelta(days=31)))
    with pytest.raises(Exception):
        await _read(engine, directory, old, keys)  # after the overlap the old key is gone


async def test_a_delivery_with_a_changed_part_or_signature_is_not_stored(private_engine, directory):
    engine = private_engine
    _, _, outcome, delivery = await _decided(engine, directory)
    good = OfficeDeliveryV2.model_validate_json(delivery.value)
    token = good.sealed.parts["falldaten"]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]  # the GCM tag
    for bad in (good.model_copy(update={"sealed": good.sealed.model_copy(
                    update={"parts": {**good.sealed.parts, "falldaten": flipped}})}),
                good.model_copy(update={"signature": good.signature[:-4] + "AAAA"}),
                good.model_copy(update={"consent_version": 2})):
        with pytest.raises(PermanentError, match="signature invalid"):
            await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers),
                                                         bad.model_dump_json().encode(), None)],
                                                HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    async with engine.connect() as conn:
        assert (await conn.execute(select(inbox_items).where(inbox_items.c.transfer_id == outcome.transfer_id))).first() is None


async def test_a_rejected_delivery_tells_the_sender_why(private_engine, directory):
    engine = private_engine
    _, _, outcome, delivery = await _decided(engine, directory)
    changed = OfficeDeliveryV2.model_validate_json(delivery.value).model_copy(update={"consent_version": 2})
    with pytest.raises(PermanentError) as raised:
        await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers),
                                                     changed.model_dump_json().encode(), None)],
                                            HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    [(topic, env, notice)] = raised.value.notices
    assert topic == topics.FEEDBACK and (notice.transfer_id, notice.office) == (outcome.transfer_id, "troisdorf-abh")
    async with engine.begin() as conn:
        await gate.consume(conn, [(env, notice.model_dump_json().encode())], directory, AUDIT)
        status = await gate.status(conn, CM, outcome.transfer_id, AUDIT)
    assert status["status"] == "rejected" and [r["code"] for r in status["reasons"]] == ["delivery_rejected"]
    assert "nicht angenommen" in status["reasons"][0]["message"]
    await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers), delivery.value, None)],
                                        HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    with pytest.raises(PermanentError) as again:  # a changed copy of an intact stored delivery: a forgery
        await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers),
                                                     changed.model_dump_json().encode(), None)],
                                            HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    assert again.value.notices == ()


async def _delivered_with(engine, directory, keys: Keys):
    """Like ``_delivered``, sealing and opening with ``keys`` (a key store of the test's own)."""
    from services.gate import handlers, worker
    from tests.integration.test_gate_worker import consent_terms, referral

    async with engine.begin() as conn:
        consent_id, _, person = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
    outcome = await handlers.send(referral(person), CM, HubUnitOfWork(engine, AUDIT), directory, keys)
    [requested] = await _outbox(engine, topics.TRANSFER_REQUESTED, person)
    await worker.on_messages([Message(Envelope.from_headers(requested.headers), requested.value, None)],
                             HubUnitOfWork(engine, AUDIT, consumer="gate"), directory, keys)
    [delivery] = await _outbox(engine, INBOX, person)
    await delivery_consumer.on_messages([Message(Envelope.from_headers(delivery.headers), delivery.value, None)],
                                        HubUnitOfWork(engine, AUDIT, consumer="delivery"), keys)
    return consent_id, person, outcome.transfer_id


def _tokens(value: bytes) -> list[str]:
    import json
    data = json.loads(value)
    return list(data["sealed"]["parts"].values()) if "sealed" in data else []
