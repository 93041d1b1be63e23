"""Revocation followed up (issue 17) on PostgreSQL, driven by hand like test_gate_worker: a revocation or
a narrowing after delivery notifies exactly the offices that received what is no longer covered; the
office stores the signed notice, stops reading, confirms deletion (the sealed content is gone) or
keeps the item on a legal basis (readable again); the hub records each step in the transfer log.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import select

from contracts.consent import ConsentTerms, RevocationMethod
from contracts.envelope import Envelope
from contracts.revocation import RevocationConfirmationV1, RevocationNoticeV1
from services.audit.tables import transfer_log
from services.checklists import handlers as checklist_handlers
from services.checklists.commands import UploadDocument
from services.delivery import consumer as delivery_consumer
from services.delivery import views
from services.delivery import handlers as delivery_handlers
from services.delivery import notice_views
from services.delivery.commands import ConfirmNotice
from services.delivery.tables import inbox_items
from services.gate import notice_views as hub_notices
from services.gate import views as gate_views
from services.gate.commands import SendTransfer
from services.gate.tables import revocation_notices
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.infrastructure.errors import PermanentError
from services.infrastructure.tables import outbox
from services.keys.tables import transfer_documents
from services.kernel.errors import Conflict, Forbidden, Gone, NotFound
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_checklists_service import PDF
from tests.integration.test_gate_worker import AUDIT, CM, TROISDORF
from tests.integration.test_sealed_transfers import CLERK, _read
from tests.support import consents, gate

JOBCENTER = Actor("clerk.rsk-jobcenter", "rsk-jobcenter", roles=frozenset({Role.CLERK}))
DPO = Actor("dpo", "rsk-kim", roles=frozenset({Role.DPO}))
DPO_ME = Actor("dpo.me", "me-kim", roles=frozenset({Role.DPO}))
NOTICE_TYPE = "de.nrw.kim.revocation.notice.v1"


def terms(abh: list[str], jobcenter: list[str] | None = None) -> ConsentTerms:
    provisions = [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"], "categories": abh}]
    if jobcenter:
        provisions.append({"recipient": {"office": "rsk-jobcenter"}, "purposes": ["aufenthaltsperspektive"],
                           "categories": jobcenter})
    return ConsentTerms.model_validate({
        "municipality": TROISDORF, "provisions": provisions,
        "valid_from": "2025-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z",
        "evidence": {"form_sha256": hashlib.sha256(b"form").hexdigest(), "form_version": "KIM-EW-2025-1",
                     "language": "de"}})


def referral(person: str, recipient: dict, with_person: bool = True, **extra) -> SendTransfer:
    payload = {"reason": "Prüfung § 25b AufenthG", "requested_action": "Beratungstermin anbieten", **extra}
    if with_person:
        payload["person"] = {"given_name": "Amina", "family_name": "K."}  # stammdaten
    return SendTransfer.model_validate({"person": person, "municipality": TROISDORF, "recipient": recipient,
                                        "purpose": "aufenthaltsperspektive", "payload": payload})


async def _rows(engine, person: str, topic: str, ce_type: str | None = None) -> list:
    """The outbox rows about ``person`` on ``topic`` (of ``ce_type``): the module shares one database."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.topic == topic).order_by(outbox.c.id))).all()
    return [r for r in rows if r.headers["ce_subject"] == person and (ce_type is None or r.headers["ce_type"] == ce_type)]


def _messages(rows) -> list[Message]:
    return [Message(Envelope.from_headers(r.headers), r.value, None) for r in rows]


async def _sent_and_stored(engine, directory, person: str, transfers: list[SendTransfer]) -> list[str]:
    """Each transfer requested, delivered by the gate and stored by its office: their ids."""
    ids = []
    for cmd in transfers:
        async with engine.begin() as conn:
            ids.append((await gate.send(conn, CM, cmd, directory, AUDIT)).transfer_id)
    await _gate(engine, directory, await _rows(engine, person, topics.TRANSFER_REQUESTED))
    for office in ("troisdorf-abh", "rsk-jobcenter"):
        await _office(engine, await _rows(engine, person, topics.office_inbox(office)))
    return ids


async def _gate(engine, directory, rows) -> None:
    async with engine.begin() as conn:
        await gate.consume(conn, [(m.envelope, m.body) for m in _messages(rows)], directory, AUDIT)


