"""Kafka plumbing: the broker client, topic creation, and idempotent at-least-once consumers.

Business topics are consumed with ``AckPolicy.NACK_ON_ERROR``: the offset is committed only
after the handler's database transaction committed; on a transient error the record is
consumed again. The handler's effect and the (source, id) of the CloudEvent are written in one
transaction, so a repeat is recognised and skipped.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contracts.envelope import Envelope
from services.shared import topics
from services.shared.db import utcnow
from services.shared.outbox import Publisher
from services.shared.settings import Settings
from services.shared.tables import processed_messages

log = logging.getLogger("kimhub.messaging")


class PermanentError(Exception):
    """The message can never be processed (invalid, unknown office, ...): dead-letter it."""


Handler = Callable[[AsyncConnection, Envelope, bytes], Awaitable[None]]


def make_broker(settings: Settings) -> KafkaBroker:
    broker_log = logging.getLogger("kimhub.broker")
    broker_log.setLevel(logging.WARNING)  # FastStream logs every record at INFO
    return KafkaBroker(
        settings.bootstrap,
        client_id=settings.kafka_client_id,
        enable_idempotence=settings.producer_idempotence,
        acks="all",
        logger=broker_log,
    )


async def ensure_topics(settings: Settings, names: list[str]) -> None:
    """Create missing topics (an embedded broker forgets them on restart)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id=f"{settings.kafka_client_id}-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            configs = {"cleanup.policy": "compact"} if name == topics.CONSENT else {}
            topic = NewTopic(name, settings.topic_partitions, settings.topic_replication, topic_configs=configs)
            try:
                await admin.create_topics([topic])
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


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
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = await conn.execute(
        insert(processed_messages)
        .values(consumer=consumer, ce_source=env.source, ce_id=env.id, processed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return result.rowcount == 1


class _Repeat(Exception):
    pass


async def _raw(msg) -> bytes:
    return msg.body


def subscribe(
    broker: KafkaBroker,
    engine: AsyncEngine,
    *topic_names: str,
    consumer: str,
    handler: Handler,
    settings: Settings,
    after_commit: Callable[[], None] | None = None,
    retry_backoff: float = 0.5,
) -> None:
    """Register an idempotent, at-least-once consumer of ``topic_names`` in group ``consumer``."""
    session_ms = settings.session_timeout_ms

    @broker.subscriber(
        *topic_names,
        group_id=f"kimhub-{consumer}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(1000, session_ms // 5),
        decoder=_raw,
        title=f"{consumer}",
    )
    async def _consume(msg: KafkaMessage) -> None:
        record = msg.raw_message
        try:
            env = Envelope.from_headers(dict(msg.headers))
        except (ValueError, ValidationError) as exc:
            await _dead_letter(broker, record, f"invalid envelope: {_short(exc)}")
            return
        try:
            async with engine.begin() as conn:
                if not await _claim(conn, consumer, env):
                    raise _Repeat()
                await handler(conn, env, msg.body)
        except _Repeat:
            log.info("%s: %s/%s already processed", consumer, env.source, env.id)
            return
        except (PermanentError, ValidationError, IntegrityError) as exc:
            # IntegrityError here comes from the handler's own writes: retrying cannot help.
            await _dead_letter(broker, record, _short(exc))
            return
        except Exception as exc:
            log.warning("%s: transient %s, will retry", consumer, type(exc).__name__)
            await asyncio.sleep(retry_backoff)
            raise
        if after_commit:
            after_commit()


async def _dead_letter(broker: KafkaBroker, record, reason: str) -> None:
    headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
    headers["kimhub_dlq_reason"] = reason[:500]
    headers["kimhub_dlq_origin"] = f"{record.topic}/{record.partition}/{record.offset}"
    await broker.publish(record.value, topics.dead_letter(record.topic), key=record.key, headers=headers)
    log.error("dead-lettered %s/%s/%s: %s", record.topic, record.partition, record.offset, reason[:200])


def _short(exc: Exception) -> str:
    """An error text without input values (they may hold personal data)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
    return type(exc).__name__ + (f": {exc}" if isinstance(exc, PermanentError) else "")
