"""Confirm receipt of an inbox message: the item is marked and the receipt goes back to the gate on
``kim.feedback.v1``, in one unit of work."""
from __future__ import annotations

from datetime import datetime

from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import ReceiptV1, SealedPayloadV1
from services.delivery.commands import ConfirmReceipt
from services.delivery.views import own_item
from services.gate.sealing import sealed_payload_digest
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict
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
