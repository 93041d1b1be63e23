"""On PostgreSQL the transfer log and its Merkle tree are append-only in the database itself."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from services.audit import merkle
from services.audit.record import TransferLogRecord, canonical_json
from services.audit.tables import checkpoint_cosignatures, checkpoints, merkle_nodes, transfer_log
from tests.conftest import make_audit_log

AUDIT = make_audit_log()


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
        await AUDIT.append(conn, record)
    return record


async def _row(engine, transfer_id: str):
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log).where(transfer_log.c.transfer_id == transfer_id))).all()
    assert len(rows) == 1
    return rows[0]


async def test_stored_record_is_canonical_keyed_and_a_merkle_leaf(engine, logged):
    row = await _row(engine, logged.transfer_id)
    expected = {**logged.to_dict(), "person": AUDIT.pseudonym(logged.person)}
    assert row.record.encode() == canonical_json(expected)
    assert json.loads(row.record)["categories_sent"] == ["falldaten", "stammdaten"]
    assert logged.person not in row.record and row.person == AUDIT.pseudonym(logged.person)
    async with engine.connect() as conn:
        stored = await conn.scalar(select(merkle_nodes.c.hash).where(merkle_nodes.c.level == 0,
                                                                    merkle_nodes.c.idx == row.seq))
    assert bytes(stored) == merkle.leaf_hash(row.record.encode())
    assert (row.recorded_at, row.decision, row.purpose, row.sender_office, row.recipient_office) == (
        logged.recorded_at, logged.decision, logged.purpose, logged.sender_office, logged.recipient_office)


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


@pytest.mark.parametrize("table", [merkle_nodes, checkpoints, checkpoint_cosignatures])
async def test_tree_tables_reject_update_delete_truncate(engine, logged, table):
    now = datetime.now(timezone.utc)
    rows = {checkpoints: {"size": 10**9, "root": b"r" * 32, "issued_at": now, "note": "n"},
            checkpoint_cosignatures: {"size": 10**9, "key_name": "dpo", "signature_line": "l", "added_at": now}}
    if table in rows:  # row triggers need a row to fire on
        async with engine.begin() as conn:
            await conn.execute(table.insert().values(rows[table]))
    for stmt in (update(table).values({table.c[list(table.c.keys())[-1]].name: None}), delete(table),
                 text(f"TRUNCATE {table.name}")):
        with pytest.raises(DBAPIError) as err:
            async with engine.begin() as conn:
                await conn.execute(stmt)
        assert "append-only" in str(err.value.orig)
