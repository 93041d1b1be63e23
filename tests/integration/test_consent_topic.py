"""``kim.consent.v1`` on Apache Kafka is compacted and keyed by consent (issue 17): two consents of one
person have two keys, so compaction, which keeps the latest record per key, keeps both; the topic
says ``cleanup.policy=compact`` (and the bounds on when compaction happens) when read back through the
admin client, also one that was created without it. Erasing a person ends each of their consents with
a tombstone: the latest record of each key then has no value and no header naming the person, so
compaction drops the consent's events with the pseudonym and the terms.

Runs on a private database: the relay publishes every pending row of its database.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.infrastructure import topics
from services.infrastructure.kafka_security import kafka_client_options
from services.infrastructure.messaging import (BrokerPublisher, ensure_compacted, ensure_topics, make_broker,
                                               topic_config, topic_configs)
from services.infrastructure.outbox import OutboxRelay
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, consent_terms
from tests.integration.test_outbox_relay import _read_all
from tests.support import consents
from tests.support.cases import archived_case, run_retention

DAY_MS = 24 * 60 * 60 * 1000
BOUNDED = {"cleanup.policy": "compact", "segment.ms": str(DAY_MS), "max.compaction.lag.ms": str(7 * DAY_MS),
           "delete.retention.ms": str(DAY_MS)}


async def _policy(settings, name: str) -> str | None:
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        return await topic_config(admin, name, "cleanup.policy")
    finally:
        await admin.close()


async def _configs(settings, name: str) -> dict[str, str | None]:
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        configs = await topic_configs(admin, name)
    finally:
        await admin.close()
    return {key: configs.get(key) for key in BOUNDED}


async def _publish_outbox(engine, settings) -> None:
    broker = make_broker(settings)
    await broker.connect()
    try:
        relay = OutboxRelay(engine, BrokerPublisher(broker))
        while await relay.publish_pending():
            pass
    finally:
        await broker.stop()


async def _read_to_end(settings, topic: str) -> list:
    """Every record of ``topic`` up to its end offsets now (a shared topic: however many there are)."""
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:  # the topic's partitions, however many it was created with (by whichever test came first)
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list = []
        async with asyncio.timeout(60):
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for recs in (await consumer.getmany(*tps, timeout_ms=500)).values():
                    records.extend(recs)
        return records
    finally:
        await consumer.stop()


def _raw(record) -> bytes:
    """What a record carries besides its key: the value's bytes and every header's name and bytes."""
    return (record.value or b"") + b"".join(name.encode() + (value or b"") for name, value in record.headers)


async def test_two_consents_of_one_person_keep_two_keys_on_the_compacted_topic(private_engine, settings, directory):
    await ensure_topics(settings, [topics.CONSENT])
    assert await _policy(settings, topics.CONSENT) == "compact"
    async with private_engine.begin() as conn:
        first, _, person = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
        second, _, _ = await consents.record(conn, CM, consent_terms(), directory, AUDIT, person=person)
    async with private_engine.begin() as conn:
        await consents.amend(conn, CM, first, consent_terms(), directory, AUDIT)

    await _publish_outbox(private_engine, settings)
    records = await _read_all(settings.bootstrap, topics.CONSENT, settings.topic_partitions, 3)
    mine = [(r.key.decode(), dict(r.headers)["ce_id"].decode()) for r in records
            if dict(r.headers).get("ce_subject") == person.encode()]
    assert sorted(mine) == sorted([(first, f"{first}/v1"), (first, f"{first}/v2"), (second, f"{second}/v1")])
    # compaction keeps the latest record per key: both consents' latest versions survive it
    latest = {key: ce_id for key, ce_id in mine}
    assert latest == {first: f"{first}/v2", second: f"{second}/v1"}


async def test_a_topic_created_without_compaction_is_made_compacted(settings):
    name = f"test.consent.{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1)])
    finally:
        await admin.close()
    assert await _policy(settings, name) == "delete"
    await ensure_compacted(settings, name)
    assert await _configs(settings, name) == BOUNDED


async def test_an_erased_persons_consents_end_with_a_tombstone_on_the_topic(private_engine, settings, directory):
    engine = private_engine
    await ensure_topics(settings, [topics.CONSENT])
    assert await _configs(settings, topics.CONSENT) == BOUNDED
    terms = consent_terms()
    async with engine.begin() as conn:
        first, _, person = await consents.record(conn, CM, terms, directory, AUDIT)
        second, _, _ = await consents.record(conn, CM, terms, directory, AUDIT, person=person)
    async with engine.begin() as conn:
        await consents.amend(conn, CM, first, terms, directory, AUDIT)
    await _publish_outbox(engine, settings)  # the consent events went out before the erasure
    case = await archived_case(engine, AUDIT, CM, directory, [person])
    done = await run_retention(engine, AUDIT, case["archived_at"] + timedelta(days=366))
    assert done["erased_persons"] == 1
    await _publish_outbox(engine, settings)

    mine = [r for r in await _read_to_end(settings, topics.CONSENT) if r.key in (first.encode(), second.encode())]
    needles = [person.encode(), terms.municipality.encode(), terms.evidence.form_sha256.encode(),
               terms.evidence.form_version.encode()]
    before = [r for r in mine if r.value is not None]
    assert len(before) == 3 and all(all(n in _raw(r) for n in needles) for r in before)  # what was there
    latest = {r.key.decode(): r for r in sorted(mine, key=lambda r: r.offset)}
    assert set(latest) == {first, second}
    for record in latest.values():  # what compaction keeps of each consent: a key, nothing else
        assert record.value is None
        assert not any(n in _raw(record) for n in needles)
        assert not any(name.startswith("ce_") for name, _ in record.headers)


async def test_compaction_on_apache_kafka_leaves_only_the_tombstone_of_an_erased_consent(settings):
    """The broker's log cleaner itself (segments rolled at once here instead of after a day): a consent's
    events with the person in them are gone from the topic, its tombstone stays; another key is untouched."""
    name = f"test.consent.{uuid.uuid4().hex}"
    fast = {"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": str(DAY_MS)}
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=fast)])
    finally:
        await admin.close()
    person = "p-" + uuid.uuid4().hex
    event = b'{"person": "%s", "terms": {"municipality": "05382068"}}' % person.encode()
    broker = make_broker(settings)
    await broker.connect()
    try:
        publisher = BrokerPublisher(broker)
        sent = await publisher.send_batch([(name, b"c-erased", event, {"ce_subject": person}),
                                           (name, b"c-erased", event, {"ce_subject": person}),
                                           (name, b"c-other", b"{}", {}), (name, b"c-erased", None, {})])
        await asyncio.sleep(0.5)
        sent += await publisher.send_batch([(name, b"c-later", b"{}", {})])  # rolls the segment: it can be cleaned
    finally:
        await broker.stop()
    assert sent == [None] * 5
    async with asyncio.timeout(90):  # the log cleaner looks every 15 s (log.cleaner.backoff.ms)
        while True:
            records = await _read_to_end(settings, name)
            if len(records) < 5:
                break
            await asyncio.sleep(2)
    assert [(r.key, r.value) for r in records] == [(b"c-other", b"{}"), (b"c-erased", None), (b"c-later", b"{}")]
    assert not any(person.encode() in _raw(r) for r in records)
