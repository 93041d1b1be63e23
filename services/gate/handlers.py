"""Request time, one handler per command: send a referral, answer a received transfer, send the
statutory naturalisation notice. Each checks consent at once and, in one unit of work, accepts the
transfer (its row and its message) or refuses it (its row, a log record and the refusal to the sender).

Referrals that arrive together are committed together (``send_many``: the bus gathers them, see
``services/bus.py``), one consent query and one write for the group.
"""
from __future__ import annotations

from dataclasses import replace

from contracts.agency import OfficeKind
from contracts.consent import RecipientSpec
from contracts.purposes import Purpose
from contracts.transfer import TransferStatus
from services.audit.record import TransferLogRecord
from services.checklists import views as checklists
from services.directory.model import Directory
from services.gate.commands import Reply, SendNaturalisationNotice, SendRectification, SendTransfer
from services.gate.requests import (Decided, Outcome, Outgoing, RecipientUnresolved, decide_requests, outgoing,
                                    resolve_recipient, seal_accepted, unresolved_refusal)
from services.infrastructure import metrics
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.keys.holder import Keys
from services.notifications.schedule import schedule_overdue_notice
from services.unit_of_work import HubUnitOfWork

RECTIFICATION = "rectification.v1"
OPEN_ITEMS_NOT_ACCEPTED = {"code": "open_items_not_accepted",
                           "message": "Die empfangende Stelle nimmt nur vollständig vorgeprüfte Fälle an."}


async def send(cmd: SendTransfer, actor: Actor, uow: HubUnitOfWork, directory: Directory, keys: Keys) -> Outcome:
    """A referral as the case manager wrote it; with ``precheck_id`` a pre-checked referral that
    carries the stored checklist snapshot and its documents."""
    (result,) = await send_many([(cmd, actor)], uow, directory, keys)
    if isinstance(result, Exception):
        raise result
    return result


async def send_many(items: list[tuple[SendTransfer, Actor]], uow: HubUnitOfWork, directory: Directory,
                    keys: Keys) -> list[Outcome | RecipientUnresolved]:
    """Each referral's outcome, or the error of one refused before the gate (no recipient office:
    logged in the same unit of work; the group commit raises it to its caller)."""
    async with uow:
        resolved, unresolved = [], {}
        for i, (cmd, actor) in enumerate(items):
            try:
                resolved.append((actor, await _with_precheck(uow, actor, cmd, directory)))
            except RecipientUnresolved as exc:
                unresolved[i] = (exc, unresolved_refusal(actor, exc, person=cmd.person, purpose=cmd.purpose.value,
                                                         message_type=cmd.message_type, recipient=cmd.recipient))
        outcomes = iter(await _submit(uow, resolved, directory, keys, [r for _, r in unresolved.values()]))
        await uow.commit()
    results = [unresolved[i][0] if i in unresolved else next(outcomes) for i in range(len(items))]
    _count([r for r in results if isinstance(r, Outcome)])
    return results


def _count(outcomes: list[Outcome]) -> None:
    """Committed request-time decisions, for the operators' metrics."""
    metrics.count_transfers(("request", o.status.value, o.recipient_office) for o in outcomes)


async def reply(cmd: Reply, actor: Actor, uow: HubUnitOfWork, directory: Directory, keys: Keys,
                settings: Settings | None = None) -> Outcome:
    """The way back: the receiving office answers a transfer it received, to its sender. A
    Nachforderung sent (e-mail on) brings its overdue notice for the day after its deadline."""
    async with uow:
        original = await uow.transfers.get(cmd.in_reply_to)
        if original is None or original.recipient_office != actor.office or original.status not in (
                TransferStatus.DELIVERED, TransferStatus.RECEIVED):
            raise NotFound("Übermittlung nicht gefunden.", field="in_reply_to")
        (outcome,) = await _submit(uow, [(actor, Outgoing(
            person=original.person, municipality=original.municipality,
            recipient=RecipientSpec(office=original.sender_office), recipient_office=original.sender_office,
            purpose=original.purpose, message_type=cmd.message_type, payload=cmd.payload))], directory, keys)
        if settings is not None and settings.mail_enabled:
            schedule_overdue_notice(uow, cmd.payload, outcome, original.sender_office)
        await uow.commit()
    _count([outcome])
    return outcome


