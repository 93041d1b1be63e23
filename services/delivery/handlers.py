"""Confirm receipt of an inbox message: the item is marked and the receipt goes back to the gate on
``kim.feedback.v1``, in one unit of work."""
from __future__ import annotations

from datetime import datetime

from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import ReceiptV1, SealedPayloadV1
from contracts.revocation import ConfirmationOutcome, RevocationConfirmationV1
from services.delivery.commands import ConfirmNotice, ConfirmReceipt
from services.delivery.notices import OPEN, delete_named, notice_view
from services.delivery.views import own_item
from services.gate.sealing import sealed_payload_digest
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork

SOURCE = "urn:kimhub:delivery"


async def confirm_receipt(cmd: ConfirmReceipt, actor: Actor, uow: HubUnitOfWork) -> dict:
    async with uow:
        row = await own_item(uow, actor, cmd.transfer_id, for_update=True)  # one receipt, even when two clerks click
        if row.received_at is not None:
            raise Conflict("Der Eingang wurde bereits bestätigt.", field="transfer_id")
        now = utcnow()
        uow.inbox.mark_received(cmd.transfer_id, now, actor.user)
        receipt = ReceiptV1(transfer_id=cmd.transfer_id, office=actor.office, received_by=actor.user, received_at=now,
                            payload_sha256=sealed_payload_digest(SealedPayloadV1.model_validate(row.sealed)))
        await uow.outbox.add(topics.FEEDBACK, _envelope(cmd.transfer_id, row.person, row.sender_office, now), receipt)
        await uow.commit()
    return {"transfer_id": cmd.transfer_id, "received_at": now, "received_by": actor.user}


def _envelope(transfer_id: str, person: str, sender_office: str, now: datetime) -> Envelope:
    info = by_model(ReceiptV1)
    return Envelope(id=f"{transfer_id}/receipt", source=SOURCE, type=info.ce_type, subject=person, time=now,
                    dataschema=dataschema_uri(info), recipientoffice=sender_office)


async def confirm_notice(cmd: ConfirmNotice, actor: Actor, uow: HubUnitOfWork) -> dict:
    """The office deletes what a revocation notice names (the sealed parts and document copies, for
    real) or keeps it on the legal basis it names; the confirmation goes back to the hub on
    ``kim.feedback.v1``, in one unit of work."""
    async with uow:
        rows = await uow.office_notices.get(cmd.notice_id, for_update=True)  # one answer, even when two click
        if not rows or rows[0].office != actor.office:
            raise NotFound("Widerrufshinweis nicht gefunden.", field="notice_id")
        if rows[0].state != OPEN:
            raise Conflict("Der Widerrufshinweis ist bereits beantwortet.", field="notice_id")
        now = utcnow()
        if cmd.outcome == ConfirmationOutcome.DELETED:
            await delete_named(uow, actor.office, rows)
        uow.office_notices.confirm(cmd.notice_id, cmd.outcome.value, cmd.legal_basis, actor.user, now)
        confirmation = RevocationConfirmationV1(notice_id=cmd.notice_id, office=actor.office, outcome=cmd.outcome,
                                                legal_basis=cmd.legal_basis, confirmed_by=actor.user,
                                                confirmed_at=now)
        info = by_model(RevocationConfirmationV1)
        env = Envelope(id=f"{cmd.notice_id}/confirmation", source=SOURCE, type=info.ce_type, subject=rows[0].person,
                       time=now, dataschema=dataschema_uri(info), consentid=rows[0].consent_id,
                       recipientoffice=rows[0].sender_office)
        await uow.outbox.add(topics.FEEDBACK, env, confirmation)
        await uow.commit()
    return {**notice_view(rows), "state": cmd.outcome.value, "legal_basis": cmd.legal_basis,
            "confirmed_by": actor.user, "confirmed_at": now}
