"""Kafka plumbing: the broker client, topic creation, and idempotent at-least-once consumers.

A record's offset is committed only after the handler's database transaction committed (in the
background, several batches at once: ``offsets.py``); on an error the batch is consumed again.
The handler's effect and the (source, id) of the CloudEvent are written in one transaction, so a
repeat is recognised and skipped.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import nullcontext

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, TopicAuthorizationFailedError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.infrastructure.bulk import Insert, Write, insert_skipping_conflicts, write_together
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.kafka_security import broker_security, kafka_client_options
from services.infrastructure.offsets import CommitOnRevoke, OffsetCommits
from services.infrastructure.outbox import Publisher
from services.kernel.settings import Settings
from services.infrastructure.tables import dead_letters, processed_messages

log = logging.getLogger("kimhub.messaging")


class PermanentError(Exception):
    """The message can never be processed (invalid, unknown office, ...): dead-letter it."""


Handler = Callable[[AsyncConnection, Envelope, bytes], Awaitable[None]]
BatchHandler = Callable[[AsyncConnection, list[tuple[Envelope, bytes]]], Awaitable[None]]
# A batch's effect as rows to write, each write skipping a row already there (``skip_conflicts``).
BatchWrites = Callable[[list[tuple[Envelope, bytes]]], list[Write]]


def make_broker(settings: Settings) -> KafkaBroker:
    broker_log = logging.getLogger("kimhub.broker")
    broker_log.setLevel(logging.WARNING)  # FastStream logs every record at INFO
    return KafkaBroker(
        settings.bootstrap,
        client_id=settings.kafka_client_id,
        enable_idempotence=settings.producer_idempotence,
        acks="all",
        security=broker_security(settings),
        # The hub creates its topics itself, with its settings (ensure_topics); with broker ACLs a
        # component may not create topics at all.
        allow_auto_create_topics=False,
        logger=broker_log,
    )


async def ensure_topics(settings: Settings, names: list[str]) -> None:
    """Create missing topics (an embedded broker forgets them on restart).

    On a cluster with ACLs a component sees only the topics it may use and may create none: the
    others stay as the administrator created them (``kimhub kafka acls --apply``)."""
    admin = AIOKafkaAdminClient(client_id=f"{settings.kafka_client_id}-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if not missing:
            return
        new = [NewTopic(name, settings.topic_partitions, settings.topic_replication,
                        topic_configs={"cleanup.policy": "compact"} if name == topics.CONSENT else {})
               for name in missing]
        response = await admin.create_topics(new)
    finally:
        await admin.close()
    errors = {name: code for name, code, *_ in response.topic_errors if code}
    denied = [name for name, code in errors.items() if code == TopicAuthorizationFailedError.errno]
    if denied:
        log.info("%d topic(s) not visible to this principal (broker ACLs); left to the administrator", len(denied))
    for name, code in errors.items():
        if code not in (TopicAlreadyExistsError.errno, TopicAuthorizationFailedError.errno):
            log.warning("topic %s not created: Kafka error %d", name, code)


class BrokerPublisher(Publisher):
    def __init__(self, broker: KafkaBroker):
        self.broker = broker

    async def send_batch(self, records):
        futures = []
        for topic, key, value, headers in records:
            try:
                futures.append(await self.broker.publish(value, topic, key=key, headers=headers, no_confirm=True))
            except Exception as exc:  # the producer refused before sending
                futures.append(_failed(exc))
        return [None if not isinstance(r, Exception) else r for r in await asyncio.gather(*futures, return_exceptions=True)]


def _failed(exc: Exception) -> asyncio.Future:
    f = asyncio.get_running_loop().create_future()
    f.set_exception(exc)
    return f


async def _claim(conn: AsyncConnection, consumer: str, env: Envelope) -> bool:
    """Record that this consumer processes the event; False when it already did."""
    return bool(await _claim_many(conn, consumer, [env]))


async def _claim_many(conn: AsyncConnection, consumer: str, envs: list[Envelope]) -> set[tuple[str, str]]:
    """``_claim`` for a batch in one statement: the (source, id) pairs not processed before."""
    # Executed with a parameter list (not .values(list)), so the compiled statement is cached.
    result = await conn.execute(
        insert_skipping_conflicts(conn, processed_messages).returning(processed_messages.c.ce_source, processed_messages.c.ce_id),
        _claim_rows(consumer, envs),
    )
    return {(src, id_) for src, id_ in result}


def _claim_rows(consumer: str, envs: list[Envelope]) -> list[dict]:
    """One ``processed_messages`` row per event (a repeat within the batch once)."""
    now = utcnow()
    return list({(e.source, e.id): {"consumer": consumer, "ce_source": e.source, "ce_id": e.id, "processed_at": now}
                 for e in envs}.values())


class _Repeat(Exception):
    pass


async def _records(msg) -> tuple:
    """The batch's aiokafka records as they came. Handing them over as the decoded body keeps the
    handler free of FastStream's ``Context`` parameter, which fast_depends resolves in a worker
    thread: a thread round trip per batch (0.5 ms more per batch through FastStream's test broker)."""
    return tuple(msg.raw_message)


def is_transient(exc: BaseException) -> bool:
    """Errors that go away by themselves: the database or the broker is briefly unreachable."""
    if isinstance(exc, (OperationalError, InterfaceError)) or getattr(exc, "connection_invalidated", False):
        return True
    return isinstance(exc, (OSError, ConnectionError, asyncio.TimeoutError, KafkaError))


class _Attempts:
    """Failed attempts per record, so an unexpected error cannot block a partition forever."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}

    def failed(self, record) -> int:
        key = (record.topic, record.partition, record.offset)
        self._counts[key] = self._counts.get(key, 0) + 1
        if len(self._counts) > 10_000:
            self._counts.clear()
        return self._counts[key]

    def done(self, record) -> None:
        self._counts.pop((record.topic, record.partition, record.offset), None)


def subscribe(
    broker: KafkaBroker,
    engine: AsyncEngine,
    *topic_names: str,
    consumer: str,
    handler: Handler,
    settings: Settings,
    after_commit: Callable[[], None] | None = None,
    retry_backoff: float = 0.5,
    batch_handler: BatchHandler | None = None,
    dispatch: OutboxDispatch | None = None,
    batch_writes: BatchWrites | None = None,
) -> OffsetCommits:
    """Register an idempotent, at-least-once consumer of ``topic_names`` in group ``consumer``.

    Transient errors (database or broker away) are retried with exponential backoff for as long
    as they last; other unexpected errors ``settings.consumer_max_attempts`` times; permanent
    ones (invalid message, unknown office, constraint violation) are dead-lettered at once, to
    ``<topic>.dlq`` and the ``dead_letters`` table, so a poison message never blocks its partition.

    With ``batch_handler``, a batch is first tried as a whole: one transaction, one claim statement,
    the handler given every record not processed before, in offset order (which keeps each
    person's order). If that fails for any reason but a transient one, the batch is rolled back
    and goes record by record as above, where the culprit is found and dead-lettered. With
    ``dispatch``, what a transaction enqueues is published by this process right after the commit;
    without it the relay publishes it, woken by ``after_commit``.

    With ``batch_writes`` (an effect that is only rows to insert, each skipped when already there,
    and no messages to send) a batch on PostgreSQL is ONE statement without BEGIN/COMMIT: the
    claims and the effect's rows together, atomic by itself (one round trip instead of four); a
    lone record goes this way too. A repeat changes nothing: its claim and its rows are there already.

    Returns the consumer's offset commits, to be closed before the broker stops.
    """
    session_ms = settings.session_timeout_ms
    attempts = _Attempts()
    max_attempts = settings.consumer_max_attempts
    slots = asyncio.Semaphore(settings.consumer_concurrency)
    # A batch with ``batch_writes`` on PostgreSQL is one statement: a lone record goes that way too
    # (one round trip instead of a transaction's four); otherwise one record is the same either way.
    one_statement = batch_writes is not None and engine.dialect.name == "postgresql"

    async def process(record) -> bool:
        """One record in its own transaction. True if committed; raises to have it retried."""
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        try:
            env = Envelope.from_headers(headers)
        except (ValueError, ValidationError) as exc:
            await dead_letter(broker, engine, consumer, record, f"invalid envelope: {_short(exc)}")
            return False
        try:
            async with slots, dispatch.transaction() if dispatch else nullcontext(), engine.begin() as conn:
                if not await _claim(conn, consumer, env):
                    raise _Repeat()
                await handler(conn, env, record.value or b"")
        except _Repeat:
            log.info("%s: %s/%s already processed", consumer, env.source, env.id)
            attempts.done(record)
            return False
        except (PermanentError, ValidationError, IntegrityError) as exc:
            # IntegrityError here comes from the handler's own writes: retrying cannot help.
            await dead_letter(broker, engine, consumer, record, _short(exc))
            attempts.done(record)
            return False
        except Exception as exc:
            n = attempts.failed(record)
            if not is_transient(exc) and n >= max_attempts:
                await dead_letter(broker, engine, consumer, record, f"failed {n} times: {_short(exc)}")
                attempts.done(record)
                return False
            exc.kimhub_attempt = n  # type: ignore[attr-defined]
            raise
        attempts.done(record)
        return True

    async def process_batch(records: list) -> int | None:
        """The batch at once; the number of records processed, None to go one by one."""
        envs = []
        for record in records:
            try:
                envs.append(Envelope.from_headers({k: v.decode(errors="replace") for k, v in (record.headers or ())}))
            except (ValueError, ValidationError):
                return None
        try:
            if one_statement:
                processed = await in_one_statement(records, envs)
            else:
                processed = await in_one_transaction(records, envs)
        except Exception as exc:
            if is_transient(exc):
                exc.kimhub_attempt = attempts.failed(records[0])  # type: ignore[attr-defined]
                raise
            log.info("%s: batch of %d goes record by record (%s)", consumer, len(records), type(exc).__name__)
            return None
        for record in records:
            attempts.done(record)
        return processed

    async def in_one_transaction(records: list, envs: list[Envelope]) -> int:
        async with dispatch.transaction() if dispatch else nullcontext(), engine.begin() as conn:
            claimed = await _claim_many(conn, consumer, envs)
            items = []
            for env, record in zip(envs, records):
                if (env.source, env.id) in claimed:
                    claimed.discard((env.source, env.id))  # a repeat within the batch counts once
                    items.append((env, record.value or b""))
            if items:
                await batch_handler(conn, items)
        return len(items)

    async def in_one_statement(records: list, envs: list[Envelope]) -> int:
        """PostgreSQL with ``batch_writes``: claims and effect rows as one statement, no transaction."""
        writes = batch_writes([(env, record.value or b"") for env, record in zip(envs, records)])
        claims = Insert(processed_messages, _claim_rows(consumer, envs), skip_conflicts=True)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await write_together(conn, [claims, *writes])
        return len(records)

    async def in_order(records: list) -> int:
        """One key's records, strictly in offset order; stops at the first failure."""
        return sum([await process(r) for r in records])

    commits = OffsetCommits(lambda: subscriber.consumer, settings.consumer_commit_interval_ms / 1000)
    subscriber = broker.subscriber(
        *topic_names,
        group_id=f"kimhub-{consumer}",
        ack_policy=AckPolicy.MANUAL,  # offsets: `commits` below; a failed batch is rewound there
        auto_offset_reset="earliest",
        session_timeout_ms=session_ms,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        heartbeat_interval_ms=max(1000, session_ms // 5),
        batch=True,
        max_records=settings.consumer_batch,
        batch_timeout_ms=settings.consumer_poll_ms,
        decoder=_records,
        title=f"{consumer}",
        listener=CommitOnRevoke(commits),
    )

    @subscriber
    async def _consume(records) -> None:  # no annotation: nothing for fast_depends to validate
        try:
            await consume(records)
        except BaseException:
            commits.rewind(records)
            raise
        commits.done(records)

    async def consume(records) -> None:
        if batch_handler is not None and (len(records) > 1 or one_statement):
            try:
                processed = await process_batch(list(records))
            except Exception as exc:
                await _backoff(exc)
                raise
            if processed is not None:
                if processed and after_commit and dispatch is None:
                    after_commit()
                return
        # Records of different persons (keys) are processed concurrently, each person's in order.
        # The batch's offsets are committed only when every record is committed or dead-lettered;
        # otherwise the batch comes again and the records already done are recognised and skipped.
        by_key: dict[bytes | None, list] = {}
        for record in records:
            by_key.setdefault(record.key, []).append(record)
        results = await asyncio.gather(*(in_order(rs) for rs in by_key.values()), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if any(r for r in results if not isinstance(r, BaseException)) and after_commit and dispatch is None:
            after_commit()
        if failures:
            await _backoff(failures[0])
            raise failures[0]

    async def _backoff(exc: BaseException) -> None:
        n = getattr(exc, "kimhub_attempt", 1)
        delay = min(retry_backoff * 2 ** min(n - 1, 6), 30.0)
        log.warning("%s: %s (attempt %d), retrying in %.1fs", consumer, type(exc).__name__, n, delay)
        await asyncio.sleep(delay)

    return commits


async def dead_letter(broker: KafkaBroker, engine: AsyncEngine, consumer: str, record, reason: str) -> None:
    """Keep a message nobody can process: on ``<topic>.dlq`` and in ``dead_letters`` for admins."""
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    origin = f"{record.topic}/{record.partition}/{record.offset}"
    async with engine.begin() as conn:
        await conn.execute(insert(dead_letters).values(
            consumer=consumer, topic=record.topic, origin=origin,
            key=record.key.decode(errors="replace") if record.key else None, headers=headers,
            value=record.value or b"", reason=reason[:2000], created_at=utcnow()))
        dlq_headers = {**headers, "kimhub_dlq_reason": reason[:500], "kimhub_dlq_origin": origin}
        await broker.publish(record.value, topics.dead_letter(record.topic), key=record.key, headers=dlq_headers)
    log.error("dead-lettered %s: %s", origin, reason[:200])


def _short(exc: Exception) -> str:
    """An error text without input values (they may hold personal data)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
    return type(exc).__name__ + (f": {exc}" if isinstance(exc, PermanentError) else "")
