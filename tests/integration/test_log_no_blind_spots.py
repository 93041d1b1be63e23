"""The log has no blind spots (issue 17), on PostgreSQL: a request refused before the gate (no
recipient office) is logged; opening an inbox item, a document, a case timeline or the Art. 15
report is logged (who, when, what); a default the sender never sent (``urgency``) is neither sent
nor named as uncovered."""
from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from contracts.envelope import Envelope
from contracts.notice import EinbuergerungsmitteilungV1
from contracts.transfer import TransferRequestedV2
from services.audit import handlers as audit
from services.audit.commands import ReportAccess
from services.audit.note_keys import NoteSigner
from services.audit.report_html import render
from services.audit.tables import transfer_log
from services.delivery import views as inbox
from services.gate import handlers, views as gate_views
from services.gate.commands import SendNaturalisationNotice, SendTransfer
from services.gate.tables import transfers
from services.infrastructure import topics
from services.kernel.errors import InvalidInput
from services.kernel.identity import Actor, Role
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, TROISDORF, _outbox, referral
from tests.integration.test_inbox import PDF, PDF_SHA, clerk, deliver, new_office
from tests.integration.test_sealed_transfers import CLERK, _delivered

DPO = Actor("dpo.rsk", "rsk-kim", roles=frozenset({Role.DPO}))
EBH = Actor("clerk.rsk-ebh", "rsk-ebh", roles=frozenset({Role.CLERK}))
NOWHERE = "05999999"  # a well-formed municipality no office is competent for


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


