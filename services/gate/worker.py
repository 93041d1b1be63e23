"""Delivery time: re-check consent, minimise, release to the office's inbox topic, or withhold."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import read_message
from contracts.envelope import Envelope
from contracts.payloads import PAYLOAD_CONTRACTS
from contracts.registry import by_model
from contracts.transfer import Decision, OfficeDeliveryV1, ReceiptV1, TransferRequestedV1, TransferStatus
from services.audit.log import AuditLog
from services.audit.record import TransferLogRecord
from services.consent.repository import ConsentRepository
from services.directory.model import Directory, UnknownOffice
from services.gate.evaluate import Question, digest, evaluate_many
from services.gate.minimise import minimise
from services.gate.requests import envelope, refusal_effects
from services.gate.tables import transfers
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.infrastructure.messaging import PermanentError
from services.infrastructure.bulk import Update
from services.infrastructure.outbox import enqueue_together

TRANSFER_REQUESTED_TYPE = by_model(TransferRequestedV1).ce_type
RECEIPT_TYPE = by_model(ReceiptV1).ce_type
# Built once (composing the select costs more CPU than running it); ids in order, against deadlocks.
_LOCK_TRANSFERS = (select(transfers.c.id, transfers.c.status)
                   .where(transfers.c.id.in_(bindparam("ids", expanding=True)))
                   .order_by(transfers.c.id).with_for_update())


class GateWorker:
    def __init__(self, directory: Directory, audit: AuditLog):
        self.directory = directory
        self.audit = audit

    async def handle(self, conn: AsyncConnection, env: Envelope, body: bytes) -> None:
        """One consumer group for the gate's topics: dispatch by CloudEvents type."""
        await self.handle_many(conn, [(env, body)])

    async def handle_many(self, conn: AsyncConnection, items: list[tuple[Envelope, bytes]]) -> None:
        """A batch in one transaction: the transfer requests set-based, then the receipts.

        (A receipt can only follow its transfer's delivery, so the two kinds never depend on each
        other within a batch.) Other feedback, refusals the gate itself published, needs no action."""
        requested = [read_message(TransferRequestedV1, body) for env, body in items
                     if env.type == TRANSFER_REQUESTED_TYPE]
        if requested:
            await self.on_transfers_requested(conn, requested)
        for env, body in items:
            if env.type == RECEIPT_TYPE:
                await self.on_feedback(conn, env, body)

    async def on_transfer_requested(self, conn: AsyncConnection, env: Envelope, body: bytes) -> None:
        await self.on_transfers_requested(conn, [read_message(TransferRequestedV1, body)])

    async def on_transfers_requested(self, conn: AsyncConnection, msgs: list[TransferRequestedV1]) -> None:
        """Decide each requested transfer once: deliver (minimised) or withhold, with one query per
        step for the whole batch: lock the transfers, lock the log's head, read the consents, write
        outbox, status and log (on PostgreSQL in one statement)."""
        ids = sorted({m.transfer_id for m in msgs})
        status = dict((await conn.execute(_LOCK_TRANSFERS, {"ids": ids})).all())
        todo: list[tuple[TransferRequestedV1, object]] = []
        for msg in msgs:
            if msg.transfer_id not in status:
                raise PermanentError("unknown transfer")
            if status[msg.transfer_id] != TransferStatus.REQUESTED:
                continue  # decided before (a repeat under another event id)
            status[msg.transfer_id] = "deciding"
            contract = PAYLOAD_CONTRACTS.get(msg.message_type)
            if contract is None:
                raise PermanentError(f"unknown message type {msg.message_type}")
            payload = contract.model_validate(msg.payload)
            try:
                self.directory.office(msg.recipient_office)
            except UnknownOffice:
                raise PermanentError("unknown recipient office") from None
            todo.append((msg, payload))
        if not todo:
            return
        # The log's head before the consents: a revocation or amendment (made under the head lock)
        # is then either committed and read here, or waits for this batch and is logged after it.
        head = await self.audit.lock_head(conn)
        now = utcnow()
        evaluations = await evaluate_many(ConsentRepository(conn), self.directory, [
            Question(msg.sender_office, msg.person, msg.recipient_office, msg.purpose.value, payload, msg.message_type)
            for msg, payload in todo], now)
        records, messages, delivered, withheld = [], [], [], []
        for (msg, payload), ev in zip(todo, evaluations):
            if not ev.allowed:
                withheld.append({"id": msg.transfer_id, "status": TransferStatus.WITHHELD.value,
                                 "reasons": ev.reasons(), "updated_at": now})
                record, message = refusal_effects(
                    ev, Decision.WITHHELD, stage="delivery", transfer_id=msg.transfer_id,
                    message_type=msg.message_type, sender_office=msg.sender_office, sender_user=msg.sender_user,
                    recipient_office=msg.recipient_office, person=msg.person, purpose=msg.purpose.value,
                    payload_sha256=digest(msg.payload), now=now)
                records.append(record)
                messages.append(message)
                continue
            d = ev.decision
            sent, removed = sorted(d.sent_categories), sorted(d.removed_categories)
            delivered_payload = minimise(payload, d.removed_categories)
            out = OfficeDeliveryV1(
                transfer_id=msg.transfer_id, message_type=msg.message_type, sender_office=msg.sender_office,
                recipient_office=msg.recipient_office, person=msg.person, purpose=msg.purpose,
                payload=delivered_payload, categories=sent, removed_categories=removed, consent_id=d.consent_id,
                consent_version=d.consent_version, legal_basis=ev.legal_basis, delivered_at=now,
            )
            out_env = envelope(out, f"{msg.transfer_id}/delivery", msg.person, now, consentid=d.consent_id,
                               consentversion=d.consent_version, purpose=msg.purpose.value,
                               recipientoffice=msg.recipient_office, legalbasis=ev.legal_basis)
            messages.append((topics.office_inbox(msg.recipient_office), out_env, out))
            delivered.append({"id": msg.transfer_id, "status": TransferStatus.DELIVERED.value,
                              "consent_id": d.consent_id, "consent_version": d.consent_version,
                              "categories": sent, "removed_categories": removed,
                              "updated_at": now})
            records.append(TransferLogRecord(
                recorded_at=now, transfer_id=msg.transfer_id, message_type=msg.message_type,
                sender_office=msg.sender_office, sender_user=msg.sender_user, recipient_office=msg.recipient_office,
                person=msg.person, purpose=msg.purpose.value, decision=Decision.DELIVERED.value, stage="delivery",
                categories_sent=tuple(sent), categories_removed=tuple(removed),
                consent_id=d.consent_id, consent_version=d.consent_version, legal_basis=ev.legal_basis,
                payload_sha256=digest(delivered_payload),
            ))
        _, log_writes = await self.audit.prepare_append(conn, records, head=head)
        # On PostgreSQL one statement: outbox rows, both status updates and the log append.
        await enqueue_together(conn, [Update(transfers, delivered), Update(transfers, withheld), *log_writes],
                               messages)

    async def on_feedback(self, conn: AsyncConnection, env: Envelope, body: bytes) -> None:
        """Receipts from recipient offices move the sender's transfer to ``received``.

        A receipt carries nothing but the fact of receipt, under the consent the referral was
        delivered with: if that consent has been revoked since, the receipt is withheld (the
        sender is not told) and the log says so."""
        receipt = read_message(ReceiptV1, body)
        row = (await conn.execute(select(transfers).where(
            transfers.c.id == receipt.transfer_id, transfers.c.recipient_office == receipt.office)
            .with_for_update())).first()
        if row is None or row.status != TransferStatus.DELIVERED:
            return
        # The log's head before the consent, as for a decision (the transfer's row first, as there).
        head = await self.audit.lock_head(conn) if row.consent_id else None
        now = utcnow()
        revoked = await ConsentRepository(conn).revoked_at(row.consent_id) if row.consent_id else None
        if revoked is not None and revoked <= now:
            await self.audit.append(conn, TransferLogRecord(
                recorded_at=now, transfer_id="r-" + row.id[2:], message_type="receipt.v1",
                sender_office=row.recipient_office, sender_user=receipt.received_by,
                recipient_office=row.sender_office, person=row.person, purpose=row.purpose,
                decision=Decision.WITHHELD.value, stage="delivery", consent_id=row.consent_id,
                consent_version=row.consent_version, reasons=("consent_revoked",)), head)
            return
        await conn.execute(update(transfers).where(transfers.c.id == row.id)
                           .values(status=TransferStatus.RECEIVED.value, updated_at=now))
