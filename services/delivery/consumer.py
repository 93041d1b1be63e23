"""Office inboxes, the consumer of the inbox topics: check each delivered message and store it,
still sealed, in its office's inbox (what clerks read and confirm: views.py, handlers.py).

Before storing, the office's side verifies the hub's signature over the delivery's metadata and the
digest of every sealed part and document copy: a changed ciphertext, a changed field or a foreign
signature fails it, and that delivery is not stored but goes to the dead-letter topic with the
reason. Nothing is opened here (opening costs an RSA private-key operation per part: it happens
when a clerk reads, after the key service's consent check).
"""
from __future__ import annotations

from contracts.base import read_message
from contracts.transfer import OfficeDeliveryV2
from services.crypto.errors import SignatureInvalid
from services.gate.sealing import signed_meta
from services.infrastructure.consumer import Message
from services.infrastructure.db import utcnow
from services.infrastructure.errors import PermanentError
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork


async def on_messages(messages: list[Message], uow: HubUnitOfWork, keys: Keys) -> None:
    """A transfer already in its inbox is left as it is (the gate decides a transfer once, so a second
    delivery can only be a repeat): the claims need not be read back, and claims and inbox rows are
    written as one statement at the commit."""
    deliveries = [read_message(OfficeDeliveryV2, m.body) for m in messages]
    for msg in deliveries:
        check_delivery(msg, keys)
    now = utcnow()
    async with uow:
        uow.claim_staged(messages)
        uow.inbox.add_deliveries([_row(msg, now) for msg in deliveries])
        await uow.commit()


def check_delivery(msg: OfficeDeliveryV2, keys: Keys) -> None:
    """PermanentError (→ dead letter, with the reason) unless the hub signed exactly this delivery."""
    meta = signed_meta(msg, msg.sealed, [str(c) for c in msg.categories], msg.consent_id, msg.consent_version)
    try:
        keys.verifier.verify(msg.signature, meta)
    except SignatureInvalid as exc:
        raise PermanentError(f"delivery signature invalid: {exc}") from None


def _row(msg: OfficeDeliveryV2, now) -> dict:
    return {
        "transfer_id": msg.transfer_id, "office": msg.recipient_office, "message_type": msg.message_type,
        "sender_office": msg.sender_office, "person": msg.person, "purpose": msg.purpose.value,
        "sealed": msg.sealed.model_dump(mode="json"), "signature": msg.signature, "categories": msg.categories,
        "removed_categories": msg.removed_categories, "consent_id": msg.consent_id,
        "consent_version": msg.consent_version, "legal_basis": msg.legal_basis, "delivered_at": msg.delivered_at,
        "stored_at": now,
    }