async def _records(engine, person: str, kind: str) -> list[dict]:
    """The person's log records of ``kind``, in log order."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.person == AUDIT.pseudonym(person), transfer_log.c.kind == kind)
            .order_by(transfer_log.c.seq))).all()
    return [json.loads(r.record) for r in rows]


def _referral(person: str, **changes) -> SendTransfer:
    data = referral(person).model_dump(mode="json", exclude_unset=True)
    return SendTransfer.model_validate({**data, **changes})


# --- refused before the gate -----------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field, reason", [
    ({"recipient": {"office": "nirgendwo-abh"}}, "recipient.office", "unknown_office"),
    ({"municipality": NOWHERE}, "municipality", "no_competent_office"),
], ids=["unknown-office", "no-competent-office"])
async def test_a_request_refused_before_the_gate_is_logged(private_engine, directory, changes, field, reason):
    person = f"p-{uuid.uuid4().hex}"
    with pytest.raises(InvalidInput) as refused:
        await handlers.send(_referral(person, **changes), CM, uow(private_engine), directory, make_keys())
    assert refused.value.field == field  # the sender's 422 as before
    [record] = await _records(private_engine, person, "transfer")
    assert (record["decision"], record["stage"], record["reasons"]) == ("refused", "request", [reason])
    assert (record["sender_office"], record["sender_user"], record["purpose"]) == ("rsk-kim", "cm.rsk",
                                                                                   "aufenthaltsperspektive")
    assert record["recipient_office"] == changes.get("recipient", {}).get("office", "")
    assert record["person"] == AUDIT.pseudonym(person) and record["payload_sha256"] == ""
    assert "Amina" not in json.dumps(record)
    async with private_engine.connect() as conn:  # no transfer row: there is no recipient
        assert await conn.scalar(select(func.count()).select_from(transfers).where(transfers.c.person == person)) == 0


async def test_in_a_group_the_unresolved_request_is_logged_and_the_others_go_on(private_engine, directory):
    good, bad = f"p-{uuid.uuid4().hex}", f"p-{uuid.uuid4().hex}"
    results = await handlers.send_many([(_referral(good), CM), (_referral(bad, municipality=NOWHERE), CM)],
                                       uow(private_engine), directory, make_keys())
    assert results[0].status == "refused"  # decided by the gate: no consent for this person
    assert isinstance(results[1], InvalidInput) and results[1].field == "municipality"
    assert [r["reasons"] for r in await _records(private_engine, bad, "transfer")] == [["no_competent_office"]]
    assert [r["reasons"] for r in await _records(private_engine, good, "transfer")] == [["no_consent"]]


async def test_a_naturalisation_notice_without_a_competent_office_is_logged(private_engine, directory):
    person = f"p-{uuid.uuid4().hex}"
    notice = SendNaturalisationNotice(person, NOWHERE, payload=_notice())
    with pytest.raises(InvalidInput):
        await handlers.notify_naturalisation(notice, EBH, uow(private_engine), directory, make_keys())
    [record] = await _records(private_engine, person, "transfer")
    assert (record["message_type"], record["reasons"]) == ("notice.einbuergerung.v1", ["no_competent_office"])


def _notice() -> EinbuergerungsmitteilungV1:
    return EinbuergerungsmitteilungV1.model_validate({"person": {"given_name": "Amina"},
                                                      "naturalised_on": "2025-03-01"})


# --- reads ------------------------------------------------------------------------------------------------

async def test_opening_an_inbox_item_is_logged_with_who_and_when(private_engine, directory):
    _, person, transfer_id = await _delivered(private_engine, directory)
    assert await _records(private_engine, person, "access") == []  # delivering is not reading
    await inbox.inbox(uow(private_engine), CLERK)  # the listing (titles only) is not a read of content
    assert await _records(private_engine, person, "access") == []
    await inbox.item(uow(private_engine), CLERK, transfer_id, make_keys(), directory)
    [read] = await _records(private_engine, person, "access")
    assert (read["read"], read["transfer_id"], read["office"], read["user"], read["roles"]) == (
        "inbox_item", transfer_id, "troisdorf-abh", "clerk.troisdorf-abh", ["clerk"])
    assert read["recorded_at"].endswith("Z") and read["message_type"] == "referral.v1"
    assert read["person"] == AUDIT.pseudonym(person) and "Amina" not in json.dumps(read)


async def test_a_read_the_key_service_refuses_writes_nothing(private_engine, directory):
    _, person, transfer_id = await _delivered(private_engine, directory)
    other = Actor("clerk.rsk-abh", "rsk-abh", roles=frozenset({Role.CLERK}))
    with pytest.raises(Exception, match="nicht gefunden"):
        await inbox.item(uow(private_engine), other, transfer_id, make_keys(), directory)
    assert await _records(private_engine, person, "access") == []


async def test_opening_a_document_is_logged(engine):
    office = new_office()
    transfer_id = await deliver(engine, office, documents_={PDF_SHA: PDF})
    found = await inbox.document(uow(engine), clerk(office), transfer_id, PDF_SHA, make_keys(), None)
    assert found.content == PDF
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.record).where(
            transfer_log.c.transfer_id == transfer_id, transfer_log.c.kind == "access"))).all()
    [read] = [json.loads(r.record) for r in rows]
    assert (read["read"], read["document_sha256"], read["user"]) == ("document", PDF_SHA, f"clerk.{office}")


async def test_a_case_timeline_logs_each_item_it_opens(private_engine, directory):
    _, person, transfer_id = await _delivered(private_engine, directory)
    await gate_views.timeline(uow(private_engine), CLERK, person, date.today(), make_keys(),
                              directory)
    [read] = await _records(private_engine, person, "access")
    assert (read["read"], read["transfer_id"]) == ("timeline", transfer_id)


async def test_the_access_report_is_logged_and_lists_the_reads(private_engine, directory):
    _, person, transfer_id = await _delivered(private_engine, directory)
    await inbox.item(uow(private_engine), CLERK, transfer_id, make_keys(), directory)
    signer = NoteSigner.generate("kimhub.test/log")
    report = await audit.report_access(ReportAccess(person=person), DPO, uow(private_engine), signer, Settings(),
                                       directory)
    assert [r["read"] for r in report["reads"]] == ["inbox_item"]
    page = render(report, {"troisdorf-abh": "Ausländerbehörde Troisdorf"})
    assert "Wer Ihre Daten gelesen hat" in page and "Nachricht geöffnet" in page
    assert "Ausländerbehörde Troisdorf" in page
    reads = await _records(private_engine, person, "access")
    assert [(r["read"], r["user"], r["transfer_id"]) for r in reads] == [
        ("inbox_item", "clerk.troisdorf-abh", transfer_id), ("access_report", "dpo.rsk", None)]


# --- a default never sent ---------------------------------------------------------------------------------

async def test_a_default_the_sender_never_sent_is_not_sent(private_engine, directory):
    _, person, _ = await _delivered(private_engine, directory)  # the referral has no urgency
    [requested] = await _outbox(private_engine, topics.TRANSFER_REQUESTED, person)
    msg = TransferRequestedV2.model_validate_json(requested.value)
    assert "urgency" not in msg.sealed.fields.optional.get("falldaten", [])
    assert Envelope.from_headers(requested.headers).type == "de.nrw.kim.transfer.requested.v2"
