"""A consumer group: at-least-once and idempotent, a batch of records at a time; a record that can
never be processed is dead-lettered, so it never blocks its partition.

A context gives one handler for a batch, ``async def handle(messages, uow)``: it opens the unit of
work, drops repeats with ``uow.claim(messages)`` (the claims commit with its writes) and commits
once. The consumer here only decodes, retries and dead-letters:

- a batch goes to the handler as a whole; if that fails for any reason but a transient one, each
  record goes alone, where the culprit is found;
- a transient error (database or broker briefly away) is retried with backoff for as long as it
  lasts: the batch is consumed again (its offsets were not committed);
- an invalid envelope or body, an unknown office (``PermanentError``) or a constraint violation
  is dead-lettered at once (``<topic>.dlq`` and the ``dead_letters`` table); another unexpected
  error after ``settings.consumer_max_attempts`` tries.

Offsets are committed only after the records are done (``offsets.py``).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import chain

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from contracts.envelope import Envelope
from services.infrastructure import topics, tracing
from services.infrastructure.bulk import Insert
from services.infrastructure.db import utcnow
from services.infrastructure.errors import PermanentError, is_transient
from services.infrastructure.offsets import CommitOnRevoke, OffsetCommits
from services.infrastructure.tables import dead_letters
from services.infrastructure.uow import UnitOfWork
from services.kernel.settings import Settings

log = logging.getLogger("kimhub.consumer")


@dataclass(frozen=True)
class Message:
    envelope: Envelope
    body: bytes
    record: object  # the Kafka record it came in


Handle = Callable[[list[Message], UnitOfWork], Awaitable[None]]


class Consumer:
    def __init__(self, name: str, topic_names: tuple[str, ...], handle: Handle,
                 new_uow: Callable[[str], UnitOfWork], broker: KafkaBroker, settings: Settings,
                 retry_backoff: float = 0.5):
        self.name, self.topics, self.handle = name, topic_names, handle
        self.new_uow, self.broker, self.settings = new_uow, broker, settings
        self.retry_backoff = retry_backoff
        self.group_id = f"kimhub-{name}"
        self.attempts: dict[tuple[str, int, int], int] = {}
        self.offsets = OffsetCommits(lambda: self.subscriber.consumer, settings.consumer_commit_interval_ms / 1000)
        self.subscriber = broker.subscriber(
            *topic_names, group_id=self.group_id, ack_policy=AckPolicy.MANUAL,  # offsets: self.offsets
            auto_offset_reset="earliest", session_timeout_ms=settings.session_timeout_ms,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            heartbeat_interval_ms=max(1000, settings.session_timeout_ms // 5), batch=True,
            max_records=settings.consumer_batch, batch_timeout_ms=settings.consumer_poll_ms,
            decoder=_records, title=name, listener=CommitOnRevoke(self.offsets))
        self.subscriber.get_msg = self._poll
        self.subscriber(self._consume)

    async def _poll(self, consumer) -> tuple:
        """The records that came within ``consumer_poll_ms`` (returned as soon as one came), or none.
        Replaces FastStream's, which after an empty poll sleeps as long again: a record arriving
        in that sleep waited up to ``consumer_poll_ms`` more, on each hop of a transfer."""
        batches = await consumer.getmany(timeout_ms=self.settings.consumer_poll_ms,
                                         max_records=self.settings.consumer_batch)
        return tuple(chain.from_iterable(batches.values()))

    async def _consume(self, records) -> None:  # no annotation: nothing for fast_depends to validate
        try:
            await self.consume(list(records))
        except BaseException:
            self.offsets.rewind(records)
            raise
        self.offsets.done(records)

    async def consume(self, records: list) -> None:
        messages = [m for m in [await self._decode(r) for r in records] if m is not None]
        if not messages:
            return
        with tracing.consuming(self.group_id, messages):
            await self._handle(records, messages)

    async def _handle(self, records: list, messages: list[Message]) -> None:
        try:
            await self.handle(messages, self.new_uow(self.name))
        except Exception as exc:
            if is_transient(exc):
                await self._backoff(exc, self._failed(records[0]))
                raise
            log.info("%s: batch of %d goes record by record (%s)", self.name, len(messages), type(exc).__name__)
            for message in messages:
                await self._one(message)
            return
        for record in records:
            self.attempts.pop(_key(record), None)

    async def _one(self, message: Message) -> None:
        """One record alone; raises (the batch comes again) while it may still succeed."""
        try:
            await self.handle([message], self.new_uow(self.name))
        except (PermanentError, ValidationError, IntegrityError) as exc:
            # IntegrityError here comes from the handler's own writes: retrying cannot help.
            await self.dead_letter(message.record, _short(exc), getattr(exc, "notices", ()))
        except Exception as exc:
            n = self._failed(message.record)
            if is_transient(exc) or n < self.settings.consumer_max_attempts:
                await self._backoff(exc, n)
                raise
            await self.dead_letter(message.record, f"failed {n} times: {_short(exc)}")
        self.attempts.pop(_key(message.record), None)

    async def _decode(self, record) -> Message | None:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        try:
            return Message(Envelope.from_headers(headers), record.value or b"", record)
        except (ValueError, ValidationError) as exc:
            await self.dead_letter(record, f"invalid envelope: {_short(exc)}")
            return None

    def _failed(self, record) -> int:
        if len(self.attempts) > 10_000:
            self.attempts.clear()
        self.attempts[_key(record)] = self.attempts.get(_key(record), 0) + 1
        return self.attempts[_key(record)]

    async def _backoff(self, exc: BaseException, attempt: int) -> None:
        delay = min(self.retry_backoff * 2 ** min(attempt - 1, 6), 30.0)
        log.warning("%s: %s (attempt %d), retrying in %.1fs", self.name, type(exc).__name__, attempt, delay)
        await asyncio.sleep(delay)

    async def dead_letter(self, record, reason: str, notices: tuple = ()) -> None:
        """Keep a message nobody can process: on ``<topic>.dlq`` and in ``dead_letters`` for admins;
        ``notices`` (from the PermanentError) go out in the same unit of work."""
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        origin = f"{record.topic}/{record.partition}/{record.offset}"
        async with self.new_uow(self.name) as uow:
            uow.stage(Insert(dead_letters, [dict(
                consumer=self.name, topic=record.topic, origin=origin,
                key=record.key.decode(errors="replace") if record.key else None, headers=headers,
                value=record.value or b"", reason=reason[:2000], created_at=utcnow(), replayed_at=None)]))
            dlq_headers = {**headers, "kimhub_dlq_reason": reason[:500], "kimhub_dlq_origin": origin}
            await self.broker.publish(record.value, topics.dead_letter(record.topic), key=record.key,
                                      headers=dlq_headers)
            for topic, envelope, notice in notices:
                await uow.outbox.add(topic, envelope, notice)
            await uow.commit()
        log.error("dead-lettered %s: %s", origin, reason[:200])


async def _records(msg) -> tuple:
    """The batch's aiokafka records as they came (no FastStream ``Context`` parameter: fast_depends
    would resolve it in a worker thread, a thread round trip per batch)."""
    return tuple(msg.raw_message)


def _key(record) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


def _short(exc: Exception) -> str:
    """An error text without input values (they may hold personal data)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
    return type(exc).__name__ + (f": {exc}" if isinstance(exc, PermanentError) else "")
