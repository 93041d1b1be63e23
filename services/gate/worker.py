"""Delivery time, the gate's consumer: re-check consent, minimise, release to the office's inbox
topic or withhold; and receipts, which move a delivered transfer to ``received``.

One unit of work per batch, set-based: lock the transfers' rows, then the log's head, then read
the consents (a revocation is then either read here or waits and is logged after this batch), one
consent query for all; the statuses, the outbox rows and the log records are written at the commit,
on PostgreSQL as one statement.
"""
from __future__ import annotations

from datetime import datetime

from contracts.base import read_message
from contracts.payloads import PAYLOAD_CONTRACTS
from contracts.registry import by_model
from contracts.revocation import RevocationConfirmationV1
from contracts.transfer import (Decision, DeliveryRejectedV1, OfficeDeliveryV2, ReceiptV1, TransferRequestedV2,
                                TransferStatus)
from services.audit.record import TransferLogRecord
from services.directory.model import Directory, UnknownOffice
from services.gate import notices
from services.gate.evaluate import Evaluation, Question, evaluate_many
from services.gate.sealing import categories_of, dropping, sealed_payload_digest, signed_meta
from services.gate.requests import envelope, refusal_effects
from services.infrastructure import metrics, topics
from services.infrastructure.consumer import Message
from services.infrastructure.db import utcnow
from services.infrastructure.errors import PermanentError
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork

TRANSFER_REQUESTED_TYPE = by_model(TransferRequestedV2).ce_type
RECEIPT_TYPE = by_model(ReceiptV1).ce_type
REJECTED_TYPE = by_model(DeliveryRejectedV1).ce_type
CONFIRMATION_TYPE = by_model(RevocationConfirmationV1).ce_type
REJECTED = {"code": "delivery_rejected",
            "message": "Die empfangende Stelle hat die Nachricht nicht angenommen: ihre Signatur passte nicht zum "
                       "Inhalt (unterwegs verändert). Bitte die Übermittlung erneut senden und die IT-Stelle "
                       "informieren."}


async def on_messages(messages: list[Message], uow: HubUnitOfWork, directory: Directory, keys: Keys) -> None:
    """A batch of the gate's topics: transfer requests, then receipts and rejections by the recipient
    office (either can only follow its transfer's delivery, so they never depend on each other in one
    batch), and offices' confirmations of revocation notices (``notices.py``). Other feedback, the
    refusals the gate itself published, needs nothing."""
    async with uow:
        messages = await uow.claim(messages)
        todo = await _undecided(uow, [read_message(TransferRequestedV2, m.body) for m in messages
                                      if m.envelope.type == TRANSFER_REQUESTED_TYPE], directory)
        received = await _delivered(uow, [read_message(ReceiptV1, m.body) for m in messages
                                          if m.envelope.type == RECEIPT_TYPE])
        rejected = await _delivered(uow, [read_message(DeliveryRejectedV1, m.body) for m in messages
                                          if m.envelope.type == REJECTED_TYPE])
        confirmations = [read_message(RevocationConfirmationV1, m.body) for m in messages
                         if m.envelope.type == CONFIRMATION_TYPE]
        decided: list[TransferLogRecord] = []
        if todo or received or rejected or confirmations:
            head = await uow.log.lock_head()  # after the transfers' rows, before the consents
            now = utcnow()
            decided = await _decide(uow, todo, directory, keys, now)
            await uow.log.stage_append(decided + await _receive(uow, received, now) + _reject(uow, rejected, now)
                                       + await notices.confirmed(uow, confirmations, now), head)
        await uow.commit()
    metrics.count_transfers(("delivery", r.decision, r.recipient_office) for r in decided)


async def _undecided(uow: HubUnitOfWork, msgs: list[TransferRequestedV2], directory: Directory) -> list:
    """Lock the requested transfers' rows; those still to decide."""
    status = await uow.transfers.lock_statuses([m.transfer_id for m in msgs]) if msgs else {}
    todo = []
    for msg in msgs:
        if msg.transfer_id not in status:
            raise PermanentError("unknown transfer")
        if status[msg.transfer_id] != TransferStatus.REQUESTED:
            continue  # decided before (a repeat under another event id)
        status[msg.transfer_id] = "deciding"
        if msg.message_type not in PAYLOAD_CONTRACTS:
            raise PermanentError(f"unknown message type {msg.message_type}")
        try:
            directory.office(msg.recipient_office)
        except UnknownOffice:
            raise PermanentError("unknown recipient office") from None
        todo.append(msg)
    return todo


async def _delivered(uow: HubUnitOfWork, receipts: list) -> list[tuple]:
    """Lock the transfers of these receipts (or rejections); those delivered to the office that sends
    them (others: nothing to do)."""
    out = []
    for receipt in receipts:
        row = await uow.transfers.lock_delivered_to(receipt.transfer_id, receipt.office)
        if row is not None and row.status == TransferStatus.DELIVERED:
            out.append((receipt, row))
    return out


