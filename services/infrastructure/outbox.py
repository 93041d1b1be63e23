"""Transactional outbox: messages are written with the business change and published after the
commit, by the committing process itself (``dispatch.py``) or by the relay below."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope
from services.infrastructure import tracing
from services.infrastructure.bulk import Insert, Write, write_each, write_together
from services.infrastructure.db import utcnow
from services.infrastructure.tables import outbox

log = logging.getLogger("kimhub.outbox")

Record = tuple[str, bytes, bytes | None, dict[str, str]]  # topic, key, value (None: a tombstone), headers


@dataclass
class OutboxBatch:
    """What one unit of work wrote to the outbox, for its dispatch after the commit."""

    lease_until: datetime | None  # set: its rows are leased to the committing process's dispatch
    rows: list[tuple[int, Record]] = field(default_factory=list)  # leased rows, in insert order
    unleased: bool = False  # rows for the relay were written too


class Outbox:
    """The outbox as a handler sees it: messages added in its unit of work, written at its commit
    (with the staged rows: ``UnitOfWork.flush``) and published after it, in the order added.
    Key = the envelope's subject (the person), unless ``key`` names another (``topics.CONSENT``)."""

    def __init__(self) -> None:
        self._rows: list[dict] = []

    async def add(self, topic: str, envelope: Envelope, body: BaseModel, key: str | None = None) -> None:
        self._rows.append(message_row(topic, envelope, body, key))

    async def add_many(self, messages: list[tuple[str, Envelope, BaseModel]]) -> None:
        self._rows.extend(message_row(topic, envelope, body) for topic, envelope, body in messages)

    async def add_tombstone(self, topic: str, key: str) -> None:
        """A Kafka tombstone: ``key`` with a null value, so compaction removes the key's earlier records
        from a compacted topic. No envelope, so no subject: its headers carry at most the trace."""
        headers: dict[str, str] = {}
        tracing.stamp(headers, key)
        self._rows.append(_row(topic, key, headers, None))

    async def add_raw(self, topic: str, key: str, headers: dict[str, str], value: bytes) -> None:
        """A message as it was received (a dead letter's replay): key, headers and bytes unchanged."""
        self._rows.append(_row(topic, key, headers, value))

    def take(self) -> list[dict]:
        rows, self._rows = self._rows, []
        return rows


def message_row(topic: str, envelope: Envelope, body: BaseModel, key: str | None = None) -> dict:
    headers = envelope.to_headers()
    tracing.stamp(headers, envelope.subject)  # the row carries the trace of the work that wrote it
    return _row(topic, key or envelope.subject, headers, body.model_dump_json().encode())


async def enqueue(conn: AsyncConnection, topic: str, envelope: Envelope, body: BaseModel) -> None:
    """A message for the relay, inside the caller's transaction (outside a unit of work)."""
    await conn.execute(insert(outbox), [message_row(topic, envelope, body)])


async def write_with_outbox(conn: AsyncConnection, writes: list[Write], rows: list[dict],
                            batch: OutboxBatch) -> None:
    """Other tables' writes and these outbox rows: on PostgreSQL in ONE statement
    (``bulk.write_together``), elsewhere one statement each. The rows are leased to the batch's
    dispatch when it has a lease, else left for the relay; the batch learns which."""
    leased = batch.lease_until is not None
    for row in rows:
        row["lease_until"] = batch.lease_until
    if conn.dialect.name == "postgresql":
        outbox_write = [Insert(outbox, rows)] if rows else []
        ids = await write_together(conn, [*writes, *outbox_write], returning="id" if leased and rows else None)
    else:
        await write_each(conn, writes)
        ids = [] if not rows else list((await conn.execute(
            insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True), rows)).scalars())
    if rows and leased:
        batch.rows.extend((row_id, (r["topic"], r["key"].encode(), r["value"], r["headers"]))
                          for row_id, r in zip(ids, rows))
    elif rows:
        batch.unleased = True


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


def _row(topic: str, key: str, headers: dict[str, str], value: bytes | None) -> dict:
    return {"topic": topic, "key": key, "headers": headers, "value": value, "created_at": utcnow(), "attempts": 0,
            "lease_until": None}


class Publisher:
    """What the relay needs from a broker client: send and wait for the broker's confirmation."""

    async def send_batch(self, records: list[Record]) -> list[Exception | None]:
        """A record whose value is None is a tombstone: sent with a null value, not an empty one."""
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
