"""Request time: check consent at once and compose what accepting (transfer + its message) or
refusing (transfer + log record + refusal to the sender) writes; ``handlers.py`` writes it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from pydantic import BaseModel


from contracts.consent import RecipientSpec
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import Decision as DecisionKind
from contracts.transfer import ReasonV1, RefusalV1, SealedPayloadV1, TransferRequestedV2, TransferStatus
from services.audit.record import TransferLogRecord
from services.directory.model import Directory, NoCompetentOffice, UnknownOffice
from services.gate.evaluate import Evaluation, Question, evaluate_many
from services.gate.commands import SendTransfer
from services.gate.minimise import PayloadCategories, minimise, payload_categories, without
from services.gate.sealing import seal_documents, seal_parts, sealed_payload_digest, with_documents
from services.gate.ports import ConsentVersions, RestrictedPersons
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import InvalidInput
from services.kernel.identity import Actor
from services.keys.holder import Keys

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


class RecipientUnresolved(InvalidInput):
    """Refused before the gate: the named office is unknown, or no office of the kind is competent for
    the municipality. The sender gets the 422 as before; the refusal is logged (``unresolved_refusal``)."""

    def __init__(self, message: str, field: str, reason: str):
        super().__init__(message, field=field)
        self.reason = reason  # a reason code for the log: unknown_office | no_competent_office


def resolve_recipient(recipient: RecipientSpec, municipality: str, directory: Directory) -> str:
    """The named office, or the office of that kind competent for the person's municipality."""
    try:
        if recipient.office is not None:
            return directory.office(recipient.office).id
        return directory.resolve(recipient.kind, municipality).id
    except UnknownOffice:
        raise RecipientUnresolved("Unbekannte Stelle.", "recipient.office", "unknown_office") from None
    except NoCompetentOffice:
        raise RecipientUnresolved("Für diese Gemeinde ist keine zuständige Stelle dieser Art bekannt.",
                                  "municipality", "no_competent_office") from None


def unresolved_refusal(actor: Actor, exc: RecipientUnresolved, *, person: str, purpose: str, message_type: str,
                       recipient: RecipientSpec) -> TransferLogRecord:
    """The log record of a request refused before the gate: no transfer row, no payload, no message;
    the recipient as named (an office id that may be unknown), or none for a kind."""
    return TransferLogRecord(
        recorded_at=utcnow(), transfer_id=f"t-{uuid.uuid4().hex}", message_type=message_type,
        sender_office=actor.office, sender_user=actor.user, recipient_office=recipient.office or "", person=person,
        purpose=purpose, decision=DecisionKind.REFUSED.value, stage="request", reasons=(exc.reason,))


def outgoing(cmd: SendTransfer, directory: Directory) -> Outgoing:
    """A referral as the case manager wrote it (without a pre-check: nothing to read first)."""
    return Outgoing(
        person=cmd.person, municipality=cmd.municipality, recipient=cmd.recipient,
        recipient_office=resolve_recipient(cmd.recipient, cmd.municipality, directory), purpose=cmd.purpose.value,
        message_type=cmd.message_type, payload=cmd.payload)


@dataclass(frozen=True)
class Accepted:
    """A transfer the consent allows, minimised, not sealed yet."""

    transfer_id: str
    actor: Actor
    out: Outgoing
    data: dict  # the minimised payload's JSON data: only what the consent covers
    sent: PayloadCategories  # its fields by category
    evaluation: Evaluation


@dataclass
class Decided:
    """What ``decide_requests`` found for a group of transfers, not written yet."""

    rows: list[dict]  # transfers
    messages: list[tuple[str, Envelope, BaseModel]]  # outbox
    records: list[TransferLogRecord]  # refusals for the transfer log
    outcomes: list[Outcome]
    accepted: list[Accepted] = field(default_factory=list)  # to seal (``seal_accepted``)
    documents: list[dict] = field(default_factory=list)  # document copies sealed for their office


async def decide_requests(consents: ConsentVersions, items: list[tuple[Actor, Outgoing]],
                          directory: Directory, restrictions: RestrictedPersons | None = None) -> Decided:
    """Check each transfer against the consents (one query) and compose what refusing it writes;
    an accepted one is minimised (``seal_accepted`` seals and composes it)."""
    now = utcnow()
    evaluations = await evaluate_many(consents, directory, [
        Question(actor.office, out.person, out.recipient_office, out.purpose, payload_categories(out.payload),
                 out.message_type)
        for actor, out in items], now, restrictions)
    decided = Decided([], [], [], [])
    for (actor, out), ev in zip(items, evaluations):
        if out.policy_reasons:
            ev = replace(ev, policy_reasons=ev.policy_reasons + out.policy_reasons)
        _decide_one(decided, actor, out, ev, now)
    return decided


def _decide_one(decided: Decided, actor: Actor, out: Outgoing, ev: Evaluation, now) -> None:
    transfer_id = f"t-{uuid.uuid4().hex}"
    d = ev.decision
    if ev.allowed:
        # Minimised before anything is written: what the consent does not cover never reaches a table or topic.
        decided.accepted.append(Accepted(transfer_id, actor, out, minimise(out.payload, d.removed_categories),
                                         without(ev.categories, d.removed_categories), ev))
    else:
        decided.rows.append(_row(transfer_id, actor, out, ev, TransferStatus.REFUSED, "", now))
        record, message = refusal_effects(
            ev, DecisionKind.REFUSED, stage="request", transfer_id=transfer_id, message_type=out.message_type,
            sender_office=actor.office, sender_user=actor.user, recipient_office=out.recipient_office,
            person=out.person, purpose=out.purpose, payload_sha256="", now=now)  # nothing was sealed or sent
        decided.records.append(record)
        decided.messages.append(message)
    status = TransferStatus.REQUESTED if ev.allowed else TransferStatus.REFUSED
    decided.outcomes.append(Outcome(transfer_id, status, out.recipient_office, ev.reasons(), d.consent_id,
                                    d.consent_version))


