"""The relay is woken across processes when outbox rows are committed (LISTEN/NOTIFY, migration 0005)."""
from __future__ import annotations

import asyncio

from sqlalchemy import delete, insert

from contracts.envelope import Envelope
from services.infrastructure.db import utcnow
from services.infrastructure.outbox_listener import OutboxListener
from services.infrastructure.tables import outbox


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    try:
        await asyncio.wait_for(event.wait(), seconds)
        return True
    except asyncio.TimeoutError:
        return False


async def test_a_committed_outbox_row_wakes_the_listener_and_an_uncommitted_one_does_not(engine, pg_url):
    woken = asyncio.Event()
    listener = OutboxListener(pg_url, woken.set)
    task = asyncio.create_task(listener.run())
    try:
        assert await _wait(woken, 10), "the listener did not start"  # it wakes once when it starts listening
        await asyncio.sleep(0.2)
        woken.clear()
        env = Envelope(id="listener-test", source="urn:kimhub:test", type="test.v1", subject="p-listener",
                       time=utcnow(), dataschema="urn:kimhub:schema:test.json")
        async with engine.connect() as conn:
            tx = await conn.begin()
            await conn.execute(insert(outbox), [{"topic": "test.listener", "key": env.subject, "headers": env.to_headers(),
                                                  "value": b"{}", "created_at": utcnow(), "attempts": 0}])
            assert not await _wait(woken, 0.5), "woken before the commit"
            await tx.rollback()
        assert not await _wait(woken, 0.5), "woken by a rolled-back insert"
        async with engine.begin() as conn:
            await conn.execute(insert(outbox), [{"topic": "test.listener", "key": env.subject, "headers": env.to_headers(),
                                                  "value": b"{}", "created_at": utcnow(), "attempts": 0}])
        assert await _wait(woken, 5), "a committed outbox row did not wake the listener"
    finally:
        listener.stop()
        await asyncio.wait_for(task, 15)
        async with engine.begin() as conn:
            await conn.execute(delete(outbox).where(outbox.c.topic == "test.listener"))