async def _office(engine, rows) -> None:
    if rows:
        await delivery_consumer.on_messages(_messages(rows), HubUnitOfWork(engine, AUDIT, consumer="delivery"),
                                            make_keys())


async def _notice_rows(engine, person: str) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(select(revocation_notices).where(revocation_notices.c.person == person)
                                   .order_by(revocation_notices.c.transfer_id))).all()


async def _revocation_log(engine, consent_id: str) -> list[dict]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.kind == "revocation", transfer_log.c.consent_id == consent_id)
            .order_by(transfer_log.c.seq))).all()
    return [json.loads(r.record) for r in rows]


async def _recorded(engine, directory, t: ConsentTerms) -> tuple[str, str]:
    async with engine.begin() as conn:
        consent_id, _, person = await consents.record(conn, CM, t, directory, AUDIT)
    return consent_id, person


async def _revoke(engine, consent_id: str) -> None:
    async with engine.begin() as conn:
        await consents.revoke(conn, CM, consent_id, RevocationMethod.WRITTEN, AUDIT)


async def _revoked_after_delivery(engine, directory) -> tuple:
    """A referral delivered to the Troisdorf ABH, then its consent revoked: consent id, person, transfer
    id and the notice's outbox row."""
    consent_id, person = await _recorded(engine, directory, terms(["stammdaten", "falldaten"]))
    [transfer_id] = await _sent_and_stored(engine, directory, person, [referral(person, {"kind": "abh"})])
    await _revoke(engine, consent_id)
    [message] = await _rows(engine, person, topics.office_inbox("troisdorf-abh"), NOTICE_TYPE)
    return consent_id, person, transfer_id, message


async def _confirm(engine, actor: Actor, notice_id: str, outcome: str, basis: str | None = None) -> dict:
    return await delivery_handlers.confirm_notice(
        ConfirmNotice(notice_id=notice_id, outcome=outcome, legal_basis=basis), actor, HubUnitOfWork(engine, AUDIT))


async def test_a_revocation_after_delivery_notifies_only_the_office_that_received(private_engine, directory):
    engine = private_engine
    consent_id, person = await _recorded(engine, directory, terms(["stammdaten", "falldaten"], ["falldaten"]))
    [transfer_id] = await _sent_and_stored(engine, directory, person, [referral(person, {"kind": "abh"})])
    await _revoke(engine, consent_id)

    [row] = await _notice_rows(engine, person)  # the jobcenter is covered too, but received nothing
    assert (row.transfer_id, row.office, row.sender_office, row.change, row.state) == (
        transfer_id, "troisdorf-abh", "rsk-kim", "revoked", "open")
    assert sorted(row.categories) == ["falldaten", "stammdaten"]
    [message] = await _rows(engine, person, topics.office_inbox("troisdorf-abh"), NOTICE_TYPE)
    assert await _rows(engine, person, topics.office_inbox("rsk-jobcenter"), NOTICE_TYPE) == []
    notice = RevocationNoticeV1.model_validate_json(message.value)
    assert (notice.notice_id, notice.consent_id, notice.consent_version, notice.change) == (
        row.notice_id, consent_id, 1, "revoked")
    assert [t.transfer_id for t in notice.transfers] == [transfer_id] and b"Amina" not in message.value
    assert message.key == person and message.headers["ce_recipientoffice"] == "troisdorf-abh"
    [logged] = await _revocation_log(engine, consent_id)
    assert (logged["decision"], logged["recipient_office"], logged["transfer_ids"]) == (
        "notice_sent", "troisdorf-abh", [transfer_id])
    assert logged["person"].startswith("k-")  # the keyed pseudonym, as every log record


