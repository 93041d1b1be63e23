"""Deletes what is no longer needed: published outbox rows (they hold payloads) once they are older
than the replay window, and consumers' processed-message ids once no replay can repeat them."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from services.shared.db import utcnow
from services.shared.periodic import PeriodicTask
from services.shared.tables import outbox, processed_messages

log = logging.getLogger("kimhub.retention")


class Retention(PeriodicTask):
    log = log

    def __init__(self, engine: AsyncEngine, replay_seconds: int, interval: float = 300.0):
        super().__init__()
        self.engine = engine
        self.replay = timedelta(seconds=replay_seconds)
        self.interval = interval

    async def tick(self) -> tuple[int, int]:
        return await self.prune()

    async def prune(self) -> tuple[int, int]:
        """(outbox rows, processed ids) deleted. Ids are kept twice as long as the replay window,
        so a replayed message is always recognised as a repeat."""
        now = utcnow()
        async with self.engine.begin() as conn:
            rows = await conn.execute(delete(outbox).where(outbox.c.published_at < now - self.replay))
            ids = await conn.execute(delete(processed_messages)
                                     .where(processed_messages.c.processed_at < now - 2 * self.replay))
        if rows.rowcount or ids.rowcount:
            log.info("retention: deleted %d published outbox rows, %d processed ids", rows.rowcount, ids.rowcount)
        return rows.rowcount, ids.rowcount
