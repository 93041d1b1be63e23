"""Checklist versions, pre-checks and documents in the database."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection


class ChecklistRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn
