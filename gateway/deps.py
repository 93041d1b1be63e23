"""Access to the hub from a request: one unit of work per call, the directory."""
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit.log import AuditLog
from services.directory.model import Directory


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncConnection]:
    """A transaction committed when the block ends (rolled back on error); then the relay is woken."""
    hub = request.app.state.hub
    async with hub.engine.begin() as conn:
        yield conn
    hub.notify_outbox()


def directory(request: Request) -> Directory:
    return request.app.state.hub.directory


def audit(request: Request) -> AuditLog:
    return request.app.state.hub.audit
