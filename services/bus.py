"""Every command and its one handler, with the handlers' dependencies bound once at start-up
(*Architecture Patterns with Python*, ch. 13: ``bootstrap`` and ``inject_dependencies``).

An entrypoint builds a command and calls ``bus.handle(command, actor)``; the handler gets a fresh
unit of work and only the dependencies its signature names.
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from services.consent import handlers as consent
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork

COMMAND_HANDLERS: dict[type, Callable[..., Awaitable[Any]]] = {
    RecordConsent: consent.record,
    AmendConsent: consent.amend,
    RevokeConsent: consent.revoke,
}


class MessageBus:
    def __init__(self, uow: Callable[[], HubUnitOfWork], **dependencies: Any):
        self.uow = uow
        self._handlers = {command: _inject(handler, dependencies) for command, handler in COMMAND_HANDLERS.items()}

    async def handle(self, command: Any, actor: Actor) -> Any:
        return await self._handlers[type(command)](command, actor, self.uow())


def _inject(handler: Callable[..., Awaitable[Any]], dependencies: dict[str, Any]) -> Callable[..., Awaitable[Any]]:
    wanted = set(inspect.signature(handler).parameters) - {"cmd", "actor", "uow"}
    missing = wanted - set(dependencies)
    if missing:
        raise TypeError(f"{handler.__qualname__} needs {', '.join(sorted(missing))}")
    return partial(handler, **{name: dependencies[name] for name in wanted})
