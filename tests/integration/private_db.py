"""A private, migrated PostgreSQL database for one test module.

The session database (``engine``) is shared: when the e2e tests run in the same session, a live
hub process runs its outbox relay and gate worker on it. Tests that assert on pending outbox rows
or drive the gate worker by hand would race with that hub, so they use a database of their own.
"""
from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.migrations import migrate
from services.infrastructure.db import create_engine
from tests.conftest import pg_server, _asyncpg_dsn, _with_database


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(pg_server()), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def private_engine():
    name = f"kimhub_test_{uuid.uuid4().hex[:12]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL is required at {pg_server()} ({type(exc).__name__}: {exc})", pytrace=False)
    engine = create_engine(_with_database(pg_server(), name).replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
async def sqlite_engine(tmp_path_factory):
    """A migrated SQLite file for one test module: the embedded default's database."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'hub.db'}")
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_engine(request, private_engine, sqlite_engine):
    """The test once on the private PostgreSQL database, once on SQLite."""
    return private_engine if request.param == "postgresql" else sqlite_engine
