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
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import DeliveryRejectedV1, OfficeDeliveryV2
from contracts.revocation import RevocationNoticeV1
from services.delivery.handlers import SOURCE
from services.delivery.notices import NOTICE_TYPE, notice_rows
from services.crypto.errors import SignatureInvalid
from services.gate.sealing import signed_meta
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.infrastructure.db import utcnow
from services.infrastructure.errors import PermanentError
from services.keys.holder import Keys
from services.notifications.mail import NEW_ITEM
from services.unit_of_work import HubUnitOfWork


async def on_messages(messages: list[Message], uow: HubUnitOfWork, keys: Keys, notify: bool = False) -> None:
    """A transfer already in its inbox is left as it is (the gate decides a transfer once, so a second
    delivery can only be a repeat): the claims need not be read back, and claims and inbox rows are
    written as one statement at the commit. Revocation notices are stored beside them (``notices.py``).
    ``notify``: with the items a notification per item for its office (e-mail on:
    ``services/notifications``), likewise skipped on a repeat."""
    deliveries = [read_message(OfficeDeliveryV2, m.body) for m in messages if m.envelope.type != NOTICE_TYPE]
    received = [read_message(RevocationNoticeV1, m.body) for m in messages if m.envelope.type == NOTICE_TYPE]
    for msg in deliveries:
        if not signed_by_the_hub(msg, keys):
            await _reject(msg, uow)
    now = utcnow()
    rows = notice_rows(received, keys, now)
    async with uow:
        uow.claim_staged(messages)
        uow.inbox.add_deliveries([_row(msg, now) for msg in deliveries])
        uow.office_notices.add(rows)
        if notify:
            uow.notifications.add(NEW_ITEM, [(m.recipient_office, m.transfer_id) for m in deliveries], now)
        await uow.commit()


def signed_by_the_hub(msg: OfficeDeliveryV2, keys: Keys) -> bool:
    """Whether the hub signed exactly this delivery: its metadata and every sealed part's digest."""
    meta = signed_meta(msg, msg.sealed, [str(c) for c in msg.categories], msg.consent_id, msg.consent_version)
    try:
        keys.verifier.verify(msg.signature, meta)
    except SignatureInvalid:
        return False
    return True


async def _reject(msg: OfficeDeliveryV2, uow: HubUnitOfWork) -> None:
    """Not stored: dead-lettered with the reason, and, unless the office already holds an intact copy
    of this transfer (then this one is a forgery of it), a notice to the gate, which tells the sender."""
    async with uow:
        stored = await uow.inbox.get(msg.transfer_id) is not None
    raise PermanentError("delivery signature invalid: metadata or a sealed part was changed",
                         () if stored else (_rejected(msg),))


def _rejected(msg: OfficeDeliveryV2) -> tuple:
    now = utcnow()
    notice = DeliveryRejectedV1(transfer_id=msg.transfer_id, office=msg.recipient_office,
                                reason="signature_invalid", rejected_at=now)
    info = by_model(DeliveryRejectedV1)
    env = Envelope(id=f"{msg.transfer_id}/rejected", source=SOURCE, type=info.ce_type, subject=msg.person, time=now,
                   dataschema=dataschema_uri(info), recipientoffice=msg.sender_office)
    return topics.FEEDBACK, env, notice


def _row(msg: OfficeDeliveryV2, now) -> dict:
    return {
        "transfer_id": msg.transfer_id, "office": msg.recipient_office, "message_type": msg.message_type,
        "sender_office": msg.sender_office, "person": msg.person, "purpose": msg.purpose.value,
        "sealed": msg.sealed.model_dump(mode="json"), "signature": msg.signature, "categories": msg.categories,
        "removed_categories": msg.removed_categories, "consent_id": msg.consent_id,
        "consent_version": msg.consent_version, "legal_basis": msg.legal_basis, "delivered_at": msg.delivered_at,
        "stored_at": now,
    }
