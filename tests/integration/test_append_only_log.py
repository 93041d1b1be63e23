"""On PostgreSQL the transfer log is append-only in the database itself (triggers from 0001)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from services.audit.log import append
from services.audit.record import TransferLogRecord
from services.audit.tables import transfer_log


def _record() -> TransferLogRecord:
    return TransferLogRecord(
        recorded_at=datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=timezone.utc),
        transfer_id=f"t-{uuid.uuid4().hex}",
        message_type="referral.v1",
        sender_office="rsk-kim",
        sender_user="cm.rsk",
        recipient_office="troisdorf-abh",
        person=f"p-{uuid.uuid4().hex}",
        purpose="aufenthaltsperspektive",
        decision="delivered",
        stage="delivery",
        categories_sent=("stammdaten", "falldaten"),  # stored sorted
        categories_removed=("besondere_kategorien",),
        consent_id=f"c-{uuid.uuid4().hex}",
        consent_version=2,
        legal_basis="Einwilligung: Art. 6 Abs. 1 lit. a DSGVO",
        reasons=(),
        payload_sha256="ab" * 32,
    )


@pytest.fixture(scope="module")
async def logged(engine):
    record = _record()
    async with engine.begin() as conn:
        await append(conn, record)
    return record


async def _row(engine, transfer_id: str):
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log).where(transfer_log.c.transfer_id == transfer_id))).all()
    assert len(rows) == 1
    return rows[0]


async def test_stored_record_is_the_canonical_form_and_round_trips(engine, logged):
    row = await _row(engine, logged.transfer_id)
    assert row.record == logged.canonical_bytes().decode()
    assert row.record.encode() == logged.canonical_bytes()
    back = TransferLogRecord.from_dict(json.loads(row.record))
    # to_dict sorts the category tuples, so compare canonically as well as field by field
    assert back.canonical_bytes() == logged.canonical_bytes()
    assert back == TransferLogRecord(**{**logged.__dict__, "categories_sent": ("falldaten", "stammdaten")})
    assert (row.recorded_at, row.decision, row.person, row.purpose, row.sender_office, row.recipient_office) == (
        logged.recorded_at, logged.decision, logged.person, logged.purpose, logged.sender_office,
        logged.recipient_office)


@pytest.mark.parametrize("statement", ["update", "update_record", "delete", "truncate"])
async def test_changes_are_rejected_by_the_database(engine, logged, statement):
    before = await _row(engine, logged.transfer_id)
    stmt = {
        "update": update(transfer_log).where(transfer_log.c.seq == before.seq).values(decision="withheld"),
        "update_record": update(transfer_log).where(transfer_log.c.seq == before.seq).values(record="{}"),
        "delete": delete(transfer_log).where(transfer_log.c.seq == before.seq),
        "truncate": text("TRUNCATE transfer_log"),
    }[statement]
    with pytest.raises(DBAPIError) as err:
        async with engine.begin() as conn:
            await conn.execute(stmt)
    assert "append-only" in str(err.value.orig)
    assert await _row(engine, logged.transfer_id) == before
