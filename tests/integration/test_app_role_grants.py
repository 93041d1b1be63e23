"""deploy/postgres/app-role.sql: the hub's runtime role cannot change or remove log entries."""
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.audit.record import TransferLogRecord
from services.infrastructure.db import utcnow
from tests.conftest import ROOT_DIR, make_audit_log
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)

AUDIT = make_audit_log()
SQL = Path(ROOT_DIR, "deploy", "postgres", "app-role.sql").read_text()


def _record() -> TransferLogRecord:
    return TransferLogRecord(recorded_at=utcnow(), transfer_id="t-1", message_type="referral.v1",
                             sender_office="rsk-kim", sender_user="cm.rsk", recipient_office="rsk-abh",
                             person="p-" + "1" * 32, purpose="einbuergerung", decision="refused", stage="request")


async def test_app_role_may_append_but_not_change_the_log(private_engine):  # noqa: F811
    async with private_engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(SQL)  # a script: asyncpg's simple-query protocol
    async with private_engine.begin() as conn:
        await conn.execute(text("SET LOCAL ROLE kimhub_app"))
        await AUDIT.append(conn, _record())  # appending works (log_head may move)
    for statement in ("UPDATE transfer_log SET decision = 'delivered'", "DELETE FROM transfer_log",
                      "UPDATE merkle_nodes SET hash = hash", "TRUNCATE checkpoints"):
        with pytest.raises(DBAPIError) as err:
            async with private_engine.begin() as conn:
                await conn.execute(text("SET LOCAL ROLE kimhub_app"))
                await conn.execute(text(statement))
        assert "permission denied" in str(err.value.orig)


LOG_TABLES = {"transfer_log", "merkle_nodes", "checkpoints", "checkpoint_cosignatures"}
WORKING_DATA = {"SELECT", "INSERT", "UPDATE", "DELETE"}


async def _grants(engine) -> tuple[set[str], dict[str, set[str]], dict[str, bool]]:
    """The migrated schema's tables, kimhub_app's privileges on each, and its use of each sequence."""
    async with engine.connect() as conn:
        tables = set((await conn.execute(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))).scalars())
        granted: dict[str, set[str]] = {}
        for table, privilege in await conn.execute(text(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = 'kimhub_app' AND table_schema = 'public'")):
            granted.setdefault(table, set()).add(privilege)
        sequences = dict((await conn.execute(text(
            "SELECT sequence_name, has_sequence_privilege('kimhub_app', sequence_name, 'USAGE') "
            "FROM information_schema.sequences WHERE sequence_schema = 'public'"))).all())
    return tables, granted, sequences


async def test_every_table_a_migration_creates_is_granted_to_the_app_role(private_engine):  # noqa: F811
    """Derived from the migrated schema: a migration that adds a table without a grant fails here."""
    async with private_engine.begin() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(SQL)
    tables, granted, sequences = await _grants(private_engine)
    assert LOG_TABLES | {"dead_letters", "checklist_versions", "prechecks", "documents"} <= tables
    assert sorted(tables - set(granted)) == [], "tables without any grant for kimhub_app"
    for table in LOG_TABLES:
        assert granted[table] == {"SELECT", "INSERT"}, table
    for table in tables - LOG_TABLES - {"alembic_version"}:
        assert granted[table] == WORKING_DATA, table
    assert granted["alembic_version"] == {"SELECT"}
    assert all(sequences.values()), sequences
