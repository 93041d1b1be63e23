"""Published outbox rows (they carry payloads) are deleted after the replay window; pending ones never."""
from datetime import timedelta

from sqlalchemy import func, insert, select

from services.shared.db import utcnow
from services.shared.retention import Retention
from services.shared.tables import outbox, processed_messages
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)


async def test_prune_keeps_pending_and_recent_rows(private_engine):  # noqa: F811
    now = utcnow()
    day = timedelta(days=1)
    rows = {"old-published": now - 3 * day, "recent-published": now - day / 24, "pending": None}
    async with private_engine.begin() as conn:
        for key, published in rows.items():
            await conn.execute(insert(outbox).values(topic="t", key=key, headers={}, value=b"{}",
                                                     created_at=now - 4 * day, published_at=published, attempts=0))
        for ce_id, at in (("old", now - 5 * day), ("new", now - day)):
            await conn.execute(insert(processed_messages).values(consumer="c", ce_source="s", ce_id=ce_id,
                                                                 processed_at=at))
    deleted = await Retention(private_engine, replay_seconds=int(day.total_seconds())).prune()
    assert deleted == (1, 1)
    async with private_engine.connect() as conn:
        left = set((await conn.execute(select(outbox.c.key))).scalars())
        ids = set((await conn.execute(select(processed_messages.c.ce_id))).scalars())
        assert await conn.scalar(select(func.count()).select_from(outbox)) == 2
    assert left == {"recent-published", "pending"} and ids == {"new"}
