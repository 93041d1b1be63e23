"""Broker ACLs on a real Apache Kafka with SASL/SCRAM and the StandardAuthorizer: ``kimhub kafka acls
--apply``, run as the administrator, lets each office read only its own inbox and each hub component
write only what it owns; and the hub's clients really authenticate."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError

from services.infrastructure import topics
from services.infrastructure.kafka_security import kafka_client_options
from services.infrastructure.messaging import ensure_topics, make_broker
from services.kernel.settings import Settings
from tests.conftest import ROOT_DIR
from tests.support.apache_kafka import KafkaProcessError
from tests.support.sasl_kafka import SaslApacheKafka

USERS = {"admin": "admin-secret", "kimhub-gate": "gate-secret", "kimhub-delivery": "delivery-secret",
         "troisdorf-abh": "troisdorf-secret", "rsk-abh": "rsk-secret"}
OWN_INBOX, OTHER_INBOX = topics.office_inbox("troisdorf-abh"), topics.office_inbox("rsk-abh")


def sasl_env(bootstrap: str, user: str, password: str | None = None) -> dict[str, str]:
    return {"KIMHUB_KAFKA_BOOTSTRAP": bootstrap, "KIMHUB_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "KIMHUB_KAFKA_SASL_USERNAME": user, "KIMHUB_KAFKA_SASL_PASSWORD": password or USERS[user]}


def as_principal(bootstrap: str, user: str, password: str | None = None) -> Settings:
    return Settings(**{k[len("KIMHUB_"):].lower(): v for k, v in sasl_env(bootstrap, user, password).items()})


@pytest.fixture(scope="module")
def sasl_broker():
    """A broker of its own with ACLs applied by ``kimhub kafka acls --apply`` as the admin."""
    broker = SaslApacheKafka(Path(tempfile.mkdtemp(prefix="kimhub-kafka-sasl-")), users=USERS)
    try:
        broker.start()
    except KafkaProcessError as exc:
        pytest.fail(f"Apache Kafka is required: {exc}", pytrace=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")}
    done = subprocess.run([sys.executable, "-m", "services.cli", "kafka", "acls", "--apply"], cwd=ROOT_DIR,
                          env={**env, **sasl_env(broker.bootstrap, "admin")}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "ACLs angewendet" in done.stdout
    yield broker
    broker.stop()


async def _read_one(settings: Settings, topic: str, group: str) -> bytes:
    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
                                **kafka_client_options(settings))
    try:
        await consumer.start()
        records = await consumer.getmany(timeout_ms=15000, max_records=1)
        return next(r.value for rs in records.values() for r in rs)
    finally:
        await consumer.stop()


async def _publish(settings: Settings, topic: str, value: bytes) -> None:
    broker = make_broker(settings)  # the hub's own client: SASL, idempotent, acks=all
    await broker.connect()
    try:
        await broker.publish(value, topic, key=b"p-1")
    finally:
        await broker.stop()


async def test_an_office_reads_its_own_inbox_and_no_other(sasl_broker):
    gate = as_principal(sasl_broker.bootstrap, "kimhub-gate")
    await _publish(gate, OWN_INBOX, b"for troisdorf")  # the gate writes every inbox
    await _publish(gate, OTHER_INBOX, b"for rsk")
    office = as_principal(sasl_broker.bootstrap, "troisdorf-abh")
    assert await _read_one(office, OWN_INBOX, "troisdorf-abh") == b"for troisdorf"
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_one(office, OTHER_INBOX, "troisdorf-abh")
    with pytest.raises(GroupAuthorizationFailedError):  # nor in another office's consumer group
        await _read_one(office, OWN_INBOX, "rsk-abh")
    with pytest.raises(TopicAuthorizationFailedError):  # nor the hub's own topics
        await _read_one(office, topics.CONSENT, "troisdorf-abh")


async def test_a_component_writes_only_the_topics_it_owns(sasl_broker):
    delivery = as_principal(sasl_broker.bootstrap, "kimhub-delivery")
    await _publish(delivery, topics.dead_letter(OWN_INBOX), b"poison")  # its dead letters: allowed
    for foreign in (topics.CONSENT, OWN_INBOX, topics.TRANSFER_REQUESTED):
        with pytest.raises(TopicAuthorizationFailedError):
            await _publish(delivery, foreign, b"not mine")


async def test_ensure_topics_as_a_component_leaves_other_topics_alone(sasl_broker):
    gate = as_principal(sasl_broker.bootstrap, "kimhub-gate")
    await ensure_topics(gate, topics.all_topics(["troisdorf-abh", "rsk-abh", "no-such-office"]))  # no error
    admin = as_principal(sasl_broker.bootstrap, "admin")
    consumer = AIOKafkaConsumer(**kafka_client_options(admin))
    await consumer.start()
    try:
        assert topics.office_inbox("no-such-office") not in await consumer.topics()
    finally:
        await consumer.stop()


async def test_a_hub_client_with_a_wrong_password_cannot_connect(sasl_broker):
    wrong = as_principal(sasl_broker.bootstrap, "kimhub-gate", password="not-the-password")
    with pytest.raises(KafkaConnectionError):
        await ensure_topics(wrong, [topics.CONSENT])
    broker = make_broker(wrong)
    with pytest.raises(KafkaConnectionError):
        await broker.connect()
    await broker.stop()
    right = as_principal(sasl_broker.bootstrap, "kimhub-gate")
    await ensure_topics(right, [topics.FEEDBACK])  # the same calls with the right password work
    broker = make_broker(right)
    await broker.connect()
    await broker.stop()
