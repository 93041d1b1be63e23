"""Transactional outbox: messages are written with the business change and published after the
commit, by the committing process itself (``dispatch.py``) or by the relay below."""
from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope
from services.infrastructure.bulk import Insert, Write, write_each, write_together
from services.infrastructure.db import utcnow
from services.infrastructure.tables import outbox

log = logging.getLogger("kimhub.outbox")

Record = tuple[str, bytes, bytes, dict[str, str]]  # topic, key, value, headers


@dataclass
class OutboxBatch:
    """What one transaction enqueued inside ``OutboxDispatch.transaction()``; filled by ``enqueue_many``."""

    lease_until: datetime | None
    rows: list[tuple[int, Record]] = field(default_factory=list)  # leased rows, in insert order
    unleased: bool = False  # rows for the relay were written too


current_batch: contextvars.ContextVar[OutboxBatch | None] = contextvars.ContextVar("kimhub_outbox_batch",
                                                                                   default=None)


class Outbox:
    """The outbox as a handler sees it: messages added in its unit of work, written at its commit
    (with the staged rows: ``UnitOfWork.flush``) and published after it, in the order added."""

    def __init__(self) -> None:
        self._messages: list[tuple[str, Envelope, BaseModel]] = []

    async def add(self, topic: str, envelope: Envelope, body: BaseModel) -> None:
        self._messages.append((topic, envelope, body))

    async def add_many(self, messages: list[tuple[str, Envelope, BaseModel]]) -> None:
        self._messages.extend(messages)

    def take(self) -> list[tuple[str, Envelope, BaseModel]]:
        messages, self._messages = self._messages, []
        return messages


async def enqueue(conn: AsyncConnection, topic: str, envelope: Envelope, body: BaseModel) -> None:
    """Add a message to the outbox inside the caller's transaction. Key = envelope subject."""
    await enqueue_many(conn, [(topic, envelope, body)])


async def enqueue_many(conn: AsyncConnection, messages: list[tuple[str, Envelope, BaseModel]]) -> None:
    """Several messages in one statement, in list order (they are published in that order).

    Inside ``OutboxDispatch.transaction()`` the rows are leased to that dispatch, which publishes
    them right after the commit; otherwise the relay publishes them."""
    if not messages:
        return
    batch, rows = _leased_rows(messages)
    if batch is None or batch.lease_until is None:
        await conn.execute(insert(outbox), rows)
        _remember(batch, None, rows)
        return
    inserted = await conn.execute(insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows)
    _remember(batch, list(inserted.scalars()), rows)


async def enqueue_together(conn: AsyncConnection, writes: list[Write],
                           messages: list[tuple[str, Envelope, BaseModel]]) -> None:
    """Other tables' writes and these messages' outbox rows: on PostgreSQL in ONE statement
    (``bulk.write_together``; on a connection in autocommit mode that is the whole transaction),
    elsewhere one statement each."""
    if conn.dialect.name != "postgresql":
        await write_each(conn, writes)
        await enqueue_many(conn, messages)
        return
    if not messages:
        await write_together(conn, writes)
        return
    batch, rows = _leased_rows(messages)
    leased = batch is not None and batch.lease_until is not None
    ids = await write_together(conn, [*writes, Insert(outbox, rows)], returning="id" if leased else None)
    _remember(batch, ids if leased else None, rows)


def _leased_rows(messages: list[tuple[str, Envelope, BaseModel]]) -> tuple[OutboxBatch | None, list[dict]]:
    now = utcnow()
    rows = [_row(topic, env.subject, env.to_headers(), body.model_dump_json().encode(), now)
            for topic, env, body in messages]
    batch = current_batch.get()
    if batch is not None and batch.lease_until is not None:
        for row in rows:
            row["lease_until"] = batch.lease_until
    return batch, rows


