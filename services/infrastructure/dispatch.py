"""Direct dispatch: the process that commits outbox rows publishes them right after the commit.

The relay (``outbox.OutboxRelay``) reads the outbox, publishes and marks; that costs a
notification, a read and a write transaction per hop and, at low rates, most of a transfer's
latency. On the hot paths (the request group commit and the consumers' batch transactions) the
committing process already holds the rows, so it sends them itself:

- Rows are written with a *lease* (``outbox.lease_until``, a few seconds ahead). The relay leaves
  leased rows alone until the lease expires, so a row is not published twice in normal operation,
  and nothing is lost when this process dies between commit and publish: the relay takes the row
  once the lease has expired.
- After the commit the rows are queued in commit order and sent by one task; a row is marked
  published (one short statement for all rows confirmed within ``mark_interval``) only after the
  broker confirmed it, and only while it still holds its lease (``BrokerWatch`` clears leases when the
  broker lost its topics, so a confirmation from the lost broker cannot mark a row).
- When a send fails, this process stops sending directly: the failed row and every later one are
  handed to the relay (lease cleared; the relay in this process is woken, one in another process
  finds them at its next poll, ``KIMHUB_RELAY_POLL_SECONDS``), which publishes them in id order. Direct
  sending resumes only when no row up to the last one handed over is waiting to be published, so
  one person's messages never overtake each other.

With ``enabled=False`` (``KIMHUB_OUTBOX_DIRECT=false``) rows are written without a lease and the
relay publishes everything, as before.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.infrastructure.db import utcnow
from services.infrastructure.outbox import OutboxBatch, Publisher, Record
from services.infrastructure.tables import outbox

log = logging.getLogger("kimhub.outbox")


class OutboxDispatch:
    def __init__(self, engine: AsyncEngine, publisher: Publisher | None, wake_relay: Callable[[], None],
                 lease_seconds: float = 5.0, enabled: bool = True, retry_seconds: float = 0.5,
                 mark_interval: float = 0.1):
        self.engine = engine
        self.publisher = publisher
        self.wake_relay = wake_relay
        self.lease = timedelta(seconds=lease_seconds)
        self.enabled = enabled and publisher is not None
        self.retry_seconds = retry_seconds
        # Marks may wait (the lease keeps the relay away): one statement per interval, not per send.
        self.mark_interval = min(mark_interval, lease_seconds / 10)
        self._last_mark = 0.0
        self.direct = True  # False after a failed send, until the relay has caught up
        self._to_send: list[tuple[int, Record]] = []
        self._confirmed: list[int] = []
        self._to_hand_over: list[int] = []
        self._handed_up_to = 0  # highest id handed to the relay while not sending directly
        self._send_wake = asyncio.Event()
        self._books_wake = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._sending = False
        self._keeping_books = False
        self._stopping = False

    def begin(self) -> OutboxBatch:
        """A batch for one transaction: its rows are leased to this dispatch (``committed`` sends them)."""
        return OutboxBatch(utcnow() + self.lease if self.enabled else None)

    def committed(self, batch: OutboxBatch) -> None:
        if batch.unleased:
            self.wake_relay()
        if not batch.rows:
            return
        if self.direct and not self._stopping:
            self._to_send.extend(batch.rows)
            self._send_wake.set()
        else:
            self._hand_over([row_id for row_id, _ in batch.rows])
        self._start()

    # --- background work -------------------------------------------------------------------

    def _start(self) -> None:
        if not self._tasks and not self._stopping:
            self._tasks = [asyncio.create_task(self._sender(), name="outbox-dispatch"),
                           asyncio.create_task(self._bookkeeper(), name="outbox-dispatch-books")]

    def _hand_over(self, ids: list[int]) -> None:
        self._to_hand_over.extend(ids)
        self._books_wake.set()

    async def _sender(self) -> None:
        while True:
            await self._send_wake.wait()
            self._send_wake.clear()
            while self._to_send:
                rows, self._to_send = self._to_send, []
                if not self.direct:
                    self._hand_over([row_id for row_id, _ in rows])
                    continue
                self._sending = True
                try:
                    results = await self.publisher.send_batch([record for _, record in rows])
                except Exception as exc:  # noqa: BLE001 — any failure: the relay takes over
                    results = [exc] * len(rows)
                finally:
                    self._sending = False
                ok = next((i for i, err in enumerate(results) if err is not None), len(rows))
                self._confirmed.extend(row_id for row_id, _ in rows[:ok])
                self._books_wake.set()
                if ok < len(rows):
                    log.warning("outbox dispatch: %s; %d message(s) handed to the relay",
                                type(results[ok]).__name__, len(rows) - ok)
                    self.direct = False
                    self._hand_over([row_id for row_id, _ in rows[ok:]])

    async def _bookkeeper(self) -> None:
        """Marks confirmed rows, hands rows to the relay, and decides when to send directly again."""
        while True:
            idle = not (self._confirmed or self._to_hand_over or not self.direct)
            try:
                await asyncio.wait_for(self._books_wake.wait(), None if idle else self.retry_seconds)
            except asyncio.TimeoutError:
                pass
            self._books_wake.clear()
            if self.direct and not self._to_hand_over and not self._stopping:
                await asyncio.sleep(self._last_mark + self.mark_interval - asyncio.get_running_loop().time())
            self._keeping_books = True
            try:
                await self._keep_books()
            except Exception as exc:  # noqa: BLE001 — database away: keep the ids, try again
                log.warning("outbox dispatch bookkeeping: %s; retrying", type(exc).__name__)
                self._keeping_books = False
                await asyncio.sleep(self.retry_seconds)
            finally:
                self._keeping_books = False

    async def _keep_books(self) -> None:
        if self._confirmed:
            ids = self._confirmed
            self._confirmed = []
            self._last_mark = asyncio.get_running_loop().time()
            try:
                await self._mark_published(ids)
            except Exception:
                # Bounded: if the database stays away, the leases expire and the relay sends these
                # rows again (consumers drop the repeats).
                self._confirmed = (ids + self._confirmed)[-100_000:]
                raise
        if self._to_hand_over:
            ids = sorted(self._to_hand_over)
            self._to_hand_over = []
            try:
                await self._release(ids)
            except Exception:
                self._to_hand_over = ids + self._to_hand_over
                raise
            self._handed_up_to = max(self._handed_up_to, ids[-1])
            self.wake_relay()
        if not self.direct and not self._stopping:
            waiting = await self._waiting_for_relay(self._handed_up_to)
            if not waiting and not self._to_hand_over:  # nothing handed over meanwhile
                self.direct = True
                log.info("outbox dispatch: the relay has caught up; sending directly again")

    async def _mark_published(self, ids: list[int]) -> None:
        statement = (update(outbox).where(outbox.c.id.in_(ids), outbox.c.lease_until.is_not(None))
                     .values(published_at=utcnow()))
        if self.engine.dialect.name == "postgresql":  # one statement: no BEGIN/COMMIT round trips
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(statement)
        else:
            async with self.engine.begin() as conn:
                await conn.execute(statement)

    async def _release(self, ids: list[int]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(outbox).where(outbox.c.id.in_(ids), outbox.c.published_at.is_(None))
                               .values(lease_until=None))

    async def _waiting_for_relay(self, up_to: int) -> int:
        """Rows up to ``up_to`` the relay still has to publish (leased rows of other processes aside)."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(
                select(func.count()).select_from(outbox)
                .where(outbox.c.id <= up_to, outbox.c.published_at.is_(None),
                       or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < utcnow()))))

    async def stop(self, seconds: float = 5.0) -> None:
        """Send what is queued, mark what was confirmed; what is left keeps its lease (the relay's)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        busy = lambda: self._to_send or self._sending or self._confirmed or self._keeping_books  # noqa: E731
        while self._tasks and busy() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
