"""Group commit: commands of one kind that arrive at about the same time are handled together, in
one unit of work (for the referrals: one consent query, one write, one commit), and each caller is
answered after that commit. A writer that finds commands waiting lingers a moment (``linger``, 4 ms
by default) for more to join, unless the group is full; what arrives while it commits forms the next
group. A group that fails for any reason but a transient one is handled again one by one, so a
command fails only by its own fault. A handler may answer a command with an exception (a request it
refused and logged in the committed group): its caller gets it raised.

Measured on Apache Kafka, 200 referrals/s offered (docs/benchmarks.md): saturation 576 vs 340
transfers/s and p50 54 vs 149 ms with vs without the linger.
"""
from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from services.infrastructure import tracing
from services.infrastructure.errors import is_transient

log = logging.getLogger("kimhub.group-commit")

HandleMany = Callable[[list[tuple[Any, Any]]], Awaitable[list[Any]]]  # [(command, actor)] -> results
Pending = tuple[Any, Any, asyncio.Future, Any]  # command, actor, its caller's answer, its caller's trace


class GroupCommit:
    """``subject`` names a command's message subject (the person): the messages a group writes
    follow the trace of the request whose command has their subject (``tracing.following``)."""

    def __init__(self, handle_many: HandleMany, max_group: int = 200, writers: int = 2, linger: float = 0.004,
                 subject: Callable[[Any], str] | None = None):
        self.handle_many = handle_many
        self.max_group = max_group
        self.writers = writers
        self.linger = linger
        self.subject = subject
        self._pending: list[Pending] = []
        self._ready = asyncio.Condition()
        self._tasks: list[asyncio.Task] = []

    async def submit(self, command: Any, actor: Any) -> Any:
        if not self._tasks:  # in a context of their own, not the first caller's (its trace)
            self._tasks = [asyncio.create_task(self._writer(), name=f"group-commit-{i}", context=contextvars.Context())
                           for i in range(self.writers)]
        future = asyncio.get_running_loop().create_future()
        async with self._ready:
            self._pending.append((command, actor, future, tracing.current()))
            self._ready.notify()
        return await future

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Finish what was submitted (the HTTP server has stopped taking requests), then end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_seconds
        while self._pending and self._tasks and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _writer(self) -> None:
        while True:
            async with self._ready:
                await self._ready.wait_for(lambda: bool(self._pending))
            if self.linger and len(self._pending) < self.max_group:
                await asyncio.sleep(self.linger)
            group, self._pending = self._pending[:self.max_group], self._pending[self.max_group:]
            if group:  # the other writer may have taken them meanwhile
                await self._commit(group)

    async def _commit(self, group: list[Pending]) -> None:
        try:
            with tracing.following(self._traces(group)):
                results = await self.handle_many([(command, actor) for command, actor, *_ in group])
        except Exception as exc:
            if len(group) > 1 and not is_transient(exc):
                log.info("group of %d goes one by one (%s)", len(group), type(exc).__name__)
                for item in group:
                    await self._commit([item])
                return
            _fail(group, exc)
            return
        except BaseException as exc:  # cancelled while committing: the requests must not hang
            _fail(group, exc if isinstance(exc, Exception) else RuntimeError("shutting down"))
            raise
        for (_, _, future, _), result in zip(group, results):
            if future.done():
                continue
            if isinstance(result, Exception):  # the command's own fault, answered after the commit (logged)
                future.set_exception(result)
            else:
                future.set_result(result)

    def _traces(self, group: list[Pending]) -> dict:
        if self.subject is None:
            return {}
        return {self.subject(command): trace for command, _, _, trace in group if trace is not None}


def _fail(group: list[Pending], exc: Exception) -> None:
    for _, _, future, _ in group:
        if not future.done():
            future.set_exception(exc)
