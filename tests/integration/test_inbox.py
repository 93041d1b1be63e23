"""The office inbox on PostgreSQL, each call in its own unit of work: a clerk lists and reads only
their office's messages, a receipt is confirmed once and sent back on ``kim.feedback.v1`` in the
same commit, and a document is handed out only when a received message names it."""
from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from contracts.envelope import Envelope
from contracts.transfer import ReceiptV1
from services.checklists.tables import documents
from services.delivery import handlers, views
from services.delivery.commands import ConfirmReceipt
from services.delivery.tables import inbox_items
from services.infrastructure import topics
from services.infrastructure.tables import outbox
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_audit_log, make_keys
from tests.support.sealed import seal_statutory_item

AUDIT = make_audit_log()
DIRECTORY = None  # a statutory item is opened without the consent check, which needs the directory
PDF = b"%PDF-1.7 inbox test " + uuid.uuid4().bytes
PDF_SHA = hashlib.sha256(PDF).hexdigest()
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


def clerk(office: str) -> Actor:
    return Actor(f"clerk.{office}", office, roles=frozenset({Role.CLERK}))


def new_office() -> str:
    """An office of its own per test, so listings see only the test's items."""
    return f"test-{uuid.uuid4().hex[:12]}"


async def deliver(engine, office: str, minutes: int = 0, documents_: dict[str, bytes] | None = None) -> str:
    """A delivered item as the delivery side stores it: sealed for ``office`` (a statutory route, so
    the key service opens it on its statute; the consent check is tested in test_sealed_transfers)."""
    transfer_id, person = f"t-{uuid.uuid4().hex}", f"p-{uuid.uuid4().hex}"
    payload = {"note": "Bitte prüfen"} | ({"documents": [{"sha256": h} for h in documents_]} if documents_ else {})
    sealed = await seal_statutory_item(engine, office, payload, person, transfer_id, documents_)
    async with engine.begin() as conn:
        await conn.execute(insert(inbox_items).values(
            transfer_id=transfer_id, office=office, message_type="referral.v1", sender_office="rsk-kim",
            person=person, purpose="aufenthaltsperspektive", categories=["falldaten"], removed_categories=[],
            legal_basis="§ 87 AufenthG", delivered_at=T0 + timedelta(minutes=minutes), stored_at=T0, **sealed))
    return transfer_id


async def read(engine, actor: Actor, transfer_id: str) -> dict:
    return await views.item(uow(engine), actor, transfer_id, make_keys(), DIRECTORY)


async def read_document(engine, actor: Actor, transfer_id: str, sha256: str):
    return await views.document(uow(engine), actor, transfer_id, sha256, make_keys(), DIRECTORY)


async def _receipts(engine, transfer_id: str) -> list:
    receipt_id = outbox.c.headers["ce_id"].as_string() == f"{transfer_id}/receipt"
    async with engine.connect() as conn:
        return (await conn.execute(select(outbox).where(outbox.c.topic == topics.FEEDBACK, receipt_id))).all()


async def test_a_clerk_lists_their_office_newest_first_and_unread_only_on_request(engine):
    office, other = new_office(), new_office()
    older, newer = await deliver(engine, office, 1), await deliver(engine, office, 2)
    await deliver(engine, other)
    listed = await views.inbox(uow(engine), clerk(office))
    assert listed["office"] == office
    assert [i["transfer_id"] for i in listed["items"]] == [newer, older]
    assert "payload" not in listed["items"][0]
    assert [i["transfer_id"] for i in (await views.inbox(uow(engine), clerk(office), limit=1))["items"]] == [newer]

    await handlers.confirm_receipt(ConfirmReceipt(transfer_id=newer), clerk(office), uow(engine))
    unread = await views.inbox(uow(engine), clerk(office), unread_only=True)
    assert [i["transfer_id"] for i in unread["items"]] == [older]


