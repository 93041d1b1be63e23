"""The outbox relay: rows written in a transaction reach the broker once; only confirmed rows are marked.

Runs on a private database (see ``private_db``): ``publish_pending`` publishes every pending row,
and a hub from the e2e tests may be relaying on the shared session database at the same time.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timezone

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select

from contracts.envelope import Envelope
from contracts.transfer import ReceiptV1
from services.infrastructure.messaging import BrokerPublisher, ensure_topics, make_broker
from services.infrastructure.outbox import OutboxRelay, Publisher, enqueue
from services.infrastructure.tables import outbox
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)

N = 12


def _message(i: int, run: str) -> tuple[Envelope, ReceiptV1]:
    now = datetime.now(timezone.utc)
    person = f"p-{uuid.uuid4().hex}"
    env = Envelope(id=f"{run}/{i}", source="urn:kimhub:test", type="de.nrw.kim.transfer.receipt.v1",
                   subject=person, time=now, dataschema="urn:kimhub:schema:transfer-receipt.v1.json")
    body = ReceiptV1(transfer_id=f"t-{run}-{i}", office="troisdorf-abh", received_by="clerk", received_at=now)
    return env, body


async def _enqueue(engine, topic: str, n: int) -> list[tuple[Envelope, ReceiptV1]]:
    run = uuid.uuid4().hex
    messages = [_message(i, run) for i in range(n)]
    async with engine.begin() as conn:
        for env, body in messages:
            await enqueue(conn, topic, env, body)
    return messages


async def _rows(engine, topic: str):
    async with engine.connect() as conn:
        return (await conn.execute(select(outbox).where(outbox.c.topic == topic).order_by(outbox.c.id))).all()


async def _read_all(bootstrap: str, topic: str, partitions: int, expect: int, timeout: float = 30) -> list:
    """Every record of ``topic`` from the beginning, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records: list = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            batch = await consumer.getmany(*tps, timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
            if len(records) >= expect:
                # one more short poll: a duplicate would show up here
                for recs in (await consumer.getmany(*tps, timeout_ms=1000)).values():
                    records.extend(recs)
                break
        return records
    finally:
        await consumer.stop()


async def test_relay_publishes_every_row_once_with_cloudevents_headers(private_engine, settings):
    topic = f"test.outbox.{uuid.uuid4().hex}"
    await ensure_topics(settings, [topic])
    messages = await _enqueue(private_engine, topic, N)
    assert all(r.published_at is None and r.attempts == 0 for r in await _rows(private_engine, topic))

    broker = make_broker(settings)
    await broker.connect()
    try:
        relay = OutboxRelay(private_engine, BrokerPublisher(broker))
        sent = 0
        for _ in range(5):  # one batch suffices; loop only in case other pending rows came first
            n = await relay.publish_pending()
            sent += n
            if n == 0:
                break
        assert sent >= N
        assert await relay.publish_pending() == 0  # nothing left, nothing sent again
    finally:
        await broker.stop()

    rows = await _rows(private_engine, topic)
    assert len(rows) == N
    assert all(r.published_at is not None and r.last_error is None for r in rows)

    records = await _read_all(settings.bootstrap, topic, settings.topic_partitions, N)
    by_id: dict[str, list] = {}
    for rec in records:
        headers = {k: v.decode() for k, v in rec.headers}
        by_id.setdefault(headers.get("ce_id"), []).append((rec, headers))
    expected = {env.id: (env, body) for env, body in messages}
    assert set(by_id) == set(expected), "every message arrives, nothing else does"
    assert all(len(v) == 1 for v in by_id.values()), "no message arrives twice"
    for ce_id, [(rec, headers)] in by_id.items():
        env, body = expected[ce_id]
        assert rec.key == env.subject.encode()
        assert headers["ce_subject"] == env.subject
        for name, value in env.to_headers().items():
            assert headers[name] == value, name
        assert ReceiptV1.model_validate_json(rec.value) == body


class FlakyPublisher(Publisher):
    """Confirms everything except the ``fail_at``-th record of ``topic`` (1-based), in the first call only."""

    def __init__(self, topic: str, fail_at: int | None):
        self.topic = topic
        self.fail_at = fail_at
        self.calls: list[list[tuple]] = []

    async def send_batch(self, records):
        self.calls.append(records)
        results: list[Exception | None] = []
        mine = 0
        for topic, _key, _value, _headers in records:
            if topic == self.topic:
                mine += 1
                if mine == self.fail_at:
                    results.append(ConnectionError("broker went away"))
                    continue
            results.append(None)
        return results


async def test_only_the_confirmed_prefix_is_marked_published(private_engine):
    topic = f"test.outbox.{uuid.uuid4().hex}"
    messages = await _enqueue(private_engine, topic, 5)

    flaky = FlakyPublisher(topic, fail_at=3)
    await OutboxRelay(private_engine, flaky).publish_pending()
    rows = await _rows(private_engine, topic)
    assert [r.published_at is not None for r in rows] == [True, True, False, False, False]
    assert [r.attempts for r in rows] == [0, 0, 1, 0, 0]
    assert rows[2].last_error == "ConnectionError"
    assert [r.last_error for r in rows[3:]] == [None, None]
    # the relay handed over every row, in order, with key = subject and the envelope as headers
    sent = [rec for rec in flaky.calls[0] if rec[0] == topic]
    assert [rec[3]["ce_id"] for rec in sent] == [env.id for env, _ in messages]
    assert all(rec[1] == env.subject.encode() for rec, (env, _) in zip(sent, messages))

    ok = FlakyPublisher(topic, fail_at=None)
    await OutboxRelay(private_engine, ok).publish_pending()
    resent = [rec[3]["ce_id"] for call in ok.calls for rec in call if rec[0] == topic]
    assert resent == [env.id for env, _ in messages[2:]], "only the unconfirmed rows are sent again, in order"
    rows = await _rows(private_engine, topic)
    assert all(r.published_at is not None for r in rows)
    assert [r.attempts for r in rows] == [0, 0, 1, 0, 0]

    assert await OutboxRelay(private_engine, ok).publish_pending() == 0
    assert len(ok.calls) == 1  # nothing pending: the publisher is not even called


async def test_failure_of_the_first_row_marks_nothing(private_engine):
    topic = f"test.outbox.{uuid.uuid4().hex}"
    await _enqueue(private_engine, topic, 3)
    await OutboxRelay(private_engine, FlakyPublisher(topic, fail_at=1)).publish_pending()
    rows = await _rows(private_engine, topic)
    assert [r.published_at for r in rows] == [None, None, None]
    assert [r.attempts for r in rows] == [1, 0, 0]
    await OutboxRelay(private_engine, FlakyPublisher(topic, fail_at=None)).publish_pending()
    assert all(r.published_at is not None for r in await _rows(private_engine, topic))
