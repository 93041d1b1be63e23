"""Deletes what is no longer needed: published outbox rows (they hold payloads) once they are older
than the replay window (none on Apache Kafka: at the next run), and consumers' processed-message ids
once no replay or repeated delivery can bring their message again."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from services.infrastructure.db import utcnow
from services.infrastructure.periodic import PeriodicTask
from services.infrastructure.tables import outbox, processed_messages

log = logging.getLogger("kimhub.retention")
IDS_KEPT_AT_LEAST = timedelta(days=2)


class Retention(PeriodicTask):
    log = log

    def __init__(self, engine: AsyncEngine, replay_seconds: int, interval: float = 300.0):
        super().__init__()
        self.engine = engine
        self.replay = timedelta(seconds=replay_seconds)
        # A record comes again after a consumer restarts before committing its offset, or when the relay
        # lost a confirmation it then repeats: within minutes, but keep the ids for days (they are small).
        self.keep_ids = max(2 * self.replay, IDS_KEPT_AT_LEAST)
        self.interval = interval

    async def tick(self) -> tuple[int, int]:
        return await self.prune()

    async def prune(self) -> tuple[int, int]:
        """(outbox rows, processed ids) deleted. Ids are kept twice as long as the replay window (two
        days at least), so a replayed or repeated message is always recognised as a repeat."""
        now = utcnow()
        async with self.engine.begin() as conn:
            rows = await conn.execute(delete(outbox).where(outbox.c.published_at < now - self.replay))
            ids = await conn.execute(delete(processed_messages)
                                     .where(processed_messages.c.processed_at < now - self.keep_ids))
        if rows.rowcount or ids.rowcount:
            log.info("retention: deleted %d published outbox rows, %d processed ids", rows.rowcount, ids.rowcount)
        return rows.rowcount, ids.rowcount
