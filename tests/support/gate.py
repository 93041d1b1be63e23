"""The gate's handlers and consumer inside a transaction the test holds (so tests can interleave
transactions): each call runs the real code in a unit of work joining ``conn``; the test commits."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import Envelope
from services.audit.log import AuditLog
from services.directory.model import Directory
from services.gate import handlers, views, worker
from services.gate.commands import SendTransfer
from services.gate.requests import Outcome
from services.infrastructure.consumer import Message
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys


def joined(conn: AsyncConnection, audit: AuditLog, consumer: str | None = None) -> HubUnitOfWork:
    return HubUnitOfWork(None, audit, joining=conn, consumer=consumer)


async def send(conn: AsyncConnection, actor: Actor, cmd: SendTransfer, directory: Directory,
               audit: AuditLog) -> Outcome:
    return await handlers.send(cmd, actor, joined(conn, audit), directory, make_keys())


async def status(conn: AsyncConnection, actor: Actor, transfer_id: str, audit: AuditLog) -> dict:
    return await views.status(joined(conn, audit), actor, transfer_id)


async def consume(conn: AsyncConnection, items: list[tuple[Envelope, bytes]], directory: Directory,
                  audit: AuditLog) -> None:
    """The gate's consumer handler over these records (as one batch)."""
    messages = [Message(env, body, None) for env, body in items]
    await worker.on_messages(messages, joined(conn, audit, consumer="gate"), directory, make_keys())