async def test_a_clerk_reads_a_message_of_their_office_and_no_other(engine):
    office = new_office()
    transfer_id = await deliver(engine, office)
    item = await read(engine, clerk(office), transfer_id)
    assert item["payload"] == {"note": "Bitte prüfen"}
    assert (item["consent_id"], item["consent_version"], item["legal_basis"]) == (None, None, "§ 87 AufenthG")
    assert item["received_at"] is None
    for transfer in (transfer_id, "t-unknown"):
        with pytest.raises(NotFound, match="Nachricht nicht gefunden"):
            await read(engine, clerk(new_office()), transfer)


async def test_a_receipt_marks_the_item_and_goes_back_to_the_sender_in_the_same_commit(engine):
    office = new_office()
    transfer_id = await deliver(engine, office)
    confirmed = await handlers.confirm_receipt(ConfirmReceipt(transfer_id=transfer_id), clerk(office), uow(engine))
    assert confirmed["transfer_id"] == transfer_id and confirmed["received_by"] == f"clerk.{office}"
    item = await read(engine, clerk(office), transfer_id)
    assert (item["received_at"], item["received_by"]) == (confirmed["received_at"], f"clerk.{office}")

    [row] = await _receipts(engine, transfer_id)
    env = Envelope.from_headers(row.headers)
    assert (env.source, env.subject, env.recipientoffice) == ("urn:kimhub:delivery", item["person"], "rsk-kim")
    receipt = ReceiptV1.model_validate_json(row.value)
    assert (receipt.office, receipt.received_by, receipt.received_at) == (office, f"clerk.{office}",
                                                                           confirmed["received_at"])


async def test_a_second_receipt_is_refused_and_sends_nothing(engine):
    office = new_office()
    transfer_id = await deliver(engine, office)
    first = await handlers.confirm_receipt(ConfirmReceipt(transfer_id=transfer_id), clerk(office), uow(engine))
    with pytest.raises(Conflict, match="bereits bestätigt"):
        await handlers.confirm_receipt(ConfirmReceipt(transfer_id=transfer_id), clerk(office), uow(engine))
    assert len(await _receipts(engine, transfer_id)) == 1
    assert (await read(engine, clerk(office), transfer_id))["received_at"] == first["received_at"]


async def test_another_office_cannot_confirm_and_changes_nothing(engine):
    office = new_office()
    transfer_id = await deliver(engine, office)
    with pytest.raises(NotFound, match="Nachricht nicht gefunden"):
        await handlers.confirm_receipt(ConfirmReceipt(transfer_id=transfer_id), clerk(new_office()), uow(engine))
    assert await _receipts(engine, transfer_id) == []
    assert (await read(engine, clerk(office), transfer_id))["received_at"] is None


async def test_a_document_is_handed_out_only_when_a_received_message_names_it(engine):
    office = new_office()
    async with engine.begin() as conn:
        await conn.execute(insert(documents).values(
            id=f"d-{uuid.uuid4().hex}", office="rsk-kim", person="p-" + "0" * 32, title="Pass",
            media_type="application/pdf",
            sha256=PDF_SHA, size=len(PDF), content=b"sealed", uploaded_by="cm.rsk", uploaded_at=T0))
    missing_sha = hashlib.sha256(b"never uploaded").hexdigest()
    named = await deliver(engine, office, documents_={PDF_SHA: PDF})
    unnamed = await deliver(engine, office)

    found = await read_document(engine, clerk(office), named, PDF_SHA)
    assert (found.content, found.media_type) == (PDF, "application/pdf")
    for transfer_id, sha, actor in ((unnamed, PDF_SHA, clerk(office)), (named, missing_sha, clerk(office))):
        with pytest.raises(NotFound, match="Dokument nicht gefunden"):
            await read_document(engine, actor, transfer_id, sha)
    with pytest.raises(NotFound, match="Nachricht nicht gefunden"):
        await read_document(engine, clerk(new_office()), named, PDF_SHA)
