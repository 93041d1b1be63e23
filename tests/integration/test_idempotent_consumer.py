"""Idempotent at-least-once consumers (``services.infrastructure.consumer.Consumer``) on a real broker.

One subscriber (one consumer-group join, which takes seconds on the embedded broker) serves the
whole module: it listens on one unique topic per test, and its handler dispatches on the
CloudEvents type.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import select, text

from contracts.envelope import Envelope
from services.infrastructure import topics
from services.infrastructure.consumer import Consumer
from services.infrastructure.messaging import ensure_topics, make_broker
from services.infrastructure.uow import UnitOfWork
from services.infrastructure.tables import processed_messages

WAIT = 30.0
EFFECT = "test.effect.v1"
FLAKY = "test.flaky.v1"
CONSTRAINT = "test.constraint.v1"


class Topics:
    def __init__(self) -> None:
        run = uuid.uuid4().hex
        self.idempotent = f"test.consumer.idem.{run}"
        self.dlq = f"test.consumer.dlq.{run}"
        self.retry = f"test.consumer.retry.{run}"
        self.constraint = f"test.consumer.constraint.{run}"
        self.consumer = f"it-consumer-{run[:12]}"

    @property
    def subscribed(self) -> list[str]:
        return [self.idempotent, self.dlq, self.retry, self.constraint]


class Handler:
    """In its unit of work: claims the messages, inserts one row per new event, commits; fails the
    first attempt of each FLAKY event."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failed_once: set[tuple[str, str]] = set()
        self.flaky_entered = asyncio.Event()
        self.flaky_release = asyncio.Event()

    async def __call__(self, messages, uow) -> None:
        async with uow:
            for m in await uow.claim(messages):
                await self.one(uow.conn, m.envelope, m.body)
            await uow.commit()

    async def one(self, conn, env: Envelope, body: bytes) -> None:
        self.calls.append((env.source, env.id))
        if env.type == FLAKY and (env.source, env.id) not in self.failed_once:
            self.failed_once.add((env.source, env.id))
            self.flaky_entered.set()
            await asyncio.wait_for(self.flaky_release.wait(), WAIT)
            # the effect is written, then the transaction fails: it must not survive
            await _insert(conn, env, body)
            raise ConnectionResetError("database went away")
        if env.type == CONSTRAINT and (env.source, env.id) not in self.failed_once:
            # the handler's own constraint violation (NOT NULL), once; not a repeat of the event
            self.failed_once.add((env.source, env.id))
            await conn.execute(text("INSERT INTO it_consumer.effects (ce_source, ce_id, body) VALUES (:s, :i, NULL)"),
                               {"s": env.source, "i": env.id})
        await _insert(conn, env, body)


async def _insert(conn, env: Envelope, body: bytes) -> None:
    await conn.execute(text("INSERT INTO it_consumer.effects (ce_source, ce_id, body) VALUES (:s, :i, :b)"),
                       {"s": env.source, "i": env.id, "b": body.decode()})


@pytest.fixture(scope="module")
async def consumer_setup(engine, settings):
    async with engine.begin() as conn:
        # in a schema of its own, so the hub's schema (compared by test_migrations) stays as migrated
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS it_consumer"))
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS it_consumer.effects ("
            " id BIGSERIAL PRIMARY KEY, ce_source TEXT NOT NULL, ce_id TEXT NOT NULL, body TEXT NOT NULL)"
        ))
    names = Topics()
    await ensure_topics(settings, [*names.subscribed, *(topics.dead_letter(t) for t in names.subscribed)])
    handler = Handler()
    broker = make_broker(settings)
    Consumer(names.consumer, tuple(names.subscribed), handler, lambda name: UnitOfWork(engine, consumer=name),
             broker, settings, retry_backoff=0.1)
    await broker.start()
    try:
        yield broker, names, handler
    finally:
        await broker.stop()
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA it_consumer CASCADE"))


def _envelope(source: str, event_id: str, subject: str, ce_type: str = EFFECT) -> Envelope:
    return Envelope(id=event_id, source=source, type=ce_type, subject=subject, time=datetime.now(timezone.utc),
                    dataschema="urn:kimhub:schema:test.json")


async def _effects(engine, source: str | None = None, event_id: str | None = None) -> list:
    sql = "SELECT ce_source, ce_id, body FROM it_consumer.effects WHERE true"
    params = {}
    if source is not None:
        sql += " AND ce_source = :s"
        params["s"] = source
    if event_id is not None:
        sql += " AND ce_id = :i"
        params["i"] = event_id
    async with engine.connect() as conn:
        return (await conn.execute(text(sql + " ORDER BY id"), params)).all()


async def _processed(engine, consumer: str, source: str) -> list:
    async with engine.connect() as conn:
        return (await conn.execute(
            select(processed_messages.c.ce_source, processed_messages.c.ce_id)
            .where(processed_messages.c.consumer == consumer, processed_messages.c.ce_source == source)
            .order_by(processed_messages.c.ce_id)
        )).all()


async def _wait_for(fn, what: str, timeout: float = WAIT):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    value = None
    while loop.time() < deadline:
        value = await fn()
        if value:
            return value
        await asyncio.sleep(0.1)
    pytest.fail(f"{what}: not within {timeout}s (last: {value!r})", pytrace=False)


