"""``kimhub retention cases [--now ISO]``: run the case retention job once (operators; tests with a
clock they control) against the database in ``KIMHUB_DATABASE_URL``."""
from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from services.audit import keys
from services.audit.log import AuditLog
from services.bus import MessageBus
from services.cases.retention import run_once
from services.directory.model import load_directory
from services.infrastructure.db import create_engine, utcnow
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork


def add_parser(sub) -> None:
    retention = sub.add_parser("retention", help="erase what is past its retention period")
    cmds = retention.add_subparsers(dest="retention_command", required=True)
    cases = cmds.add_parser("cases", help="erase every case archived longer than KIMHUB_CASE_RETENTION_DAYS")
    cases.add_argument("--now", type=_aware, help="the time to decide at (ISO 8601 with zone); default: now")


def _aware(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise argparse.ArgumentTypeError("Zeitpunkt nach ISO 8601 mit Zeitzone angeben, z. B. 2027-01-01T00:00:00Z")
    return value


def run(args, settings: Settings) -> int:
    count = asyncio.run(_cases(settings, args.now or utcnow()))
    print(f"Aufbewahrungsfrist: {count} Fälle gelöscht "
          f"(Frist {settings.case_retention_days} Tage nach Archivierung).")
    return 0


async def _cases(settings: Settings, now: datetime) -> int:
    engine = create_engine(settings.effective_database_url, 2)
    audit = AuditLog(keys.pseudonym_key(settings))
    bus = MessageBus(lambda: HubUnitOfWork(engine, audit), directory=load_directory(settings.directory_file),
                     settings=settings, signer=None, cosigners=[], keys=None)
    try:
        return await run_once(bus, now)
    finally:
        await engine.dispose()
