"""Notices when the broker lost its topics (the embedded broker keeps nothing across a restart;
on Apache Kafka it runs only when a replay window is set, e.g. for a cluster that may be rebuilt) and recovers: topics are created again and every outbox message
published within the replay window is published again. Consumers drop what they already
processed (inbox table keyed by CloudEvents source + id), so a replay repeats nothing."""
from __future__ import annotations

import logging
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine

from services.infrastructure.db import utcnow
from services.infrastructure.kafka_security import kafka_client_options
from services.infrastructure.messaging import ensure_topics
from services.infrastructure.outbox import requeue
from services.infrastructure.periodic import PeriodicTask
from services.kernel.settings import Settings

log = logging.getLogger("kimhub.broker-watch")


class BrokerWatch(PeriodicTask):
    log = log

    def __init__(self, settings: Settings, engine: AsyncEngine, topic_names: list[str], interval: float = 3.0,
                 on_replay=None):
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.topics = topic_names
        self.interval = interval
        self.on_replay = on_replay

    async def tick(self) -> int:
        return await self.check()

    async def check(self) -> int:
        """Returns how many outbox messages were queued again (0 when all topics are there)."""
        admin = AIOKafkaAdminClient(request_timeout_ms=5000, **kafka_client_options(self.settings))
        await admin.start()
        try:
            existing = set(await admin.list_topics())
        finally:
            await admin.close()
        if all(t in existing for t in self.topics):
            return 0
        await ensure_topics(self.settings, self.topics)
        since = utcnow() - timedelta(seconds=self.settings.replay_window_seconds)
        async with self.engine.begin() as conn:
            count = await requeue(conn, since)
        log.warning("broker lost its topics: created them again, re-publishing %d message(s)", count)
        if self.on_replay:
            self.on_replay()
        return count
