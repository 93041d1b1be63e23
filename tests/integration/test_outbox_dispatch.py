"""Direct dispatch: the committing process publishes its outbox rows itself, the relay is the safety net.

On a private PostgreSQL database (see ``private_db``) and, where the embedded set-up takes the same
path, on SQLite: the tests assert on pending rows and run the relay by hand. The first test
publishes through the real broker; the others script the broker's answers (which records fail) to
reach the failure paths deterministically.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from contracts.transfer import ReceiptV1
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.consumer import Consumer
from services.infrastructure.messaging import BrokerPublisher, ensure_topics, make_broker
from services.infrastructure.uow import UnitOfWork
from services.infrastructure.outbox import OutboxRelay, Publisher, requeue
from tests.integration.private_db import any_engine, private_engine, sqlite_engine  # noqa: F401  (fixtures)
from tests.integration.test_outbox_relay import _message, _read_all, _rows


class ScriptedPublisher(Publisher):
    """Records every record it is given; fails the records whose ce_id is in ``fail``;
    with ``hold`` set, waits for it before answering."""

    def __init__(self, fail: set[str] | None = None):
        self.fail = fail or set()
        self.sent: list[str] = []
        self.hold: asyncio.Event | None = None

    async def send_batch(self, records):
        if self.hold is not None:
            await self.hold.wait()
        results = []
        for _topic, _key, _value, headers in records:
            self.sent.append(headers["ce_id"])
            results.append(ConnectionError("broker went away") if headers["ce_id"] in self.fail else None)
        return results


async def _commit(engine, dispatch: OutboxDispatch, topic: str, n: int, person: str | None = None) -> list[str]:
    """``n`` messages (all for ``person`` if given) in one unit of work with the dispatch; their ce_ids."""
    run = uuid.uuid4().hex
    messages = [_message(i, run) for i in range(n)]
    if person:
        messages = [(env.model_copy(update={"subject": person}), body) for env, body in messages]
    async with UnitOfWork(engine, dispatch) as uow:
        await uow.outbox.add_many([(topic, env, body) for env, body in messages])
        await uow.commit()
    return [env.id for env, _ in messages]


async def _eventually(check, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def _published(engine, topic: str):
    async def check() -> bool:
        return all(r.published_at is not None for r in await _rows(engine, topic))
    return check


async def test_rows_are_published_after_commit_by_the_committing_process(private_engine, settings):
    topic = f"test.dispatch.{uuid.uuid4().hex}"
    await ensure_topics(settings, [topic])
    broker = make_broker(settings)
    await broker.connect()
    woken: list[int] = []
    dispatch = OutboxDispatch(private_engine, BrokerPublisher(broker), wake_relay=lambda: woken.append(1))
    try:
        ids = await _commit(private_engine, dispatch, topic, 5) + await _commit(private_engine, dispatch, topic, 3)
        await _eventually(_published(private_engine, topic))
    finally:
        await dispatch.stop()
        await broker.stop()

    rows = await _rows(private_engine, topic)
    assert len(rows) == 8 and all(r.lease_until is not None for r in rows)
    records = await _read_all(settings.bootstrap, topic, settings.topic_partitions, 8)
    arrived = [dict(r.headers)["ce_id"].decode() for r in records]
    assert sorted(arrived) == sorted(ids), "every message arrives once, nothing else does"
    assert woken == [], "leased rows do not wake the relay"
    assert await OutboxRelay(private_engine, ScriptedPublisher()).publish_pending() == 0


async def test_a_rolled_back_transaction_sends_nothing(any_engine):
    topic = f"test.dispatch.{uuid.uuid4().hex}"
    publisher = ScriptedPublisher()
    dispatch = OutboxDispatch(any_engine, publisher, wake_relay=lambda: None)
    with pytest.raises(RuntimeError):
        async with UnitOfWork(any_engine, dispatch) as uow:
            env, body = _message(0, uuid.uuid4().hex)
            await uow.outbox.add(topic, env, body)
            await uow.flush()  # written, then the business change fails: nothing may be sent
            raise RuntimeError("the business change failed")
    await asyncio.sleep(0.2)
    await dispatch.stop()
    assert publisher.sent == [] and await _rows(any_engine, topic) == []


async def test_the_relay_takes_a_leased_row_only_after_its_lease_expired(any_engine):
    """The committing process died (here: never answers) after the commit: nothing is lost."""
    topic = f"test.dispatch.{uuid.uuid4().hex}"
    stuck = ScriptedPublisher()
    stuck.hold = asyncio.Event()  # never set
    dispatch = OutboxDispatch(any_engine, stuck, wake_relay=lambda: None, lease_seconds=1.0)
    ids = await _commit(any_engine, dispatch, topic, 3)

    relay_publisher = ScriptedPublisher()
    relay = OutboxRelay(any_engine, relay_publisher)
    assert await relay.publish_pending() == 0 and relay_publisher.sent == []
    await asyncio.sleep(1.2)
    assert await relay.publish_pending() == 3
    assert relay_publisher.sent == ids
    assert all(r.published_at is not None for r in await _rows(any_engine, topic))
    await dispatch.stop(seconds=0)


async def test_after_a_failed_send_the_relay_publishes_in_order_then_direct_sending_resumes(any_engine):
    topic = f"test.dispatch.{uuid.uuid4().hex}"
    person = f"p-{uuid.uuid4().hex}"
    woken = asyncio.Event()
    publisher = ScriptedPublisher()
    dispatch = OutboxDispatch(any_engine, publisher, wake_relay=woken.set, retry_seconds=0.05)

    # The broker fails the third of five: two are confirmed, three go to the relay.
    run_ids = await _commit_with_failure(any_engine, dispatch, topic, person, publisher, fail_index=2)
    await _eventually(_lease_cleared(any_engine, topic, 3))
    assert not dispatch.direct and woken.is_set()
    # Committed while not sending directly: the dispatch leaves it to the relay, behind the failed ones.
    later = await _commit(any_engine, dispatch, topic, 2, person)
    await _eventually(_lease_cleared(any_engine, topic, 5))
    assert publisher.sent == run_ids, "nothing is sent directly after the failure"

    relay_publisher = ScriptedPublisher()
    assert await OutboxRelay(any_engine, relay_publisher).publish_pending() == 5
    assert relay_publisher.sent == run_ids[2:] + later, "the relay publishes the person's messages in order"

    await _eventually(lambda: _true(dispatch.direct))
    resumed = await _commit(any_engine, dispatch, topic, 2, person)
    await _eventually(_published(any_engine, topic))
    assert publisher.sent == run_ids + resumed
    await dispatch.stop()


async def _commit_with_failure(engine, dispatch, topic, person, publisher, fail_index: int) -> list[str]:
    """Five messages in one transaction, the ``fail_index``-th refused by the broker."""
    publisher.hold = asyncio.Event()
    ids = await _commit(engine, dispatch, topic, 5, person)
    publisher.fail = {ids[fail_index]}
    publisher.hold.set()
    return ids


def _lease_cleared(engine, topic: str, n: int):
    async def check() -> bool:
        return sum(r.lease_until is None and r.published_at is None for r in await _rows(engine, topic)) == n
    return check


async def _true(value: bool) -> bool:
    return value


async def test_a_confirmation_after_requeue_does_not_mark_the_row(any_engine):
    """The broker lost its topics while a send was under way: the replay must publish the row again."""
    topic = f"test.dispatch.{uuid.uuid4().hex}"
    publisher = ScriptedPublisher()
    publisher.hold = asyncio.Event()
    dispatch = OutboxDispatch(any_engine, publisher, wake_relay=lambda: None)
    await _commit(any_engine, dispatch, topic, 2)
    async with any_engine.begin() as conn:  # what BrokerWatch does when the topics are gone
        assert await requeue(conn, utcnow() - timedelta(hours=1)) >= 2
    publisher.hold.set()  # the lost broker's late confirmation
    await _eventually(lambda: _true(len(publisher.sent) == 2))
    await dispatch.stop()
    rows = await _rows(any_engine, topic)
    assert [(r.published_at, r.lease_until) for r in rows] == [(None, None)] * 2, "left for the relay"


async def test_a_consumer_publishes_what_it_enqueued_itself_for_one_record_and_for_a_batch(private_engine, settings):
    """What a consumer's unit of work enqueued is published by the committing process, for a lone
    record and for a batch."""
    in_topic, out_topic = f"test.dispatch.in.{uuid.uuid4().hex}", f"test.dispatch.out.{uuid.uuid4().hex}"
    await ensure_topics(settings, [in_topic, topics.dead_letter(in_topic)])
    publisher = ScriptedPublisher()
    woken: list[int] = []
    dispatch = OutboxDispatch(private_engine, publisher, wake_relay=lambda: woken.append(1))

    async def handle(messages, uow) -> None:
        async with uow:
            await uow.outbox.add_many([(out_topic, m.envelope.model_copy(update={"id": m.envelope.id + "/out"}),
                                        ReceiptV1.model_validate_json(m.body)) for m in await uow.claim(messages)])
            await uow.commit()

    broker = make_broker(settings)
    Consumer(f"it-dispatch-{uuid.uuid4().hex[:12]}", (in_topic,), handle,
             lambda name: UnitOfWork(private_engine, dispatch, consumer=name), broker, settings)
    await broker.start()
    run = uuid.uuid4().hex
    sent_in: list[str] = []
    try:
        for group in ([0], [1, 2, 3]):
            for i in group:
                env, body = _message(i, run)
                await broker.publish(body.model_dump_json().encode(), in_topic, key=env.subject.encode(),
                                     headers=env.to_headers())
                sent_in.append(env.id)
            await _eventually(lambda: _true(len(publisher.sent) >= len(sent_in)), seconds=30)
        await _eventually(_published(private_engine, out_topic))
    finally:
        await broker.stop()
        await dispatch.stop()
    assert sorted(publisher.sent) == sorted(f"{ce_id}/out" for ce_id in sent_in)
    assert woken == [], "nothing was left to the relay"
