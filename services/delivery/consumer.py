"""Office inboxes, the consumer of the inbox topics: store each delivered message in its office's
inbox (what clerks read and confirm: views.py, handlers.py)."""
from __future__ import annotations

from contracts.base import read_message
from contracts.transfer import OfficeDeliveryV1
from services.infrastructure.consumer import Message
from services.infrastructure.db import utcnow
from services.unit_of_work import HubUnitOfWork


async def on_messages(messages: list[Message], uow: HubUnitOfWork) -> None:
    """A transfer already in its inbox is left as it is (the gate decides a transfer once, so a second
    delivery can only be a repeat): the claims need not be read back, and claims and inbox rows are
    written as one statement at the commit."""
    async with uow:
        uow.claim_staged(messages)
        uow.inbox.add_deliveries([_row(read_message(OfficeDeliveryV1, m.body), utcnow()) for m in messages])
        await uow.commit()


def _row(msg: OfficeDeliveryV1, now) -> dict:
    return {
        "transfer_id": msg.transfer_id, "office": msg.recipient_office, "message_type": msg.message_type,
        "sender_office": msg.sender_office, "person": msg.person, "purpose": msg.purpose.value,
        "payload": msg.payload, "categories": msg.categories, "removed_categories": msg.removed_categories,
        "consent_id": msg.consent_id, "consent_version": msg.consent_version, "legal_basis": msg.legal_basis,
        "delivered_at": msg.delivered_at, "stored_at": now,
    }
