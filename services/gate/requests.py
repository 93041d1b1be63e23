"""Request time: check consent at once, then accept (transfer + outbox row) or refuse (logged)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from pydantic import BaseModel

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.consent import RecipientSpec
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import Decision as DecisionKind
from contracts.transfer import ReasonV1, RefusalV1, TransferRequestedV1, TransferStatus
from services.audit.log import AuditLog
from services.checklists import service as checklists
from services.audit.record import TransferLogRecord
from services.directory.model import Directory, NoCompetentOffice, UnknownOffice
from services.consent.repository import ConsentRepository
from services.gate.commands import SendTransfer
from services.gate.evaluate import LEGAL_BASIS_CONSENT, Evaluation, Question, digest, evaluate_many
from services.gate.tables import transfers
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import InvalidInput, NotFound
from services.kernel.identity import Actor
from services.infrastructure.bulk import Insert
from services.infrastructure.outbox import enqueue_together

SOURCE = "urn:kimhub:gate"


@dataclass(frozen=True)
class Outcome:
    transfer_id: str
    status: TransferStatus
    recipient_office: str
    reasons: list[dict] = field(default_factory=list)
    consent_id: str | None = None
    consent_version: int | None = None


@dataclass(frozen=True)
class Outgoing:
    """Any transfer as the gate sees it: referral, pre-checked referral, feedback or notice."""

    person: str
    municipality: str
    recipient: RecipientSpec
    recipient_office: str
    purpose: str
    message_type: str
    payload: BaseModel
    policy_reasons: tuple[dict, ...] = ()  # office policy refusals found before the consent check


def resolve_recipient(recipient: RecipientSpec, municipality: str, directory: Directory) -> str:
    """The named office, or the office of that kind competent for the person's municipality."""
    try:
        if recipient.office is not None:
            return directory.office(recipient.office).id
        return directory.resolve(recipient.kind, municipality).id
    except UnknownOffice:
        raise InvalidInput("Unbekannte Stelle.", field="recipient.office") from None
    except NoCompetentOffice:
        raise InvalidInput("Für diese Gemeinde ist keine zuständige Stelle dieser Art bekannt.",
                           field="municipality") from None


def outgoing(cmd: SendTransfer, directory: Directory) -> Outgoing:
    """A referral as the case manager wrote it (without a pre-check: nothing to read first)."""
    return Outgoing(
        person=cmd.person, municipality=cmd.municipality, recipient=cmd.recipient,
        recipient_office=resolve_recipient(cmd.recipient, cmd.municipality, directory), purpose=cmd.purpose.value,
        message_type=cmd.message_type, payload=cmd.payload)


async def send(conn: AsyncConnection, actor: Actor, cmd: SendTransfer, directory: Directory,
               audit: AuditLog) -> Outcome:
    """A referral as the case manager wrote it; with ``precheck_id`` a pre-checked referral that
    carries the stored checklist snapshot and its documents."""
    out = outgoing(cmd, directory)
    if cmd.precheck_id:
        payload, complete = await checklists.prechecked_payload(conn, actor, cmd.person, cmd.precheck_id, cmd.payload)
        policy = ()
        if not complete and not directory.office(out.recipient_office).accepts_open_items:
            policy = ({"code": "open_items_not_accepted",
                       "message": "Die empfangende Stelle nimmt nur vollständig vorgeprüfte Fälle an.",
                       "open_items": payload.checklist.open_items},)
        out = replace(out, message_type="prechecked-referral.v1", payload=payload, policy_reasons=policy)
    return await submit(conn, actor, out, directory, audit)


async def reply(conn: AsyncConnection, actor: Actor, in_reply_to: str, message_type: str, payload: BaseModel,
                directory: Directory, audit: AuditLog) -> Outcome:
    """The way back: the receiving office answers a transfer it received, to its sender."""
    original = (await conn.execute(select(transfers).where(transfers.c.id == in_reply_to))).first()
    if original is None or original.recipient_office != actor.office or original.status not in (
            TransferStatus.DELIVERED, TransferStatus.RECEIVED):
        raise NotFound("Übermittlung nicht gefunden.", field="in_reply_to")
    return await submit(conn, actor, Outgoing(
        person=original.person, municipality=original.municipality,
        recipient=RecipientSpec(office=original.sender_office), recipient_office=original.sender_office,
        purpose=original.purpose, message_type=message_type, payload=payload), directory, audit)


async def submit(conn: AsyncConnection, actor: Actor, out: Outgoing, directory: Directory,
                 audit: AuditLog) -> Outcome:
    """Check at once; accept (transfer row + outbox row, one transaction) or refuse (logged)."""
    return (await submit_many(conn, [(actor, out)], directory, audit))[0]


async def submit_many(conn: AsyncConnection, items: list[tuple[Actor, Outgoing]], directory: Directory,
                      audit: AuditLog) -> list[Outcome]:
    """``submit`` for several transfers in the caller's transaction, one statement per table."""
    decided = await decide_many(conn, items, directory)
    await write(conn, decided, audit)
    return decided.outcomes


@dataclass
class Decided:
    """What ``decide_many`` found for a group of transfers, not written yet."""

    rows: list[dict]  # transfers
    messages: list[tuple[str, Envelope, BaseModel]]  # outbox
    records: list[TransferLogRecord]  # refusals for the transfer log
    outcomes: list[Outcome]


async def write(conn: AsyncConnection, decided: Decided, audit: AuditLog) -> None:
    """Write what was decided inside the caller's transaction: transfers, outbox rows and, for
    refusals, the log append (after locking the log's head); on PostgreSQL as one statement."""
    _, log_writes = await audit.prepare_append(conn, decided.records)
    await enqueue_together(conn, [Insert(transfers, decided.rows), *log_writes], decided.messages)


