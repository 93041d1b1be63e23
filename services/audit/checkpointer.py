"""Issues signed checkpoints of the log: at least every N seconds while records arrive.

Each checkpoint is stored (one per tree size) and published on ``kim.audit.v1`` through the
outbox, so anybody holding the hub's public key can keep them and later verify the log offline.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit.checkpoint import Checkpoint
from services.audit.handlers import sign_if_grown
from services.audit.note_keys import NoteSigner
from services.audit.repository import AuditRepository
from services.infrastructure import topics
from services.infrastructure.outbox import enqueue
from services.infrastructure.periodic import PeriodicTask

log = logging.getLogger("kimhub.audit")


class Checkpointer(PeriodicTask):
    log = log

    def __init__(self, engine: AsyncEngine, signer: NoteSigner, origin: str, interval: float,
                 after_commit: Callable[[], None] | None = None):
        super().__init__()
        self.engine = engine
        self.signer = signer
        self.origin = origin
        self.interval = interval
        self.after_commit = after_commit

    async def tick(self) -> Checkpoint | None:
        return await self.checkpoint()

    async def checkpoint(self) -> Checkpoint | None:
        """Sign the current tree head if it grew since the last checkpoint (``handlers.sign_if_grown``)."""
        async with self.engine.begin() as conn:
            signed = await sign_if_grown(AuditRepository(conn), self.signer, self.origin)
            if signed is None:
                return None
            await enqueue(conn, topics.AUDIT, *signed.message())
        if self.after_commit:
            self.after_commit()
        return signed.checkpoint
