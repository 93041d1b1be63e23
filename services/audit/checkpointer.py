"""Issues signed checkpoints of the log: at least every N seconds while records arrive.

Each checkpoint is stored (one per tree size) and published on ``kim.audit.v1`` through the
outbox, so anybody holding the hub's public key can keep them and later verify the log offline.
"""
from __future__ import annotations

import base64
import logging
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.audit import CheckpointV1
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from services.audit.checkpoint import Checkpoint, NoteSigner, sign_checkpoint
from services.audit.log import tree_head
from services.audit.record import rfc3339
from services.audit.tables import checkpoints
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.infrastructure.outbox import enqueue
from services.infrastructure.periodic import PeriodicTask

log = logging.getLogger("kimhub.audit")
SOURCE = "urn:kimhub:audit"


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
        """Sign the current tree head if it grew since the last checkpoint."""
        try:
            async with self.engine.begin() as conn:
                size, root = await tree_head(conn)
                last = await conn.scalar(select(func.max(checkpoints.c.size)))
                if size == 0 or (last is not None and size <= last):
                    return None
                now = utcnow()
                cp = Checkpoint(self.origin, size, root, (f"time {rfc3339(now)}",))
                note = sign_checkpoint(cp, self.signer)
                await conn.execute(checkpoints.insert().values(size=size, root=root, issued_at=now, note=note))
                event = CheckpointV1(origin=self.origin, size=size, root_hash=base64.b64encode(root).decode(),
                                     issued_at=now, note=note)
                info = by_model(CheckpointV1)
                env = Envelope(id=f"{self.origin}/{size}", source=SOURCE, type=info.ce_type, subject=self.origin,
                               time=now, dataschema=dataschema_uri(info))
                await enqueue(conn, topics.AUDIT, env, event)
        except IntegrityError:  # another process signed this size first
            return None
        if self.after_commit:
            self.after_commit()
        return cp