async def _decide(uow: HubUnitOfWork, todo: list[TransferRequestedV2], directory: Directory, keys: Keys,
                  now: datetime) -> list[TransferLogRecord]:
    """Deliver (minimised further if the consent now covers less) or withhold each transfer, from its
    metadata: nothing is opened. Stage statuses and messages; the log records."""
    evaluations = await evaluate_many(uow.consents, directory, [
        Question(msg.sender_office, msg.person, msg.recipient_office, msg.purpose.value, categories_of(msg.sealed),
                 msg.message_type)
        for msg in todo], now, uow.restrictions)
    records, messages, delivered, withheld = [], [], [], []
    for msg, ev in zip(todo, evaluations):
        if ev.allowed:
            status, message, record = _delivery(msg, ev, keys, now)
            delivered.append(status)
        else:
            withheld.append({"id": msg.transfer_id, "status": TransferStatus.WITHHELD.value,
                             "reasons": ev.reasons(), "updated_at": now})
            record, message = refusal_effects(
                ev, Decision.WITHHELD, stage="delivery", transfer_id=msg.transfer_id,
                message_type=msg.message_type, sender_office=msg.sender_office, sender_user=msg.sender_user,
                recipient_office=msg.recipient_office, person=msg.person, purpose=msg.purpose.value,
                payload_sha256=sealed_payload_digest(msg.sealed), now=now)
        records.append(record)
        messages.append(message)
    uow.transfers.update_many(delivered)
    uow.transfers.update_many(withheld)
    await uow.outbox.add_many(messages)
    return records


def _delivery(msg: TransferRequestedV2, ev: Evaluation, keys: Keys, now: datetime) -> tuple[dict, tuple, TransferLogRecord]:
    """A delivered transfer's new status, its signed message to the office's inbox, its log record."""
    d = ev.decision
    sent, removed = sorted(d.sent_categories), sorted(d.removed_categories | set(msg.removed_categories))
    sealed = dropping(msg.sealed, set(d.removed_categories))
    signature = keys.signer.sign(signed_meta(msg, sealed, sent, d.consent_id, d.consent_version))
    out = OfficeDeliveryV2(
        transfer_id=msg.transfer_id, message_type=msg.message_type, sender_office=msg.sender_office,
        recipient_office=msg.recipient_office, person=msg.person, purpose=msg.purpose, sealed=sealed,
        categories=sent, removed_categories=removed, consent_id=d.consent_id, consent_version=d.consent_version,
        legal_basis=ev.legal_basis, delivered_at=now, signature=signature)
    out_env = envelope(out, f"{msg.transfer_id}/delivery", msg.person, now, consentid=d.consent_id,
                       consentversion=d.consent_version, purpose=msg.purpose.value,
                       recipientoffice=msg.recipient_office, legalbasis=ev.legal_basis)
    status = {"id": msg.transfer_id, "status": TransferStatus.DELIVERED.value, "consent_id": d.consent_id,
              "consent_version": d.consent_version, "categories": sent, "removed_categories": removed,
              "payload_sha256": sealed_payload_digest(sealed), "updated_at": now}
    record = TransferLogRecord(
        recorded_at=now, transfer_id=msg.transfer_id, message_type=msg.message_type,
        sender_office=msg.sender_office, sender_user=msg.sender_user, recipient_office=msg.recipient_office,
        person=msg.person, purpose=msg.purpose.value, decision=Decision.DELIVERED.value, stage="delivery",
        categories_sent=tuple(sent), categories_removed=tuple(removed), consent_id=d.consent_id,
        consent_version=d.consent_version, legal_basis=ev.legal_basis, payload_sha256=sealed_payload_digest(sealed))
    return status, (topics.office_inbox(msg.recipient_office), out_env, out), record


async def _receive(uow: HubUnitOfWork, received: list[tuple[ReceiptV1, object]],
                   now: datetime) -> list[TransferLogRecord]:
    """Each receipt is logged with the digest the office names, bound to the delivery's digest (a
    different one is logged with the reason ``digest_mismatch``), and moves its transfer to
    ``received``; unless the consent it was delivered under has been revoked since: then the receipt
    is withheld (the sender is not told) and logged."""
    records, statuses = [], []
    for receipt, row in received:
        revoked = await uow.consents.revoked_at(row.consent_id) if row.consent_id else None
        withheld = revoked is not None and revoked <= now
        mismatch = receipt.payload_sha256 is not None and receipt.payload_sha256 != row.payload_sha256
        reasons = ("consent_revoked",) if withheld else ("digest_mismatch",) if mismatch else ()
        records.append(TransferLogRecord(
            recorded_at=now, transfer_id="r-" + row.id[2:], message_type="receipt.v1",
            sender_office=row.recipient_office, sender_user=receipt.received_by,
            recipient_office=row.sender_office, person=row.person, purpose=row.purpose,
            decision=(Decision.WITHHELD if withheld else Decision.RECEIVED).value, stage="delivery",
            consent_id=row.consent_id, consent_version=row.consent_version, reasons=reasons,
            payload_sha256=receipt.payload_sha256 or ""))
        if not withheld:
            statuses.append({"id": row.id, "status": TransferStatus.RECEIVED.value, "updated_at": now})
    uow.transfers.update_many(statuses)
    return records


def _reject(uow: HubUnitOfWork, rejected: list[tuple[DeliveryRejectedV1, object]],
            now: datetime) -> list[TransferLogRecord]:
    """The recipient office did not store a delivery: the transfer is ``rejected`` with the reason the
    sender sees, and logged."""
    uow.transfers.update_many([{"id": row.id, "status": TransferStatus.REJECTED.value, "reasons": [REJECTED],
                                "updated_at": now} for _, row in rejected])
    return [TransferLogRecord(
        recorded_at=now, transfer_id=row.id, message_type=row.message_type, sender_office=row.sender_office,
        sender_user=row.sender_user, recipient_office=row.recipient_office, person=row.person, purpose=row.purpose,
        decision=Decision.WITHHELD.value, stage="delivery", consent_id=row.consent_id,
        consent_version=row.consent_version, reasons=("delivery_rejected",), payload_sha256=row.payload_sha256)
        for notice, row in rejected]
