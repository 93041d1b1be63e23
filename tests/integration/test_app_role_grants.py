"""deploy/postgres/app-role.sql: the hub's runtime role cannot change or remove log entries."""
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.audit.record import TransferLogRecord
from services.shared.db import utcnow
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
