"""Fault tests: real processes (hub, broker, PostgreSQL) on loopback, bounded in time.

Each test owns its broker process and database, so it can kill them without disturbing others.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from tests.conftest import _asyncpg_dsn, create_database, drop_database, start_own_broker
from tests.e2e.conftest import consent_body, referral, wait_for


@pytest.fixture
def broker(tmp_path):
    """Apache Kafka of this test's own, its log on disk under tmp_path."""
    b = start_own_broker(tmp_path / "kafka")
    yield b
    b.stop()


@pytest.fixture
def database():
    url = create_database()
    yield url
    drop_database(url)


@dataclass
class Stream:
    """Sends referrals for a few consenting persons in the background, at a steady rate."""

    client: httpx.Client
    persons: list[str]
    count: int
    rate: float
    accepted: list[str] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # HTTP status codes other than 202

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        for i in range(self.count):
            started = time.monotonic()
            try:
                r = self.client.post("/transfers", json=referral(self.persons[i % len(self.persons)]))
                (self.accepted.append(r.json()["transfer_id"]) if r.status_code == 202 else self.failed.append(r.status_code))
            except httpx.HTTPError:
                self.failed.append(0)
            time.sleep(max(0.0, 1 / self.rate - (time.monotonic() - started)))


def consenting_persons(cm: httpx.Client, n: int) -> list[str]:
    return [cm.post("/consents", json=consent_body()).json()["person"] for _ in range(n)]


def assert_exactly_once(database_url: str, transfer_ids: list[str], timeout: float = 120) -> None:
    """Every accepted transfer ends delivered exactly once (one inbox entry) or refused/withheld, and
    the transfer log has exactly one final record per transfer."""
    dsn = _asyncpg_dsn(database_url)

    async def state():
        conn = await asyncpg.connect(dsn)
        try:
            statuses = dict(await conn.fetch("SELECT id, status FROM transfers WHERE id = ANY($1)", transfer_ids))
            inbox = dict(await conn.fetch("SELECT transfer_id, count(*) FROM inbox_items WHERE transfer_id = ANY($1)"
                                          " GROUP BY transfer_id", transfer_ids))
            finals = dict(await conn.fetch("SELECT transfer_id, count(*) FROM transfer_log WHERE kind = 'transfer'"
                                           " AND transfer_id = ANY($1) GROUP BY transfer_id", transfer_ids))
            return statuses, inbox, finals
        finally:
            await conn.close()

    def settled():
        statuses, inbox, finals = asyncio.run(state())
        pending = [t for t in transfer_ids if statuses.get(t) == "requested"
                   or (statuses.get(t) == "delivered" and t not in inbox)]
        return (statuses, inbox, finals) if not pending else None

    statuses, inbox, finals = wait_for(settled, timeout=timeout, interval=0.5)
    assert set(statuses) == set(transfer_ids), "an accepted transfer is missing"
    for t in transfer_ids:
        assert statuses[t] in ("delivered", "received", "withheld", "refused"), (t, statuses[t])
        assert finals.get(t) == 1, f"{t}: {finals.get(t, 0)} final log records"
        if statuses[t] in ("delivered", "received"):
            assert inbox.get(t) == 1, f"{t}: in the office inbox {inbox.get(t, 0)} times"
