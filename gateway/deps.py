"""Access to the hub from a request: one unit of work per call, the directory."""
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit.log import AuditLog
from services.bus import MessageBus
from services.directory.model import Directory
from services.unit_of_work import HubUnitOfWork


@asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[AsyncConnection]:
    """A transaction committed when the block ends (rolled back on error); then the relay is woken."""
    hub = request.app.state.hub
    async with hub.engine.begin() as conn:
        yield conn
    hub.notify_outbox()


def bus(request: Request) -> MessageBus:
    """The commands' handlers: a route builds one command and hands it over."""
    return request.app.state.hub.bus


def new_uow(request: Request) -> HubUnitOfWork:
    """A unit of work for a read (views)."""
    return request.app.state.hub.new_uow()


def directory(request: Request) -> Directory:
    return request.app.state.hub.directory


def audit(request: Request) -> AuditLog:
    return request.app.state.hub.audit
