"""Every command and its one handler, with the handlers' dependencies bound once at start-up
(*Architecture Patterns with Python*, ch. 13: ``bootstrap`` and ``inject_dependencies``).

An entrypoint builds a command and calls ``bus.handle(command, actor)``; the handler gets a fresh
unit of work and only the dependencies its signature names. Commands of a kind that arrive together
in numbers (referrals) are handled together: ``BATCHED`` names their ``*_many`` handler, which gets
the group in one unit of work (``infrastructure/group_commit.py``).
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from services.admin import handlers as admin
from services.admin.commands import ReplayDeadLetter
from services.audit import handlers as audit
from services.audit.commands import AddCosignature, ReportAccess
from services.cases import handlers as cases
from services.cases.commands import AddPerson, ArchiveCase, CreateCase, EraseExpiredCases
from services.checklists import handlers as checklists
from services.checklists.commands import CreatePrecheck, PublishTemplate, UploadDocument
from services.consent import handlers as consent
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.delivery import handlers as delivery
from services.delivery.commands import ConfirmNotice, ConfirmReceipt
from services.gate import handlers as gate
from services.gate.commands import Reply, SendNaturalisationNotice, SendRectification, SendTransfer
from services.notifications import handlers as notifications
from services.notifications.commands import SetNotificationAddresses
from services.infrastructure.group_commit import GroupCommit
from services.kernel.identity import Actor
from services.rights import handlers as rights
from services.rights.commands import EraseCase, ErasePerson, ExportPersonData, LiftRestriction, RestrictProcessing
from services.unit_of_work import HubUnitOfWork

COMMAND_HANDLERS: dict[type, Callable[..., Awaitable[Any]]] = {
    RecordConsent: consent.record,
    AmendConsent: consent.amend,
    RevokeConsent: consent.revoke,
    AddCosignature: audit.add_cosignature,
    ReportAccess: audit.report_access,
    ReplayDeadLetter: admin.replay,
    PublishTemplate: checklists.publish,
    CreatePrecheck: checklists.create_precheck,
    UploadDocument: checklists.upload_document,
    ConfirmReceipt: delivery.confirm_receipt,
    ConfirmNotice: delivery.confirm_notice,
    SendTransfer: gate.send,
    Reply: gate.reply,
    SendNaturalisationNotice: gate.notify_naturalisation,
    SendRectification: gate.rectify,
    SetNotificationAddresses: notifications.set_addresses,
    CreateCase: cases.create_case,
    AddPerson: cases.add_person,
    ArchiveCase: cases.archive_case,
    EraseExpiredCases: cases.erase_expired_cases,
    ErasePerson: rights.erase_person,
    EraseCase: rights.erase_case,
    RestrictProcessing: rights.restrict,
    LiftRestriction: rights.lift_restriction,
    ExportPersonData: rights.export_data,
}
# Commands gathered into groups: the handler for a group, given [(command, actor)] and one unit of work.
BATCHED: dict[type, Callable[..., Awaitable[list[Any]]]] = {
    SendTransfer: gate.send_many,
}
# A grouped command's message subject (the person): its messages follow its request's trace.
SUBJECT: dict[type, Callable[[Any], str]] = {
    SendTransfer: lambda cmd: cmd.person,
}


class MessageBus:
    def __init__(self, uow: Callable[[], HubUnitOfWork], group_linger: float = 0.004, **dependencies: Any):
        self.uow = uow
        self._handlers = {command: _inject(handler, dependencies) for command, handler in COMMAND_HANDLERS.items()}
        self._groups = {command: GroupCommit(self._grouped(_inject(handler, dependencies, first=("items", "uow"))),
                                             linger=group_linger, subject=SUBJECT.get(command))
                        for command, handler in BATCHED.items()}

    async def handle(self, command: Any, actor: Actor) -> Any:
        group = self._groups.get(type(command))
        if group is not None:
            return await group.submit(command, actor)
        return await self._handlers[type(command)](command, actor, self.uow())

    def _grouped(self, handle_many):
        async def handle(items: list[tuple[Any, Actor]]) -> list[Any]:
            return await handle_many(items, self.uow())
        return handle

    async def stop(self) -> None:
        """Finish the groups already submitted."""
        for group in self._groups.values():
            await group.stop()


def _inject(handler: Callable[..., Awaitable[Any]], dependencies: dict[str, Any],
            first: tuple[str, ...] = ("cmd", "actor", "uow")) -> Callable[..., Awaitable[Any]]:
    wanted = set(inspect.signature(handler).parameters) - set(first)
    missing = wanted - set(dependencies)
    if missing:
        raise TypeError(f"{handler.__qualname__} needs {', '.join(sorted(missing))}")
    return partial(handler, **{name: dependencies[name] for name in wanted})