async def write_at_once(conn: AsyncConnection, decided: Decided, audit: AuditLog) -> None:
    """``write`` on a PostgreSQL connection in autocommit mode: one statement, atomic by itself,
    no BEGIN/COMMIT. Not for refusals: the log head's lock must last until the append commits."""
    if decided.records:
        raise ValueError("refusals are logged in a transaction: use write()")
    await write(conn, decided, audit)


async def decide_many(conn: AsyncConnection, items: list[tuple[Actor, Outgoing]],
                      directory: Directory) -> Decided:
    """Check each transfer against the consents (one query) and compose what accepting or
    refusing it writes."""
    now = utcnow()
    evaluations = await evaluate_many(ConsentRepository(conn), directory, [
        Question(actor.office, out.person, out.recipient_office, out.purpose, out.payload, out.message_type)
        for actor, out in items], now)
    rows, messages, records, outcomes = [], [], [], []
    for (actor, out), ev in zip(items, evaluations):
        if out.policy_reasons:
            ev = replace(ev, policy_reasons=ev.policy_reasons + out.policy_reasons)
        transfer_id = f"t-{uuid.uuid4().hex}"
        payload = out.payload.model_dump(mode="json", exclude_none=True)
        payload_sha256 = digest(payload)
        d = ev.decision
        status = TransferStatus.REQUESTED if ev.allowed else TransferStatus.REFUSED
        rows.append(dict(
            id=transfer_id, message_type=out.message_type, sender_office=actor.office, sender_user=actor.user,
            person=out.person, municipality=out.municipality, recipient=out.recipient.model_dump(mode="json"),
            recipient_office=out.recipient_office, purpose=out.purpose, status=status.value,
            reasons=ev.reasons(), consent_id=d.consent_id, consent_version=d.consent_version,
            categories=sorted(d.sent_categories), removed_categories=sorted(d.removed_categories),
            payload_sha256=payload_sha256, requested_at=now, updated_at=now,
            in_reply_to=getattr(out.payload, "in_reply_to", None),
        ))
        if ev.allowed:
            statute = None if ev.legal_basis == LEGAL_BASIS_CONSENT else ev.legal_basis
            msg = TransferRequestedV1(
                transfer_id=transfer_id, message_type=out.message_type, sender_office=actor.office,
                sender_user=actor.user, person=out.person, municipality=out.municipality, recipient=out.recipient,
                recipient_office=out.recipient_office, purpose=out.purpose, payload=payload, requested_at=now,
                legal_basis=statute,
            )
            env = envelope(msg, transfer_id, out.person, now, consentid=d.consent_id,
                           consentversion=d.consent_version, purpose=out.purpose,
                           recipientoffice=out.recipient_office, legalbasis=ev.legal_basis)
            messages.append((topics.TRANSFER_REQUESTED, env, msg))
        else:
            record, message = refusal_effects(
                ev, DecisionKind.REFUSED, stage="request", transfer_id=transfer_id, message_type=out.message_type,
                sender_office=actor.office, sender_user=actor.user, recipient_office=out.recipient_office,
                person=out.person, purpose=out.purpose, payload_sha256=payload_sha256, now=now)
            records.append(record)
            messages.append(message)
        outcomes.append(Outcome(transfer_id, status, out.recipient_office, ev.reasons(), d.consent_id,
                                d.consent_version))
    return Decided(rows, messages, records, outcomes)


def refusal_effects(ev: Evaluation, decision: DecisionKind, *, stage: str, transfer_id: str, message_type: str,
                    sender_office: str, sender_user: str, recipient_office: str, person: str, purpose: str,
                    payload_sha256: str, now) -> tuple[TransferLogRecord, tuple[str, Envelope, RefusalV1]]:
    """What a refused or withheld transfer writes: its log record and the refusal message to the sender."""
    record = TransferLogRecord(
        recorded_at=now, transfer_id=transfer_id, message_type=message_type, sender_office=sender_office,
        sender_user=sender_user, recipient_office=recipient_office, person=person, purpose=purpose,
        decision=decision.value, stage=stage, categories_sent=(), categories_removed=(),
        reasons=ev.reason_codes(), payload_sha256=payload_sha256, legal_basis=ev.legal_basis,
    )
    refusal = RefusalV1(transfer_id=transfer_id, decision=decision.value, decided_at=now,
                        reasons=[ReasonV1(code=r["code"], message=r["message"],
                                          detail={k: v for k, v in r.items() if k not in ("code", "message")})
                                 for r in ev.reasons()])
    env = envelope(refusal, f"{transfer_id}/{decision.value}", person, now, recipientoffice=sender_office)
    return record, (topics.FEEDBACK, env, refusal)


def envelope(msg, event_id: str, person: str, now, **extensions) -> Envelope:
    info = by_model(type(msg))
    return Envelope(id=event_id, source=SOURCE, type=info.ce_type, subject=person, time=now,
                    dataschema=dataschema_uri(info), **extensions)


async def status(conn: AsyncConnection, actor: Actor, transfer_id: str) -> dict:
    row = (await conn.execute(select(transfers).where(transfers.c.id == transfer_id))).first()
    if row is None or row.sender_office != actor.office:
        raise NotFound("Übermittlung nicht gefunden.", field="transfer_id")
    return {
        "transfer_id": row.id, "status": row.status, "person": row.person, "purpose": row.purpose,
        "recipient_office": row.recipient_office, "message_type": row.message_type,
        "categories": row.categories, "removed_categories": row.removed_categories,
        "consent_id": row.consent_id, "consent_version": row.consent_version, "reasons": row.reasons,
        "requested_at": row.requested_at, "updated_at": row.updated_at,
    }