async def rectify(cmd: SendRectification, actor: Actor, uow: HubUnitOfWork, directory: Directory,
                  keys: Keys) -> Outcome:
    """Art. 16 DSGVO: a correction of a transfer this office sent and that was delivered, to the office
    that received it, for the original's purpose; through the gate like the original (consent, then
    minimised and sealed). Several offices that received the same wrong data get one each."""
    async with uow:
        original = await uow.transfers.get(cmd.payload.corrects)
        if original is None or original.sender_office != actor.office or original.status not in (
                TransferStatus.DELIVERED, TransferStatus.RECEIVED):
            raise NotFound("Übermittlung nicht gefunden.", field="transfer_id")
        (outcome,) = await _submit(uow, [(actor, Outgoing(
            person=original.person, municipality=original.municipality,
            recipient=RecipientSpec.model_validate(original.recipient), recipient_office=original.recipient_office,
            purpose=original.purpose, message_type=RECTIFICATION, payload=cmd.payload))], directory, keys)
        await uow.commit()
    _count([outcome])
    return outcome


async def notify_naturalisation(cmd: SendNaturalisationNotice, actor: Actor, uow: HubUnitOfWork,
                                directory: Directory, keys: Keys) -> Outcome:
    """To the immigration office competent for the person's municipality (a statutory route)."""
    spec, purpose, message_type = (RecipientSpec(kind=OfficeKind.ABH), Purpose.EINBUERGERUNG.value,
                                   "notice.einbuergerung.v1")
    async with uow:
        try:
            office = resolve_recipient(spec, cmd.municipality, directory)
        except RecipientUnresolved as exc:
            await uow.log.stage_append([unresolved_refusal(actor, exc, person=cmd.person, purpose=purpose,
                                                           message_type=message_type, recipient=spec)])
            await uow.commit()
            raise
        out = Outgoing(person=cmd.person, municipality=cmd.municipality, recipient=spec, recipient_office=office,
                       purpose=purpose, message_type=message_type, payload=cmd.payload)
        (outcome,) = await _submit(uow, [(actor, out)], directory, keys)
        await uow.commit()
    _count([outcome])
    return outcome


async def _with_precheck(uow: HubUnitOfWork, actor: Actor, cmd: SendTransfer, directory: Directory) -> Outgoing:
    out = outgoing(cmd, directory)
    if not cmd.precheck_id:
        return out
    payload, complete = await checklists.prechecked_payload(uow, actor, cmd.person, cmd.precheck_id, cmd.payload)
    policy = ()
    if not complete and not directory.office(out.recipient_office).accepts_open_items:
        policy = ({**OPEN_ITEMS_NOT_ACCEPTED, "open_items": payload.checklist.open_items},)
    return replace(out, message_type="prechecked-referral.v1", payload=payload, policy_reasons=policy)


async def _submit(uow: HubUnitOfWork, items: list[tuple[Actor, Outgoing]], directory: Directory,
                  keys: Keys, refused_before: list[TransferLogRecord] = ()) -> list[Outcome]:
    """Decide each transfer and stage what that writes (written as one statement at the commit; a
    refusal's log append takes the log head; ``refused_before``: records of requests refused before
    the gate, in the same append)."""
    decided = await decide_requests(uow.consents, items, directory, uow.restrictions) if items else Decided([], [], [], [])
    await seal_accepted(decided, uow, keys)
    uow.sealed_documents.add(decided.documents)
    uow.transfers.add_many(decided.rows)
    await uow.log.stage_append([*refused_before, *decided.records])
    await uow.outbox.add_many(decided.messages)
    return decided.outcomes