async def _committed(settings, group: str, tp: TopicPartition) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    meta = offsets.get(tp)
    return None if meta is None or meta.offset < 0 else meta.offset


async def test_a_repeated_cloudevent_is_applied_once(engine, consumer_setup):
    broker, names, handler = consumer_setup
    subject = f"p-{uuid.uuid4().hex}"
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    other_source = f"{source}:other"
    first = _envelope(source, "evt-1", subject)
    different = _envelope(other_source, "evt-1", subject)  # same id, other source: another event

    # same key, so one partition: when ``different`` is applied, both copies of ``first`` were consumed
    await broker.publish(b'{"n": 1}', names.idempotent, key=subject.encode(), headers=first.to_headers())
    await broker.publish(b'{"n": 1}', names.idempotent, key=subject.encode(), headers=first.to_headers())
    await broker.publish(b'{"n": 2}', names.idempotent, key=subject.encode(), headers=different.to_headers())

    await _wait_for(lambda: _effects(engine, other_source), "the third record was handled")
    assert [tuple(r) for r in await _effects(engine, source)] == [(source, "evt-1", '{"n": 1}')]
    assert [tuple(r) for r in await _effects(engine, other_source)] == [(other_source, "evt-1", '{"n": 2}')]
    assert await _processed(engine, names.consumer, source) == [(source, "evt-1")]
    assert await _processed(engine, names.consumer, other_source) == [(other_source, "evt-1")]
    # the repeat reached the consumer but not the handler: it was recognised by the claim first
    assert handler.calls.count((source, "evt-1")) == 1


async def test_a_record_without_cloudevents_headers_is_dead_lettered(engine, settings, consumer_setup):
    broker, names, handler = consumer_setup
    marker = uuid.uuid4().hex
    calls_before = len(handler.calls)
    meta = await broker.publish(f'{{"marker": "{marker}"}}'.encode(), names.dlq, key=b"k-" + marker.encode(),
                                headers={"origin": "no envelope"})

    dlq = topics.dead_letter(names.dlq)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(dlq, p) for p in range(settings.topic_partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)

        async def poll():
            for recs in (await consumer.getmany(*tps, timeout_ms=500)).values():
                found = [r for r in recs if marker.encode() in r.value]
                if found:
                    return found
            return None

        [record] = await _wait_for(poll, "dead-lettered record")
    finally:
        await consumer.stop()

    headers = {k: v.decode() for k, v in record.headers}
    assert headers["kimhub_dlq_reason"].startswith("invalid envelope")
    assert headers["kimhub_dlq_origin"] == f"{names.dlq}/{meta.partition}/{meta.offset}"
    assert headers["origin"] == "no envelope"  # the original headers travel along
    assert record.key == b"k-" + marker.encode()
    assert record.value == f'{{"marker": "{marker}"}}'.encode()
    assert len(handler.calls) == calls_before  # never handed to the handler


async def test_a_transient_error_is_retried_and_the_effect_applied_once(engine, settings, consumer_setup):
    broker, names, handler = consumer_setup
    subject = f"p-{uuid.uuid4().hex}"
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    env = _envelope(source, "flaky-1", subject, ce_type=FLAKY)
    meta = await broker.publish(b'{"flaky": true}', names.retry, key=subject.encode(), headers=env.to_headers())
    tp = TopicPartition(names.retry, meta.partition)
    group = f"kimhub-{names.consumer}"

    await asyncio.wait_for(handler.flaky_entered.wait(), WAIT)
    # the first attempt is in progress: its offset is not committed
    committed = await _committed(settings, group, tp)
    assert committed is None or committed <= meta.offset
    handler.flaky_release.set()

    await _wait_for(lambda: _effects(engine, source), "the retried record was applied")
    await _wait_for(lambda: _is_committed(settings, group, tp, meta.offset + 1), "offset committed after success")
    assert handler.calls.count((source, "flaky-1")) == 2  # failed once, then consumed again
    assert [tuple(r) for r in await _effects(engine, source)] == [(source, "flaky-1", '{"flaky": true}')]
    assert await _processed(engine, names.consumer, source) == [(source, "flaky-1")]


async def _is_committed(settings, group, tp, offset) -> bool:
    return await _committed(settings, group, tp) == offset


async def test_a_handler_constraint_violation_is_not_taken_for_a_repeat(engine, settings, consumer_setup):
    broker, names, handler = consumer_setup
    subject = f"p-{uuid.uuid4().hex}"
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    env = _envelope(source, "constraint-1", subject, ce_type=CONSTRAINT)
    meta = await broker.publish(b'{"c": 1}', names.constraint, key=subject.encode(), headers=env.to_headers())
    tp = TopicPartition(names.constraint, meta.partition)
    # the consumer is done with the record once its offset is committed
    await _wait_for(lambda: _is_committed(settings, group=f"kimhub-{names.consumer}", tp=tp, offset=meta.offset + 1),
                    "offset committed")
    dead = topics.dead_letter(names.constraint)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(dead, p) for p in range(settings.topic_partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        dead_lettered = [r for recs in (await consumer.getmany(*tps, timeout_ms=1000)).values() for r in recs]
    finally:
        await consumer.stop()
    applied = await _effects(engine, source)
    assert applied or dead_lettered, "the event was neither applied (after a retry) nor dead-lettered"
