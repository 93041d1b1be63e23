"""The consent handlers inside a transaction the test holds (so tests can interleave transactions):
each call runs the real handler in a unit of work joining ``conn``; the test commits."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.consent import ConsentTerms, RevocationMethod
from services.audit.log import AuditLog
from services.consent import handlers
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.directory.model import Directory
from services.directory.model import load_directory
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys


def joined(conn: AsyncConnection, audit: AuditLog) -> HubUnitOfWork:
    return HubUnitOfWork(None, audit, joining=conn)


async def record(conn: AsyncConnection, actor: Actor, terms: ConsentTerms, directory: Directory, audit: AuditLog,
                 person: str | None = None) -> tuple[str, int, str]:
    view = await handlers.record(RecordConsent(terms=terms, person=person), actor, joined(conn, audit), directory)
    return view.consent_id, view.versions[-1]["version"], view.person


async def amend(conn: AsyncConnection, actor: Actor, consent_id: str, terms: ConsentTerms, directory: Directory,
                audit: AuditLog) -> int:
    view = await handlers.amend(AmendConsent(consent_id=consent_id, terms=terms), actor, joined(conn, audit), directory,
                                make_keys())
    return view.versions[-1]["version"]


async def revoke(conn: AsyncConnection, actor: Actor, consent_id: str, method: RevocationMethod,
                 audit: AuditLog) -> datetime:
    view = await handlers.revoke(RevokeConsent(consent_id=consent_id, method=method), actor, joined(conn, audit),
                                 load_directory(Settings().directory_file), make_keys())
    return view.revoked_at