async def test_a_narrowing_notifies_only_for_transfers_that_carried_the_dropped_category(private_engine, directory):
    engine = private_engine
    consent_id, person = await _recorded(engine, directory, terms(["stammdaten", "falldaten"], ["falldaten"]))
    with_person, without, jobcenter = await _sent_and_stored(engine, directory, person, [
        referral(person, {"kind": "abh"}), referral(person, {"kind": "abh"}, with_person=False),
        referral(person, {"office": "rsk-jobcenter"}, with_person=False)])
    async with engine.begin() as conn:
        await consents.amend(conn, CM, consent_id, terms(["falldaten"], ["falldaten"]), directory, AUDIT)

    [row] = await _notice_rows(engine, person)
    assert (row.transfer_id, row.office, row.change, row.categories) == (
        with_person, "troisdorf-abh", "narrowed", ["stammdaten"])
    [message] = await _rows(engine, person, topics.office_inbox("troisdorf-abh"), NOTICE_TYPE)
    notice = RevocationNoticeV1.model_validate_json(message.value)
    assert (notice.consent_version, notice.new_version) == (1, 2)
    await _office(engine, [message])
    with pytest.raises(Forbidden, match=f"Widerrufshinweis {row.notice_id}"):
        await _read(engine, directory, with_person)
    assert (await _read(engine, directory, without))["payload"]["reason"]  # not named: still readable

    await _confirm(engine, CLERK, row.notice_id, "deleted")
    item = await _read(engine, directory, with_person)  # what the new version covers opens again
    assert "person" not in item["payload"] and item["payload"]["reason"]
    async with engine.connect() as conn:
        stored = (await conn.execute(select(inbox_items.c.sealed).where(inbox_items.c.transfer_id == with_person))).one()
    assert set(stored.sealed["parts"]) == {"falldaten"} and "stammdaten" not in stored.sealed["fields"]["required"]
    # a second narrowing of the same category notifies no one again; the jobcenter was never affected
    async with engine.begin() as conn:
        await consents.amend(conn, CM, consent_id, terms(["falldaten"], ["falldaten"]), directory, AUDIT)
    assert len(await _notice_rows(engine, person)) == 1 and jobcenter


async def test_confirmed_deletion_removes_the_content_and_closes_the_notice_at_the_hub(private_engine, directory):
    engine = private_engine
    consent_id, person, transfer_id, message = await _revoked_after_delivery(engine, directory)
    await _office(engine, [message, message])  # a repeat is stored once
    [listed] = await _clerk_notices(engine, person)
    assert listed["state"] == "open" and listed["transfers"][0]["transfer_id"] == transfer_id
    with pytest.raises(NotFound):
        await notice_views.notice(HubUnitOfWork(engine, AUDIT), JOBCENTER, listed["notice_id"])
    with pytest.raises(NotFound):
        await _confirm(engine, JOBCENTER, listed["notice_id"], "deleted")
    with pytest.raises(Forbidden, match="Widerrufshinweis"):
        await _read(engine, directory, transfer_id)
    [waiting] = (await _timeline(engine, directory, person))["open_confirmations"]  # the case manager's view
    assert (waiting["notice_id"], waiting["office"]) == (listed["notice_id"], "troisdorf-abh")

    await _confirm(engine, CLERK, listed["notice_id"], "deleted")
    with pytest.raises(Conflict, match="bereits beantwortet"):
        await _confirm(engine, CLERK, listed["notice_id"], "kept", "§ 86 AufenthG")
    with pytest.raises(Gone, match="gelöscht"):
        await _read(engine, directory, transfer_id)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(inbox_items.c.sealed).where(inbox_items.c.transfer_id == transfer_id))).one()
    assert stored.sealed["parts"] == {} and stored.sealed["documents"] == {}

    [confirmation] = await _rows(engine, person, topics.FEEDBACK, "de.nrw.kim.revocation.confirmation.v1")
    assert RevocationConfirmationV1.model_validate_json(confirmation.value).outcome == "deleted"
    assert (await _dpo_states(engine, directory, DPO, person)) == ["open"]
    await _gate(engine, directory, [confirmation, confirmation])
    assert (await _dpo_states(engine, directory, DPO, person)) == ["deleted"]
    assert (await _dpo_states(engine, directory, DPO_ME, person)) == []  # another controller's
    assert [r["decision"] for r in await _revocation_log(engine, consent_id)] == ["notice_sent", "confirmed_deleted"]
    timeline = await _timeline(engine, directory, person)
    assert timeline["open_confirmations"] == [] and timeline["revocation_notices"][0]["state"] == "deleted"


