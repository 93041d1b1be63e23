"""Notifications, one handler per command: an admin sets an office's addresses; the sender mails
what is due (``send_pending``, run by ``sender.py``). The rows themselves are written by the units of
work that cause them: the delivery consumer (a new inbox item) and the gate's reply (a Nachforderung
with a deadline: its overdue notice is due the day after)."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from contracts.agency import OfficeKind
from services.directory.model import Directory, UnknownOffice
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.notifications.commands import SetNotificationAddresses
from services.notifications.mail import NEW_ITEM, OVERDUE_REPLY, compose, link
from services.unit_of_work import HubUnitOfWork

log = logging.getLogger("kimhub")
MAX_BACKOFF_SECONDS = 3600
KEEP_DONE = timedelta(days=30)  # a notification done is kept this long, then deleted


async def set_addresses(cmd: SetNotificationAddresses, actor: Actor, uow: HubUnitOfWork,
                        directory: Directory) -> dict:
    """An admin sets the addresses of an office of their own controller (another's is 'not found')."""
    managed_office(directory, actor, cmd.office)
    async with uow:
        await uow.notifications.set_addresses(cmd.office, cmd.new_items, cmd.overdue_replies, actor.user)
        await uow.commit()
    return {"office": cmd.office, "new_items": cmd.new_items, "overdue_replies": cmd.overdue_replies}


def managed_office(directory: Directory, actor: Actor, office: str) -> None:
    try:
        directory.office(office)
    except UnknownOffice:
        raise NotFound("Stelle nicht gefunden.", field="office") from None
    if office not in directory.same_controller(actor.office):
        raise NotFound("Stelle nicht gefunden.", field="office")


def backoff(attempts: int, base: float) -> timedelta:
    """The wait before the next attempt: doubled each time, at most an hour."""
    return timedelta(seconds=min(base * 2 ** attempts, MAX_BACKOFF_SECONDS))


async def send_pending(uow: HubUnitOfWork, mailer, directory: Directory, public_url: str, sender: str,
                       now: datetime, base_delay: float = 30.0) -> int:
    """Mail what is due: one mail per office and kind for all its due notifications; an overdue
    notice only while the Nachforderung is delivered and unanswered. A failed send is tried again
    later (backoff); nothing is marked sent before the server took it. What was done more than
    ``KEEP_DONE`` ago is deleted. Returns the mails sent."""
    sent = 0
    async with uow:
        rows = await uow.notifications.due(now)
        ready = await _still_wanted(uow, rows, now, base_delay)
        for (office, kind), group in _grouped(ready).items():
            sent += await _mail_group(uow, mailer, directory, public_url, sender, office, kind, group, now, base_delay)
        await uow.notifications.forget_done(now - KEEP_DONE)
        await uow.commit()
    return sent


async def _still_wanted(uow: HubUnitOfWork, rows: list, now: datetime, base_delay: float) -> list:
    """The rows to mail now: an answered (or never delivered) Nachforderung's notice is cancelled,
    one not yet in the inbox waits."""
    overdue = [r.transfer_id for r in rows if r.kind == OVERDUE_REPLY]
    if not overdue:
        return rows
    cancelled = await uow.notifications.answered(overdue) | await uow.notifications.not_delivered(overdue)
    delivered = await uow.notifications.delivered(overdue)
    waiting = [r for r in rows if r.kind == OVERDUE_REPLY and r.transfer_id not in cancelled | delivered]
    uow.notifications.finish([f"{OVERDUE_REPLY}:{t}" for t in cancelled], "cancelled", now)
    _retry(uow, waiting, now, base_delay, "awaiting_delivery")
    skip = cancelled | {r.transfer_id for r in waiting}
    return [r for r in rows if r.kind != OVERDUE_REPLY or r.transfer_id not in skip]


def _grouped(rows: list) -> dict[tuple[str, str], list]:
    groups = defaultdict(list)
    for r in rows:
        groups[(r.office, r.kind)].append(r)
    return groups


async def _mail_group(uow: HubUnitOfWork, mailer, directory: Directory, public_url: str, sender: str, office: str,
                      kind: str, group: list, now: datetime, base_delay: float) -> int:
    ids = [r.id for r in group]
    to = await _recipients(uow, office, kind)
    if not to:
        uow.notifications.finish(ids, "unaddressed", now)
        return 0
    name, case_management = _office_name(directory, office)
    mail = compose(kind, name, len(group), link(public_url, case_management), to)
    try:
        await mailer.send(mail.message(sender))
    except Exception as exc:  # the server away or refusing: later, with a longer wait each time
        log.warning("notification mail for %s (%s) not sent: %s", office, kind, type(exc).__name__)
        _retry(uow, group, now, base_delay, type(exc).__name__)
        return 0
    uow.notifications.finish(ids, "sent", now)
    return 1


def _retry(uow: HubUnitOfWork, rows: list, now: datetime, base_delay: float, error: str) -> None:
    """Each row again after its own wait (their attempts may differ)."""
    uow.notifications.retry([(r.id, r.attempts, now + backoff(r.attempts, base_delay)) for r in rows], error[:100])


async def _recipients(uow: HubUnitOfWork, office: str, kind: str) -> tuple[str, ...]:
    row = await uow.notifications.addresses(office)
    if row is None:
        return ()
    return tuple(row.new_items if kind == NEW_ITEM else row.overdue_replies)


def _office_name(directory: Directory, office: str) -> tuple[str, bool]:
    try:
        o = directory.office(office)
    except UnknownOffice:
        return office, False
    return o.name, o.kind == OfficeKind.KIM
