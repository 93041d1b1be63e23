"""Totals of transfers by sending office, month (UTC) and decision for the DPO's charts: one SQL
aggregate, on PostgreSQL and on SQLite, within the DPO's controller."""
from __future__ import annotations

from datetime import datetime, timezone

from services.audit import views
from services.audit.record import TransferLogRecord
from services.audit.views import LogFilter
from services.kernel.identity import Actor, Role
from tests.conftest import make_audit_log
from tests.integration.private_db import any_engine, private_engine, sqlite_engine  # noqa: F401  (fixtures)
from services.unit_of_work import HubUnitOfWork

AUDIT = make_audit_log()
DPO = Actor("dsb.rsk", "rsk-kim", roles=frozenset({Role.DPO}))
UTC = timezone.utc


def _transfer(i: int, at: datetime, sender: str, recipient: str, decision: str) -> TransferLogRecord:
    return TransferLogRecord(recorded_at=at, transfer_id=f"t-{i:032x}", message_type="referral.v1",
                             sender_office=sender, sender_user="someone", recipient_office=recipient,
                             person=f"p-{i:032x}", purpose="einbuergerung", decision=decision,
                             stage="request" if decision == "refused" else "delivery", categories_sent=("falldaten",),
                             payload_sha256=f"{i:064x}")


async def test_totals_per_office_month_and_decision_within_the_controller(any_engine, directory):
    records = [
        _transfer(1, datetime(2031, 4, 30, 23, 59, tzinfo=UTC), "rsk-kim", "troisdorf-abh", "delivered"),
        _transfer(2, datetime(2031, 5, 1, 0, 0, tzinfo=UTC), "rsk-kim", "troisdorf-abh", "delivered"),
        _transfer(3, datetime(2031, 5, 2, 12, 0, tzinfo=UTC), "rsk-kim", "troisdorf-abh", "delivered"),
        _transfer(4, datetime(2031, 5, 3, 12, 0, tzinfo=UTC), "rsk-kim", "rsk-abh", "refused"),
        _transfer(5, datetime(2031, 5, 4, 12, 0, tzinfo=UTC), "troisdorf-abh", "rsk-kim", "withheld"),
        _transfer(6, datetime(2031, 5, 5, 12, 0, tzinfo=UTC), "me-kim", "me-abh", "delivered"),  # another controller
    ]
    async with any_engine.begin() as conn:
        await AUDIT.append_many(conn, records)
    since = datetime(2031, 1, 1, tzinfo=UTC)
    rows = await views.monthly_totals(HubUnitOfWork(any_engine, AUDIT), DPO, directory, LogFilter(since=since))
    assert sorted((r["office"], r["month"], r["decision"], r["count"]) for r in rows) == [
        ("rsk-kim", "2031-04", "delivered", 1), ("rsk-kim", "2031-05", "delivered", 2),
        ("rsk-kim", "2031-05", "refused", 1), ("troisdorf-abh", "2031-05", "withheld", 1)]
