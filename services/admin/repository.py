"""Dead-lettered messages in the database."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection


class DeadLetterRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn
