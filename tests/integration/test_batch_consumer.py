"""Consumers (``services.infrastructure.consumer.Consumer``) with batches on a real broker: a
batch goes to the handler as a whole, one unit of work; a poison record sends it record by record.

Each test publishes its records first and only then starts its consumer, so the first poll returns
them together and the batch path is taken for certain.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, MetaData, String, Table, event, func, select, text

from contracts.envelope import Envelope
from services.infrastructure import topics
from services.infrastructure.bulk import Insert
from services.infrastructure.consumer import Consumer
from services.infrastructure.errors import PermanentError
from services.infrastructure.messaging import ensure_topics, make_broker
from services.infrastructure.uow import UnitOfWork
from services.infrastructure.tables import dead_letters

WAIT = 30.0
POISON = "test.poison.v1"


class Recorder:
    """In its unit of work: claims, writes one effect row per new event; can fail a batch once
    (transient) or always (poison: ``PermanentError`` when it is alone, another error in a batch)."""

    def __init__(self, fail_batch_once_transiently: bool = False) -> None:
        self.calls: list[list[str]] = []  # the event ids of each call, as handed over
        self.fail_once = fail_batch_once_transiently

    async def __call__(self, messages, uow) -> None:
        self.calls.append([m.envelope.id for m in messages])
        async with uow:
            for m in await uow.claim(messages):
                if m.envelope.type == POISON:
                    raise PermanentError("poison") if len(messages) == 1 else ValueError("cannot handle this one")
                await _insert(uow.conn, m.envelope, m.body)
            if self.fail_once:
                self.fail_once = False
                raise ConnectionResetError("database went away")  # after the effects: all must roll back
            await uow.commit()

    def handed_over(self, event_id: str) -> int:
        return sum(event_id in call for call in self.calls)


async def _insert(conn, env: Envelope, body: bytes) -> None:
    await conn.execute(text("INSERT INTO it_batch.effects (ce_source, ce_id, subject, body) VALUES (:s, :i, :k, :b)"),
                       {"s": env.source, "i": env.id, "k": env.subject, "b": body.decode()})


@pytest.fixture(scope="module")
async def effects_table(engine):
    async with engine.begin() as conn:
        await conn.execute(text("CREATE SCHEMA IF NOT EXISTS it_batch"))
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS it_batch.effects (id BIGSERIAL PRIMARY KEY, ce_source TEXT NOT NULL,"
            " ce_id TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL)"))
    yield
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA it_batch CASCADE"))


def _envelope(source: str, event_id: str, subject: str, ce_type: str = "test.effect.v1") -> Envelope:
    return Envelope(id=event_id, source=source, type=ce_type, subject=subject, time=datetime.now(timezone.utc),
                    dataschema="urn:kimhub:schema:test.json")


async def _run(engine, settings, recorder: Recorder, records: list[tuple[Envelope, bytes]], expected: int) -> tuple:
    """Publish ``records``, then consume them with a fresh batch subscriber until ``expected`` effects exist."""
    topic = f"test.batch.{uuid.uuid4().hex}"
    source = records[0][0].source
    await ensure_topics(settings, [topic, topics.dead_letter(topic)])
    producer = make_broker(settings)
    await producer.start()
    try:
        for env, body in records:
            await producer.publish(body, topic, key=env.subject.encode(), headers=env.to_headers())
    finally:
        await producer.stop()
    broker = make_broker(settings)
    Consumer(f"it-batch-{uuid.uuid4().hex[:12]}", (topic,), recorder, lambda name: UnitOfWork(engine, consumer=name),
             broker, settings, retry_backoff=0.1)
    await broker.start()
    try:
        deadline = asyncio.get_running_loop().time() + WAIT
        while True:
            rows = await _effects(engine, source)
            if len(rows) >= expected or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # anything applied twice would show up now
        return await _effects(engine, source), topic
    finally:
        await broker.stop()


async def _effects(engine, source: str) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT ce_id, subject, body FROM it_batch.effects WHERE ce_source = :s"
                                       " ORDER BY id"), {"s": source})
        return [tuple(r) for r in rows]


def _stream(source: str, persons: int, per_person: int) -> list[tuple[Envelope, bytes]]:
    out = []
    for n in range(per_person):
        for p in range(persons):
            out.append((_envelope(source, f"e-{p}-{n}", f"p-{p}"), f'{{"n": {n}}}'.encode()))
    return out


async def test_a_batch_applies_each_event_once_and_each_persons_events_in_order(engine, settings, effects_table):
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    records = _stream(source, persons=5, per_person=6)
    records.insert(7, records[3])  # a repeat inside the batch, under the same CloudEvents id
    recorder = Recorder()
    effects, _ = await _run(engine, settings, recorder, records, expected=30)

    assert sorted(e[0] for e in effects) == sorted(f"e-{p}-{n}" for p in range(5) for n in range(6))
    for p in range(5):
        assert [e[2] for e in effects if e[1] == f"p-{p}"] == [f'{{"n": {n}}}' for n in range(6)]
    assert max(len(call) for call in recorder.calls) > 1, "the batch path was not taken"
    assert all(recorder.handed_over(e[0]) == 1 for e in effects), "handed over again: not one batch"


async def test_a_poison_record_sends_the_batch_one_by_one_and_only_it_is_dead_lettered(engine, settings,
                                                                                      effects_table):
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    records = _stream(source, persons=3, per_person=4)
    records.insert(5, (_envelope(source, "poison", "p-9", POISON), b'{"bad": true}'))
    recorder = Recorder()
    effects, topic = await _run(engine, settings, recorder, records, expected=12)

    assert sorted(e[0] for e in effects) == sorted(f"e-{p}-{n}" for p in range(3) for n in range(4))
    assert ["poison"] in recorder.calls, "the batch did not fall back to one by one"
    async with engine.connect() as conn:
        dead = (await conn.execute(select(dead_letters.c.reason).where(dead_letters.c.topic == topic))).all()
    assert len(dead) == 1 and "poison" in dead[0].reason


async def test_a_transient_failure_rolls_the_batch_back_and_it_is_applied_once_on_retry(engine, settings,
                                                                                       effects_table):
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    records = _stream(source, persons=4, per_person=3)
    recorder = Recorder(fail_batch_once_transiently=True)
    effects, _ = await _run(engine, settings, recorder, records, expected=12)

    assert sorted(e[0] for e in effects) == sorted(f"e-{p}-{n}" for p in range(4) for n in range(3))
    assert len(recorder.calls) >= 2, "the failed batch was not retried"
    assert set(recorder.calls[1]) >= set(recorder.calls[0]), "not retried as a batch"


class BatchWritesConsumer:
    """A consumer whose effect is only rows skipped when already there (as the delivery's: staged
    claims and rows, written at the commit), a producer, and every SQL statement the engine ran."""

    def __init__(self, engine, settings):
        self.engine, self.settings = engine, settings
        self.table = Table(f"it_batch_writes_{uuid.uuid4().hex[:8]}", MetaData(),
                           Column("ce_id", String(40), primary_key=True), Column("body", String(100), nullable=False))
        self.topic = f"test.batch.{uuid.uuid4().hex}"
        self.statements: list[str] = []

    def _seen(self, *args) -> None:  # before_cursor_execute: conn, cursor, statement, ...
        self.statements.append(args[2])

    async def _handle(self, messages, uow) -> None:
        async with uow:
            uow.claim_staged(messages)
            uow.stage(Insert(self.table, [{"ce_id": m.envelope.id, "body": m.body.decode()} for m in messages],
                             skip_conflicts=True))
            await uow.commit()

    async def __aenter__(self):
        async with self.engine.begin() as conn:
            await conn.run_sync(self.table.create)
        await ensure_topics(self.settings, [self.topic, topics.dead_letter(self.topic)])
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._seen)
        self.broker = make_broker(self.settings)
        Consumer(f"it-batch-{uuid.uuid4().hex[:12]}", (self.topic,), self._handle,
                 lambda name: UnitOfWork(self.engine, consumer=name), self.broker, self.settings)
        self.producer = make_broker(self.settings)
        await self.producer.start()
        await self.broker.start()
        return self

    async def __aexit__(self, *exc):
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)
        await self.producer.stop()
        await self.broker.stop()
        async with self.engine.begin() as conn:
            await conn.run_sync(self.table.drop)

    async def publish(self, env: Envelope, body: bytes) -> None:
        await self.producer.publish(body, self.topic, key=env.subject.encode(), headers=env.to_headers())

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(self.table))

    async def wait_for(self, n: int) -> int:
        deadline = asyncio.get_running_loop().time() + WAIT
        while await self.count() < n and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return await self.count()

    def writes_to_table(self) -> list[str]:
        return [s for s in self.statements if f"INSERT INTO {self.table.name}" in s]


async def test_staged_claims_and_effect_are_one_statement_and_repeats_change_nothing(engine, settings):
    """On PostgreSQL the staged claims and effect rows are ONE statement at the commit; a repeat
    inside the batch, and the whole stream published once more (as after a broker lost its memory),
    leave exactly one row per event."""
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    records = _stream(source, persons=3, per_person=4)
    records.insert(4, records[1])  # a repeat inside the batch
    async with BatchWritesConsumer(engine, settings) as c:
        for _ in range(2):
            for env, body in records:
                await c.publish(env, body)
            await asyncio.sleep(0.5)
        await c.wait_for(12)
        await asyncio.sleep(1.0)  # anything applied twice would show up now
        assert await c.count() == 12
    touching = c.writes_to_table()
    assert touching and all("processed_messages" in s for s in touching), "claims and effect apart"


async def test_a_lone_record_is_one_statement_too(engine, settings):
    """At low rates a poll returns one record: it is written as a batch is, claims and rows in one."""
    source = f"urn:kimhub:test:{uuid.uuid4().hex}"
    async with BatchWritesConsumer(engine, settings) as c:
        for n in range(2):  # one at a time: each poll returns a lone record
            await c.publish(_envelope(source, f"lone-{n}", "p-1"), b"{}")
            assert await c.wait_for(n + 1) == n + 1
    touching = c.writes_to_table()
    assert len(touching) == 2 and all("processed_messages" in s for s in touching), "not one statement each"
