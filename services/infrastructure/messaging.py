"""Kafka plumbing: the broker client, topic creation, and the outbox's publisher. Consumers:
``consumer.py``."""
from __future__ import annotations

import asyncio
import logging
from functools import partial

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError
from faststream.kafka import KafkaBroker

from services.infrastructure import metrics, topics, tracing
from services.infrastructure.kafka_security import broker_security, kafka_client_options
from services.infrastructure.outbox import Publisher
from services.kernel.settings import Settings

log = logging.getLogger("kimhub.messaging")
COMPACT = topics.COMPACTION  # the compacted topics' configuration (and why: ``topics.py``)
COMPACTED = {topics.CONSENT}  # keyed by consent id: compaction keeps every consent's latest event


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
        middlewares=(metrics.kafka_middleware(),),  # records received, processed, published, by topic
    )


async def ensure_topics(settings: Settings, names: list[str]) -> None:
    """Create missing topics (an embedded broker forgets them on restart).

    On a cluster with ACLs a component sees only the topics it may use and may create none: the
    others stay as the administrator created them (``kimhub kafka acls --apply``)."""
    admin = _admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in COMPACTED & existing & set(names):  # created before it was compacted, or by hand
            await _keep_compacted(admin, name)
        if not missing:
            return
        new = [NewTopic(name, settings.topic_partitions, settings.topic_replication,
                        topic_configs=dict(COMPACT) if name in COMPACTED else {})
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


async def ensure_compacted(settings: Settings, name: str) -> None:
    """Make an existing topic compacted, with ``COMPACT``'s bounds (``ensure_topics`` does it for the
    consent topic)."""
    admin = _admin(settings)
    await admin.start()
    try:
        await _keep_compacted(admin, name)
    finally:
        await admin.close()


async def topic_config(admin: AIOKafkaAdminClient, name: str, key: str) -> str | None:
    """One configuration value of a topic as the broker reports it; None if it may not be read."""
    return (await topic_configs(admin, name) or {}).get(key)


async def topic_configs(admin: AIOKafkaAdminClient, name: str) -> dict[str, str | None] | None:
    """A topic's configuration as the broker reports it; None if it may not be read."""
    [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    for error_code, _message, _type, _name, entries in response.resources:
        if error_code:
            return None
        return {entry[0]: entry[1] for entry in entries}
    return None


async def _keep_compacted(admin: AIOKafkaAdminClient, name: str) -> None:
    """Compaction keeps the latest record per key (the consent topic: per consent). ``COMPACT`` is set
    on a topic that lacks it; without the right to read or change it (broker ACLs) it is left to the
    administrator. ``alter_configs`` sets the topic's whole dynamic configuration: the hub sets no
    other on it."""
    configs = await topic_configs(admin, name)
    if configs is None:
        return
    wanted = compaction_configs(configs)
    differing = sorted(key for key, value in wanted.items() if configs.get(key) != value)
    if not differing:
        return
    [response] = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, wanted)])
    errors = [code for code, *_ in response.resources if code]
    if errors:
        log.warning("topic %s: %s not set, Kafka error %d", name, ", ".join(differing), errors[0])
    else:
        log.warning("topic %s: %s set for compaction", name, ", ".join(differing))


def compaction_configs(current: dict[str, str | None]) -> dict[str, str]:
    """``COMPACT``, keeping what the topic has where it is as strict: a policy that compacts (also
    ``compact,delete``), a time no longer than the hub's."""
    wanted = {}
    for key, value in COMPACT.items():
        have = current.get(key) or ""
        if key == "cleanup.policy":
            strict = "compact" in have.split(",")
        else:
            strict = have.isdigit() and int(have) <= int(value)
        wanted[key] = have if strict else value
    return wanted


def _admin(settings: Settings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(client_id=f"{settings.kafka_client_id}-admin", **kafka_client_options(settings))


class BrokerPublisher(Publisher):
    def __init__(self, broker: KafkaBroker):
        self.broker = broker

    async def send_batch(self, records):
        futures = []
        for topic, key, value, headers in records:
            span = tracing.publishing(topic, headers)  # None unless tracing is on
            try:
                # a keyed None is a Kafka tombstone (a null value, not b""): FastStream >= 0.7.8
                future = await self.broker.publish(value, topic, key=key, headers=headers, no_confirm=True)
            except Exception as exc:  # the producer refused before sending
                future = _failed(exc)
            if span is not None:
                future.add_done_callback(partial(_end_span, span))
            futures.append(future)
        return [None if not isinstance(r, Exception) else r for r in await asyncio.gather(*futures, return_exceptions=True)]


def _end_span(span, future: asyncio.Future) -> None:
    """The publish span lasts until the broker confirmed the record (or refused it)."""
    tracing.end(span, None if future.cancelled() else future.exception())


def _failed(exc: Exception) -> asyncio.Future:
    f = asyncio.get_running_loop().create_future()
    f.set_exception(exc)
    return f
