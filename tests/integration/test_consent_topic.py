"""``kim.consent.v1`` on Apache Kafka is compacted and keyed by consent (issue 17): two consents of one
person have two keys, so compaction, which keeps the latest record per key, keeps both; the topic
says ``cleanup.policy=compact`` when read back through the admin client, also one that was created
without it.

Runs on a private database: the relay publishes every pending row of its database.
"""
from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.infrastructure import topics
from services.infrastructure.kafka_security import kafka_client_options
from services.infrastructure.messaging import (BrokerPublisher, ensure_compacted, ensure_topics, make_broker,
                                               topic_config)
from services.infrastructure.outbox import OutboxRelay
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_gate_worker import AUDIT, CM, consent_terms
from tests.integration.test_outbox_relay import _read_all
from tests.support import consents


async def _policy(settings, name: str) -> str | None:
    admin = AIOKafkaAdminClient(client_id="test-admin", **kafka_client_options(settings))
    await admin.start()
    try:
        return await topic_config(admin, name, "cleanup.policy")
    finally:
        await admin.close()


async def test_two_consents_of_one_person_keep_two_keys_on_the_compacted_topic(private_engine, settings, directory):
    await ensure_topics(settings, [topics.CONSENT])
    assert await _policy(settings, topics.CONSENT) == "compact"
    async with private_engine.begin() as conn:
        first, _, person = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
        second, _, _ = await consents.record(conn, CM, consent_terms(), directory, AUDIT, person=person)
    async with private_engine.begin() as conn:
        await consents.amend(conn, CM, first, consent_terms(), directory, AUDIT)

    broker = make_broker(settings)
    await broker.connect()
    try:
        relay = OutboxRelay(private_engine, BrokerPublisher(broker))
        while await relay.publish_pending():
            pass
    finally:
        await broker.stop()
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
    assert await _policy(settings, name) == "compact"