def _remember(batch: OutboxBatch | None, ids: list[int] | None, rows: list[dict]) -> None:
    """Tell the surrounding dispatch what it has to send after the commit (``ids`` of leased rows),
    or that rows for the relay were written (``ids`` None)."""
    if batch is None:
        return
    if ids is None:
        batch.unleased = True
        return
    batch.rows.extend((row_id, (r["topic"], r["key"].encode(), r["value"], r["headers"]))
                      for row_id, r in zip(ids, rows))


async def enqueue_raw(conn: AsyncConnection, topic: str, key: str, headers: dict[str, str], value: bytes) -> None:
    await conn.execute(insert(outbox).values(_row(topic, key, headers, value, utcnow())))


async def requeue(conn: AsyncConnection, since: datetime) -> int:
    """Hand every message published since ``since`` to the relay again (the broker lost them).

    Leased rows not marked yet may have been confirmed by the broker that was lost: clearing their
    lease hands them to the relay too, and keeps a late confirmation from marking them."""
    result = await conn.execute(
        update(outbox)
        .where(or_(outbox.c.published_at >= since,
                   and_(outbox.c.published_at.is_(None), outbox.c.lease_until.is_not(None))))
        .values(published_at=None, lease_until=None))
    return result.rowcount


def _row(topic: str, key: str, headers: dict[str, str], value: bytes, now) -> dict:
    return {"topic": topic, "key": key, "headers": headers, "value": value, "created_at": now, "attempts": 0,
            "lease_until": None}


class Publisher:
    """What the relay needs from a broker client: send and wait for the broker's confirmation."""

    async def send_batch(self, records: list[tuple[str, bytes, bytes, dict[str, str]]]) -> list[Exception | None]:
        raise NotImplementedError


class OutboxRelay:
    """Publishes outbox rows in order; a row is marked published only after the broker confirmed it."""

    def __init__(self, engine: AsyncEngine, publisher: Publisher, poll_seconds: float = 0.2, batch: int = 500):
        self.engine = engine
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False

    def notify(self) -> None:
        """Called after a transaction that enqueued something committed: publish now."""
        self._wake.set()

    async def run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            # Cleared before looking, not after: a notification that arrives while this round
            # reads the outbox (its rows committed too late to be seen) makes the wait below
            # return at once instead of being lost until the next poll.
            self._wake.clear()
            try:
                sent = await self.publish_pending()
                backoff = self.poll_seconds
            except Exception as exc:  # broker or database away: keep the rows, try again later
                log.warning("outbox relay: %s; retrying in %.1fs", type(exc).__name__, backoff)
                sent = 0
                backoff = min(backoff * 2, 5.0)
                self._wake.clear()  # only news after the failure shortens the back-off
            if sent >= self.batch:
                continue  # maybe more: read again at once
            # Everything committed before this round's read was seen; whatever committed since
            # has notified (after the clear above), so the wait returns at once. No empty round
            # (three more statements) after every batch.
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were confirmed."""
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.headers)
                    # a leased row is the committing process's to publish (``dispatch.py``) until
                    # its lease expires
                    .where(outbox.c.published_at.is_(None),
                           or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < utcnow()))
                    .order_by(outbox.c.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await self.publisher.send_batch(
                [(r.topic, r.key.encode(), r.value, dict(r.headers)) for r in rows]
            )
            # Only the confirmed prefix counts: rows after a failure are sent again later,
            # so one person's messages never overtake each other (consumers drop repeats).
            first_failure = next((i for i, err in enumerate(results) if err is not None), len(rows))
            done = [r.id for r in rows[:first_failure]]
            if done:
                await conn.execute(update(outbox).where(outbox.c.id.in_(done)).values(published_at=utcnow()))
            if first_failure < len(rows):
                error = type(results[first_failure]).__name__
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == rows[first_failure].id)
                    .values(attempts=outbox.c.attempts + 1, last_error=error)
                )
                log.warning("outbox relay: %d of %d not confirmed (%s)", len(rows) - first_failure, len(rows), error)
            return len(done)
