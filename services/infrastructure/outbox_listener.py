"""Wake the outbox relay when another process committed outbox rows (PostgreSQL LISTEN/NOTIFY).

Migration 0005 makes every insert into ``outbox`` notify ``kimhub_outbox`` at commit. Without
this, a relay in another process (``kimhub serve relay …`` beside ``kimhub serve gateway``) would
find those rows only at its next poll. The poll stays as the safety net: a lost notification or
listener connection delays a message by at most the poll interval, and nothing is lost.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger("kimhub.outbox")

CHANNEL = "kimhub_outbox"


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxListener:
    def __init__(self, database_url: str, wake: Callable[[], None], check_seconds: float = 10.0):
        self.dsn = asyncpg_dsn(database_url)
        self.wake = wake
        self.check_seconds = check_seconds
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        backoff = 0.5
        while not self._stopped.is_set():
            conn = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=10)
                await conn.add_listener(CHANNEL, self._notified)
                self.wake()  # rows committed while nobody listened
                backoff = 0.5
                while not self._stopped.is_set() and not conn.is_closed():
                    try:
                        await asyncio.wait_for(self._stopped.wait(), self.check_seconds)
                    except asyncio.TimeoutError:
                        await conn.execute("SELECT 1")  # notices a silently dropped connection
            except Exception as exc:  # database away: the relay polls meanwhile
                log.warning("outbox listener: %s; reconnecting in %.1fs", type(exc).__name__, backoff)
                try:
                    await asyncio.wait_for(self._stopped.wait(), backoff)
                except asyncio.TimeoutError:
                    pass
                backoff = min(backoff * 2, 10.0)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()

    def _notified(self, *_args) -> None:
        self.wake()
