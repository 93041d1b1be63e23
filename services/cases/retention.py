"""The retention job for cases: in the hub process every ``KIMHUB_CASE_RETENTION_INTERVAL_SECONDS``
(``CaseRetention``), or once as ``kimhub retention cases [--now ISO]`` (``run_once``). Either hands
``EraseExpiredCases`` to its handler, with the clock's time or the one given."""
from __future__ import annotations

import logging
from datetime import datetime

from services.cases.commands import EraseExpiredCases
from services.infrastructure.db import utcnow
from services.infrastructure.periodic import PeriodicTask
from services.kernel.identity import Actor

log = logging.getLogger("kimhub.retention")
RETENTION_JOB = Actor("kimhub-retention", "", frozenset())  # the hub itself: the log names it as recorded_by
BATCH = 100


class CaseRetention(PeriodicTask):
    log = log

    def __init__(self, bus, interval: float):
        super().__init__()
        self.bus = bus
        self.interval = interval

    async def tick(self) -> int:
        return await run_once(self.bus, utcnow())


async def run_once(bus, now: datetime) -> int:
    """Erase every case due at ``now``, a batch at a time; how many cases were erased."""
    total = 0
    while True:
        result = await bus.handle(EraseExpiredCases(now=now, limit=BATCH), RETENTION_JOB)
        total += len(result["erased_cases"])
        if result["erased_cases"] or result["late_rows_deleted"]:
            log.info("case retention: %d cases erased (%d persons, %d kept for another case), %d late rows deleted",
                     len(result["erased_cases"]), result["erased_persons"], result["kept_persons"],
                     result["late_rows_deleted"])
        if len(result["erased_cases"]) < BATCH:
            return total
