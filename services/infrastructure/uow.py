"""The unit of work: one database transaction that a handler opens, works in through repositories,
and commits once (*Architecture Patterns with Python*, ch. 6).

    async with uow:
        consent = await uow.consents.get(consent_id)
        ...
        await uow.commit()

On PostgreSQL a unit starts without a transaction: reads run on their own (Read Committed gives each
statement its own snapshot anyway), and a unit whose only write is the one statement at its commit
needs no BEGIN and COMMIT (two round trips of four: the request path's and the delivery's usual
unit). The first lock, write, cursor or savepoint begins the transaction (``UnitConnection``).

Leaving the block without ``commit`` rolls back. Messages the handler put on the outbox, and rows a
repository staged (``stage``: inserts and updates as ``bulk`` writes), are written at the commit, in
the same transaction: on PostgreSQL as ONE statement (``outbox.write_with_outbox``), a round trip
per table saved. They are published after the commit (by this process, ``dispatch.py``, or by the
relay); after a rollback nothing is. Subclasses add their repositories in ``_start``.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.bulk import Insert, Write, insert_skipping_conflicts
from services.infrastructure.db import utcnow
from services.infrastructure.outbox import Outbox, OutboxBatch, write_with_outbox
from services.infrastructure.tables import processed_messages

M = TypeVar("M")


class UnitOfWork:
    def __init__(self, engine: AsyncEngine | None, dispatch: OutboxDispatch | None = None,
                 joining: AsyncConnection | None = None, consumer: str | None = None):
        """``joining``: work in a transaction the caller holds (tests that interleave transactions):
        ``commit`` and the end of the block leave it to the caller. ``consumer``: the consumer group
        whose messages this unit processes (``claim``)."""
        self.engine = engine
        self.consumer = consumer
        self.dispatch = dispatch
        self._joining = joining
        self.conn: AsyncConnection | None = None
        self._batch: OutboxBatch | None = None
        self._committed = False
        self._staged: list[Write] = []

    async def __aenter__(self) -> UnitOfWork:
        if self.conn is not None:
            raise RuntimeError("a unit of work is entered once")
        self._batch = self.dispatch.begin() if self.dispatch else OutboxBatch(None)
        if self._joining is not None:
            self.conn = self._joining
        else:
            self.conn = await UnitConnection.open(self.engine)
        self.outbox = Outbox()
        self._start(self.conn)
        return self

    def _start(self, conn: AsyncConnection) -> None:
        """Bind the repositories to the transaction (subclasses)."""

    def stage(self, *writes: Write) -> None:
        """Rows to write at the commit, with the outbox rows (order kept; a write of no rows is skipped)."""
        self._staged.extend(w for w in writes if w.rows)

    async def flush(self) -> None:
        """Write what is staged now (a handler that must read it back before the commit)."""
        if isinstance(self.conn, UnitConnection):
            await self.conn.begin()  # more may follow: they commit together
        await self._write_staged()

    async def _write_staged(self) -> None:
        writes, rows = self._staged, self.outbox.take()
        self._staged = []
        if writes or rows:  # on PostgreSQL one statement
            conn = self.conn.raw if isinstance(self.conn, UnitConnection) else self.conn
            await write_with_outbox(conn, writes, rows, self._batch)

    async def claim(self, messages: list[M]) -> list[M]:
        """Idempotency: record that this consumer processed these messages (``.envelope``), in this
        unit of work; the ones it had processed before (or twice in the list) are left out."""
        new = await self.conn.execute(insert_skipping_conflicts(self.conn, processed_messages).returning(
            processed_messages.c.ce_source, processed_messages.c.ce_id), self._claims(messages))
        fresh = set(new.all())
        out = []
        for m in messages:
            key = (m.envelope.source, m.envelope.id)
            if key in fresh:
                fresh.discard(key)
                out.append(m)
        return out

    def claim_staged(self, messages: list) -> None:
        """``claim`` without asking which were new (written at the commit): for an effect that is
        only rows skipped when already there, so a repeat changes nothing anyway."""
        self.stage(Insert(processed_messages, self._claims(messages), skip_conflicts=True))

    def _claims(self, messages: list) -> list[dict]:
        now = utcnow()
        return list({(m.envelope.source, m.envelope.id): {
            "consumer": self.consumer, "ce_source": m.envelope.source, "ce_id": m.envelope.id, "processed_at": now}
            for m in messages}.values())

    async def commit(self) -> None:
        await self._write_staged()  # the unit's last statement: atomic by itself on PostgreSQL
        if self._joining is None:
            await self.conn.raw.commit()
        self._committed = True

    async def __aexit__(self, *exc) -> None:
        if self._joining is None:
            try:
                if not self._committed:
                    await self.conn.raw.rollback()
            finally:
                await self.conn.raw.close()
        if self._committed and self.dispatch:
            self.dispatch.committed(self._batch)


class UnitConnection:
    """A unit of work's connection as its repositories use it. On PostgreSQL it begins no transaction
    until a statement needs one: anything but a plain ``SELECT`` (a lock, a write, raw SQL), a cursor
    or a savepoint. Elsewhere (SQLite) the transaction begins at once."""

    def __init__(self, raw: AsyncConnection, isolation: str | None):
        self.raw = raw
        self._isolation = isolation  # the engine's, restored when the transaction begins
        self.in_transaction = isolation is None

    @classmethod
    async def open(cls, engine: AsyncEngine) -> UnitConnection:
        raw = await engine.connect()
        if raw.dialect.name != "postgresql":
            await raw.begin()
            return cls(raw, None)
        await raw.execution_options(isolation_level="AUTOCOMMIT")
        return cls(raw, raw.dialect.default_isolation_level)

    @property
    def dialect(self):
        return self.raw.dialect

    async def begin(self) -> None:
        if self.in_transaction:
            return
        await self.raw.commit()  # ends SQLAlchemy's autobegun, empty one: a no-op on the server
        await self.raw.execution_options(isolation_level=self._isolation)
        await self.raw.begin()
        self.in_transaction = True

    async def execute(self, statement, *args, **kwargs):
        if not _plain_select(statement):
            await self.begin()
        return await self.raw.execute(statement, *args, **kwargs)

    async def scalar(self, statement, *args, **kwargs):
        if not _plain_select(statement):
            await self.begin()
        return await self.raw.scalar(statement, *args, **kwargs)

    async def stream(self, statement, *args, **kwargs):
        await self.begin()  # a server-side cursor lives in a transaction
        return await self.raw.stream(statement, *args, **kwargs)

    @asynccontextmanager
    async def begin_nested(self):
        await self.begin()
        async with self.raw.begin_nested() as savepoint:
            yield savepoint

    async def run_sync(self, fn, *args, **kwargs):
        await self.begin()
        return await self.raw.run_sync(fn, *args, **kwargs)


def _plain_select(statement) -> bool:
    return isinstance(statement, Select) and statement._for_update_arg is None
