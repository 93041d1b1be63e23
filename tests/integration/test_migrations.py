"""The alembic migrations build exactly the schema the code declares, on PostgreSQL and SQLite.

``compare_metadata`` runs with ``compare_type=True`` (as ``migrations/env.py`` configures it).
Both backends report no difference at all, so no dialect-specific type rendering (JSON vs
JSONB, ``UtcDateTime`` vs ``TIMESTAMP WITH TIME ZONE``/``DATETIME``, BIGINT vs INTEGER for the
SQLite rowid keys) needs to be tolerated: on fresh databases the assertion is an exact ``== []``.

The session database (``engine``) is shared with other tests, which may add scratch tables of
their own; there, and only there, tables unknown to the metadata are ignored. That migrations
create no such table is asserted on the fresh databases.
"""
from __future__ import annotations

import asyncio
import uuid

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from services.migrations import migrate
from services.infrastructure.db import create_engine
from services.migrations.schema import metadata
from tests.conftest import pg_server, _with_database, create_database, drop_database
from tests.integration.private_db import _admin

APPEND_ONLY_TRIGGERS = {"transfer_log_append_only", "transfer_log_no_truncate"}


def _diff(sync_conn) -> list:
    ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return compare_metadata(ctx, metadata)


def _diff_ignoring_foreign_tables(sync_conn) -> list:
    return [d for d in _diff(sync_conn)
            if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name not in metadata.tables)]


def _schema_snapshot(sync_conn) -> dict:
    insp = inspect(sync_conn)
    return {
        t: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
            insp.get_pk_constraint(t)["constrained_columns"],
            sorted((f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                   for f in insp.get_foreign_keys(t)),
        )
        for t in sorted(insp.get_table_names())
    }


async def _revisions(engine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars())


async def _triggers(engine) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'transfer_log'::regclass AND NOT tgisinternal"
        ))).scalars())


def _head() -> str:
    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def _assert_upgrade_is_idempotent(engine, exact: bool) -> None:
    diff = _diff if exact else _diff_ignoring_foreign_tables
    async with engine.connect() as conn:
        before = await conn.run_sync(_schema_snapshot)
    await migrate.upgrade(engine)  # second run: nothing to do
    assert await migrate.is_current(engine)
    assert await _revisions(engine) == [_head()]
    async with engine.connect() as conn:
        assert await conn.run_sync(_schema_snapshot) == before
        assert await conn.run_sync(diff) == []


async def test_session_postgresql_schema_matches_metadata(engine):
    assert await migrate.is_current(engine)
    assert await _revisions(engine) == [_head()]
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff_ignoring_foreign_tables) == []
    assert await _triggers(engine) == APPEND_ONLY_TRIGGERS


async def test_session_postgresql_upgrade_twice_is_a_no_op(engine):
    await _assert_upgrade_is_idempotent(engine, exact=False)
    assert await _triggers(engine) == APPEND_ONLY_TRIGGERS


async def test_fresh_postgresql_database():
    name = f"kimhub_test_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(_with_database(pg_server(), name).replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        assert not await migrate.is_current(engine)  # empty database: no alembic_version yet
        await migrate.upgrade(engine)
        assert await migrate.is_current(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables == set(metadata.tables) | {"alembic_version"}
        assert await _triggers(engine) == APPEND_ONLY_TRIGGERS
        await _assert_upgrade_is_idempotent(engine, exact=True)
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_fresh_sqlite_database(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'kimhub.db'}")
    try:
        assert not await migrate.is_current(engine)  # empty database: no alembic_version yet
        await migrate.upgrade(engine)
        assert await migrate.is_current(engine)
        assert await _revisions(engine) == [_head()]
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert tables == set(metadata.tables) | {"alembic_version"}
        await _assert_upgrade_is_idempotent(engine, exact=True)
    finally:
        await engine.dispose()


async def test_processes_starting_together_migrate_once():
    """Several hub processes migrate on start at the same moment: none fails, the schema is current."""
    url = await asyncio.to_thread(create_database)
    engines = [create_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate.upgrade(e) for e in engines))
        assert await migrate.is_current(engines[0])
    finally:
        for e in engines:
            await e.dispose()
        await asyncio.to_thread(drop_database, url)