def _row(transfer_id: str, actor: Actor, out: Outgoing, ev: Evaluation, status: TransferStatus, payload_sha256: str,
         now) -> dict:
    d = ev.decision
    return dict(
        id=transfer_id, message_type=out.message_type, sender_office=actor.office, sender_user=actor.user,
        person=out.person, municipality=out.municipality, recipient=out.recipient.model_dump(mode="json"),
        recipient_office=out.recipient_office, purpose=out.purpose, status=status.value,
        reasons=ev.reasons(), consent_id=d.consent_id, consent_version=d.consent_version,
        categories=sorted(d.sent_categories), removed_categories=sorted(d.removed_categories),
        payload_sha256=payload_sha256, requested_at=now, updated_at=now,
        in_reply_to=getattr(out.payload, "in_reply_to", None) or getattr(out.payload, "corrects", None),
    )


async def seal_accepted(decided: Decided, uow, keys: Keys) -> None:
    """Seal each accepted transfer for its recipient office (and the documents it names), then
    compose its row and its message to the gate."""
    now = utcnow()
    person_keys = await keys.person_keys(uow).for_sealing_many([a.out.person for a in decided.accepted], now)
    for a in decided.accepted:
        ring = keys.ring(a.out.recipient_office, now)
        sealed = seal_parts(a.data, a.sent, person_keys[a.out.person], ring, now)
        if a.data.get("documents"):
            stored = await uow.checklists.sealed_documents(a.actor.office, a.out.person)
            copies = seal_documents(a.data, stored, ring, now)
            sealed = with_documents(sealed, copies)
            decided.documents += [{"transfer_id": a.transfer_id, "sha256": h, "sealed": t.encode()}
                                  for h, t in copies.items()]
        decided.rows.append(_row(a.transfer_id, a.actor, a.out, a.evaluation, TransferStatus.REQUESTED,
                                 sealed_payload_digest(sealed), now))
        decided.messages.append(_requested(a, sealed, now))
    decided.accepted = []


def _requested(a: Accepted, sealed: SealedPayloadV1, now) -> tuple[str, Envelope, TransferRequestedV2]:
    """An accepted transfer's message to the gate: sealed, nothing readable."""
    ev, out, d = a.evaluation, a.out, a.evaluation.decision
    msg = TransferRequestedV2(
        transfer_id=a.transfer_id, message_type=out.message_type, sender_office=a.actor.office,
        sender_user=a.actor.user, person=out.person, municipality=out.municipality, recipient=out.recipient,
        recipient_office=out.recipient_office, purpose=out.purpose, sealed=sealed,
        removed_categories=sorted(d.removed_categories), requested_at=now,
        legal_basis=ev.statute)
    env = envelope(msg, a.transfer_id, out.person, now, consentid=d.consent_id, consentversion=d.consent_version,
                   purpose=out.purpose, recipientoffice=out.recipient_office, legalbasis=ev.legal_basis)
    return topics.TRANSFER_REQUESTED, env, msg


def refusal_effects(ev: Evaluation, decision: DecisionKind, *, stage: str, transfer_id: str, message_type: str,
                    sender_office: str, sender_user: str, recipient_office: str, person: str, purpose: str,
                    payload_sha256: str, now) -> tuple[TransferLogRecord, tuple[str, Envelope, RefusalV1]]:
    """What a refused or withheld transfer writes: its log record (naming the consent version that was
    checked, the one that came closest) and the refusal message to the sender."""
    consent_id, consent_version = checked_consent(ev)
    record = TransferLogRecord(
        recorded_at=now, transfer_id=transfer_id, message_type=message_type, sender_office=sender_office,
        sender_user=sender_user, recipient_office=recipient_office, person=person, purpose=purpose,
        decision=decision.value, stage=stage, categories_sent=(), categories_removed=(),
        reasons=ev.reason_codes(), payload_sha256=payload_sha256, legal_basis=ev.legal_basis,
        consent_id=consent_id, consent_version=consent_version,
    )
    refusal = RefusalV1(transfer_id=transfer_id, decision=decision.value, decided_at=now,
                        reasons=[ReasonV1(code=r["code"], message=r["message"],
                                          detail={k: v for k, v in r.items() if k not in ("code", "message")})
                                 for r in ev.reasons()])
    env = envelope(refusal, f"{transfer_id}/{decision.value}", person, now, recipientoffice=sender_office)
    return record, (topics.FEEDBACK, env, refusal)


def checked_consent(ev: Evaluation) -> tuple[str | None, int | None]:
    """The consent version a refusal was decided against (its reasons name it), or none (no consent
    on record, or a refusal by policy or law)."""
    return next(((r.consent_id, r.consent_version) for r in ev.decision.reasons if r.consent_id), (None, None))


def envelope(msg, event_id: str, person: str, now, **extensions) -> Envelope:
    info = by_model(type(msg))
    return Envelope(id=event_id, source=SOURCE, type=info.ce_type, subject=person, time=now,
                    dataschema=dataschema_uri(info), **extensions)
