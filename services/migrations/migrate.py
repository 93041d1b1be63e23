"""Apply the alembic migrations (on start-up or with ``kimhub migrate``)."""
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent  # env.py, script.py.mako, versions/


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(sync_conn) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


MIGRATION_LOCK = 0x6B696D68  # "kimh": one advisory lock id for schema changes


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to head. Several processes may start at once (each migrating on start):
    on PostgreSQL they queue on an advisory lock, so one migrates and the others find it done."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


def _is_current(sync_conn) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return MigrationContext.configure(sync_conn).get_current_revision() == head


async def is_current(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return await conn.run_sync(_is_current)
