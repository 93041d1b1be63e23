"""Published outbox rows (they carry payloads) are deleted after the replay window; pending ones never."""
from datetime import timedelta

from sqlalchemy import delete, func, insert, select

from services.infrastructure.db import utcnow
from services.infrastructure.retention import Retention
from services.infrastructure.tables import outbox, processed_messages
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


async def test_without_a_replay_window_published_rows_go_at_once_and_ids_stay_two_days(private_engine):  # noqa: F811
    """Apache Kafka keeps its log: no published payload needs keeping, but a repeated record must
    still be recognised."""
    now = utcnow()
    hour = timedelta(hours=1)
    async with private_engine.begin() as conn:
        await conn.execute(delete(outbox))  # the module's database: start from empty tables
        await conn.execute(delete(processed_messages))
        for key, published in (("published", now - hour / 60), ("pending", None)):
            await conn.execute(insert(outbox).values(topic="t", key=key, headers={}, value=b"{}",
                                                     created_at=now - hour, published_at=published, attempts=0))
        for ce_id, at in (("three-days", now - 72 * hour), ("yesterday", now - 24 * hour)):
            await conn.execute(insert(processed_messages).values(consumer="c", ce_source="s", ce_id=ce_id,
                                                                 processed_at=at))
    assert await Retention(private_engine, replay_seconds=0).prune() == (1, 1)
    async with private_engine.connect() as conn:
        assert set((await conn.execute(select(outbox.c.key))).scalars()) == {"pending"}
        assert set((await conn.execute(select(processed_messages.c.ce_id))).scalars()) == {"yesterday"}
