"""A background task that does one step every ``interval`` seconds until stopped."""
from __future__ import annotations

import asyncio
import logging


class PeriodicTask:
    interval: float = 1.0
    log = logging.getLogger("kimhub")

    def __init__(self) -> None:
        self._stop = asyncio.Event()

    async def tick(self) -> object:
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # database or broker away: try again next round
                self.log.warning("%s failed: %s", type(self).__name__, type(exc).__name__)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