async def test_kept_on_a_legal_basis_reads_again_and_the_hub_logs_the_basis(private_engine, directory):
    engine = private_engine
    consent_id, person, transfer_id, message = await _revoked_after_delivery(engine, directory)
    await _office(engine, [message])
    notice_id = RevocationNoticeV1.model_validate_json(message.value).notice_id
    await _confirm(engine, CLERK, notice_id, "kept", "§ 86 AufenthG (laufendes Verfahren)")
    item = await _read(engine, directory, transfer_id)
    assert item["payload"]["person"] == {"given_name": "Amina", "family_name": "K."}
    [confirmation] = await _rows(engine, person, topics.FEEDBACK, "de.nrw.kim.revocation.confirmation.v1")
    await _gate(engine, directory, [confirmation])
    [row] = await _notice_rows(engine, person)
    assert (row.state, row.legal_basis, row.confirmed_by) == (
        "kept", "§ 86 AufenthG (laufendes Verfahren)", "clerk.troisdorf-abh")
    logged = await _revocation_log(engine, consent_id)
    assert [(r["decision"], r["legal_basis"]) for r in logged] == [
        ("notice_sent", ""), ("kept_on_basis", "§ 86 AufenthG (laufendes Verfahren)")]


async def test_a_changed_notice_is_not_stored(private_engine, directory):
    engine = private_engine
    _, person, _, message = await _revoked_after_delivery(engine, directory)
    notice = RevocationNoticeV1.model_validate_json(message.value)
    changed = notice.model_copy(update={"consent_version": 2})
    with pytest.raises(PermanentError, match="signature invalid"):
        await delivery_consumer.on_messages(
            [Message(Envelope.from_headers(message.headers), changed.model_dump_json().encode(), None)],
            HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    assert await _clerk_notices(engine, person) == []


async def _timeline(engine, directory, person: str) -> dict:
    return await gate_views.timeline(HubUnitOfWork(engine, AUDIT), CM, person, date.today(), make_keys(), directory)


async def _clerk_notices(engine, person: str) -> list[dict]:
    return [n for n in (await notice_views.notices(HubUnitOfWork(engine, AUDIT), CLERK))["notices"]
            if n["person"] == person]


async def test_dropping_documents_deletes_the_office_copies_on_confirmation(private_engine, directory):
    engine = private_engine
    consent_id, person = await _recorded(engine, directory, terms(["stammdaten", "falldaten", "dokumente"]))
    doc = await checklist_handlers.upload_document(
        UploadDocument(person=person, title="Reisepass", declared_type="application/pdf", content=PDF), CM,
        HubUnitOfWork(engine, AUDIT), make_keys())
    cmd = referral(person, {"kind": "abh"}, documents=[{"title": "Reisepass", "media_type": "application/pdf",
                                                        "sha256": doc["sha256"]}])
    [transfer_id] = await _sent_and_stored(engine, directory, person, [cmd])
    assert await _document(engine, directory, transfer_id, doc["sha256"]) == PDF
    async with engine.begin() as conn:
        await consents.amend(conn, CM, consent_id, terms(["stammdaten", "falldaten"]), directory, AUDIT)
    [message] = await _rows(engine, person, topics.office_inbox("troisdorf-abh"), NOTICE_TYPE)
    notice = RevocationNoticeV1.model_validate_json(message.value)
    assert [t.categories for t in notice.transfers] == [["dokumente"]]
    await _office(engine, [message])
    with pytest.raises(Forbidden, match=notice.notice_id):
        await _document(engine, directory, transfer_id, doc["sha256"])

    await _confirm(engine, CLERK, notice.notice_id, "deleted")
    async with engine.connect() as conn:
        assert (await conn.execute(select(transfer_documents).where(
            transfer_documents.c.transfer_id == transfer_id))).first() is None
    with pytest.raises(NotFound):
        await _document(engine, directory, transfer_id, doc["sha256"])
    assert (await _read(engine, directory, transfer_id))["payload"]["person"]  # the rest is still covered


async def _document(engine, directory, transfer_id: str, sha256: str) -> bytes:
    found = await views.document(HubUnitOfWork(engine, AUDIT), CLERK, transfer_id, sha256, make_keys(), directory)
    return found.content


async def _dpo_states(engine, directory, actor: Actor, person: str) -> list[str]:
    return [n["state"] for n in (await hub_notices.for_dpo(HubUnitOfWork(engine, AUDIT), actor, directory))["notices"]
            if n["person"] == person]
