"""The cases and rights handlers in their own units of work on an engine, for the tests."""
from __future__ import annotations

from datetime import datetime

from services.audit.log import AuditLog
from services.cases import handlers as cases
from services.cases.commands import ArchiveCase, CreateCase, EraseExpiredCases
from services.cases.retention import RETENTION_JOB
from services.directory.model import Directory
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork

SETTINGS = Settings(case_retention_days=365)


def uow(engine, audit: AuditLog) -> HubUnitOfWork:
    return HubUnitOfWork(engine, audit)


async def archived_case(engine, audit: AuditLog, actor: Actor, directory: Directory, persons: list[str]) -> dict:
    """A case of ``persons`` created and archived now: its view (``archived_at``)."""
    case = await cases.create_case(CreateCase(persons=persons), actor, uow(engine, audit))
    return await cases.archive_case(ArchiveCase(case_id=case["case_id"]), actor, uow(engine, audit), directory)


async def run_retention(engine, audit: AuditLog, now: datetime) -> dict:
    """The retention job once, at ``now`` (the test's clock)."""
    return await cases.erase_expired_cases(EraseExpiredCases(now=now), RETENTION_JOB, uow(engine, audit), SETTINGS)
