"""Group commit for the request path: transfers submitted at about the same time share one
transaction (one consent query, one insert per table), and each request is answered after that
commit. A writer that finds requests waiting lingers a moment (``linger``, 4 ms by default) for
more to join, unless the group is full; what arrives while it commits forms the next group.
At 200 requests/s a linger of 4 ms took the database transactions per transfer from 2.2-2.3 to
1.6-1.7 and the p99 latency from 155-233 to 134-154 ms (docs/benchmarks.md): fewer, fuller
transactions leave more CPU for everything else. On PostgreSQL a group without refusals takes two
round trips (see ``_write``). The group's outbox rows are published by this process right after
the commit (``services/infrastructure/dispatch.py``).
"""
from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit.log import AuditLog
from services.directory.model import Directory
from services.gate.requests import Outcome, Outgoing, decide_many, submit_many, write, write_at_once
from services.infrastructure.dispatch import OutboxDispatch
from services.kernel.identity import Actor
from services.infrastructure.messaging import is_transient

log = logging.getLogger("kimhub.gate")


class GroupCommit:
    def __init__(self, engine: AsyncEngine, directory: Directory, audit: AuditLog,
                 outbox: OutboxDispatch, max_group: int = 200, writers: int = 2, linger: float = 0.004):
        self.engine = engine
        self.directory = directory
        self.audit = audit
        self.outbox = outbox
        self.max_group = max_group
        self.writers = writers
        self.linger = linger
        self._pending: list[tuple[Actor, Outgoing, asyncio.Future]] = []
        self._ready = asyncio.Condition()
        self._tasks: list[asyncio.Task] = []

    async def submit(self, actor: Actor, out: Outgoing) -> Outcome:
        if not self._tasks:
            self._tasks = [asyncio.create_task(self._writer(), name=f"group-commit-{i}") for i in range(self.writers)]
        future = asyncio.get_running_loop().create_future()
        async with self._ready:
            self._pending.append((actor, out, future))
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

    async def _commit(self, group: list[tuple[Actor, Outgoing, asyncio.Future]]) -> None:
        try:
            async with self.outbox.transaction():
                outcomes = await self._write([(actor, out) for actor, out, _ in group])
        except Exception as exc:
            if len(group) > 1 and not is_transient(exc):
                # Whatever failed must fail only its own request: commit them one by one.
                log.info("group of %d goes one by one (%s)", len(group), type(exc).__name__)
                for item in group:
                    await self._commit([item])
                return
            for *_, future in group:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException as exc:  # cancelled while committing: the requests must not hang
            for *_, future in group:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("shutting down"))
            raise
        for (*_, future), outcome in zip(group, outcomes):
            if not future.done():
                future.set_result(outcome)

    async def _write(self, items: list[tuple[Actor, Outgoing]]) -> list[Outcome]:
        """One transaction for the group. On PostgreSQL, when nothing is refused (no log record),
        two statements without BEGIN/COMMIT: the consent query, then the transfers and their
        outbox rows as one statement, atomic by itself. Read Committed gives each statement of a
        transaction its own snapshot anyway, so the consent check sees what it saw before; it is
        repeated at delivery time in any case (``gate/worker.py``)."""
        if self.engine.dialect.name != "postgresql":
            async with self.engine.begin() as conn:
                return await submit_many(conn, items, self.directory, self.audit)
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            decided = await decide_many(conn, items, self.directory)
            if not decided.records:
                await write_at_once(conn, decided, self.audit)
                return decided.outcomes
        async with self.engine.begin() as conn:
            await write(conn, decided, self.audit)
        return decided.outcomes
