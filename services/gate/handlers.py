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
from services.checklists import views as checklists
from services.directory.model import Directory
from services.gate.commands import Reply, SendNaturalisationNotice, SendTransfer
from services.gate.requests import Outcome, Outgoing, decide_requests, outgoing, resolve_recipient, seal_accepted
from services.infrastructure import metrics
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork

OPEN_ITEMS_NOT_ACCEPTED = {"code": "open_items_not_accepted",
                           "message": "Die empfangende Stelle nimmt nur vollständig vorgeprüfte Fälle an."}


async def send(cmd: SendTransfer, actor: Actor, uow: HubUnitOfWork, directory: Directory, keys: Keys) -> Outcome:
    """A referral as the case manager wrote it; with ``precheck_id`` a pre-checked referral that
    carries the stored checklist snapshot and its documents."""
    return (await send_many([(cmd, actor)], uow, directory, keys))[0]


async def send_many(items: list[tuple[SendTransfer, Actor]], uow: HubUnitOfWork, directory: Directory,
                    keys: Keys) -> list[Outcome]:
    async with uow:
        outgoing_ = [(actor, await _with_precheck(uow, actor, cmd, directory)) for cmd, actor in items]
        outcomes = await _submit(uow, outgoing_, directory, keys)
        await uow.commit()
    _count(outcomes)
    return outcomes


def _count(outcomes: list[Outcome]) -> None:
    """Committed request-time decisions, for the operators' metrics."""
    metrics.count_transfers(("request", o.status.value, o.recipient_office) for o in outcomes)


async def reply(cmd: Reply, actor: Actor, uow: HubUnitOfWork, directory: Directory, keys: Keys) -> Outcome:
    """The way back: the receiving office answers a transfer it received, to its sender."""
    async with uow:
        original = await uow.transfers.get(cmd.in_reply_to)
        if original is None or original.recipient_office != actor.office or original.status not in (
                TransferStatus.DELIVERED, TransferStatus.RECEIVED):
            raise NotFound("Übermittlung nicht gefunden.", field="in_reply_to")
        (outcome,) = await _submit(uow, [(actor, Outgoing(
            person=original.person, municipality=original.municipality,
            recipient=RecipientSpec(office=original.sender_office), recipient_office=original.sender_office,
            purpose=original.purpose, message_type=cmd.message_type, payload=cmd.payload))], directory, keys)
        await uow.commit()
    _count([outcome])
    return outcome


async def notify_naturalisation(cmd: SendNaturalisationNotice, actor: Actor, uow: HubUnitOfWork,
                                directory: Directory, keys: Keys) -> Outcome:
    """To the immigration office competent for the person's municipality (a statutory route)."""
    spec = RecipientSpec(kind=OfficeKind.ABH)
    out = Outgoing(person=cmd.person, municipality=cmd.municipality, recipient=spec,
                   recipient_office=resolve_recipient(spec, cmd.municipality, directory),
                   purpose=Purpose.EINBUERGERUNG.value, message_type="notice.einbuergerung.v1", payload=cmd.payload)
    async with uow:
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
                  keys: Keys) -> list[Outcome]:
    """Decide each transfer and stage what that writes (written as one statement at the commit; a
    refusal's log append takes the log head)."""
    decided = await decide_requests(uow.consents, items, directory, uow.restrictions)
    await seal_accepted(decided, uow, keys)
    uow.sealed_documents.add(decided.documents)
    uow.transfers.add_many(decided.rows)
    await uow.log.stage_append(decided.records)
    await uow.outbox.add_many(decided.messages)
    return decided.outcomes
