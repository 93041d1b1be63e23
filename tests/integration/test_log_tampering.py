"""Tampering with the log in PostgreSQL is detected by `kimhub audit verify` and named.

The attacker here has database superuser rights (triggers switched off with
session_replication_role); the DPO holds the signed checkpoints and the hub's public key.
Each case works on its own copy of one prepared database (CREATE DATABASE … TEMPLATE).
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from services.audit import merkle
from services.audit.checkpointer import Checkpointer
from services.audit.note_keys import NoteSigner
from services.audit.repository import AuditRepository
from services.audit.record import ConsentLogRecord, TransferLogRecord, canonical_json
from services.migrations import migrate
from services.infrastructure.db import create_engine
from tests.conftest import pg_server, ROOT_DIR, TEST_SIGNING_KEY, _asyncpg_dsn, _with_database, make_audit_log

AUDIT = make_audit_log()
SIGNER = NoteSigner.from_skey(TEST_SIGNING_KEY)
ORIGIN = "kimhub-test/transfer-log"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def _records(n: int, offset: int = 0):
    for i in range(offset, offset + n):
        person = f"p-{i % 5:032x}"
        if i % 4 == 0:
            yield ConsentLogRecord(recorded_at=T0 + timedelta(minutes=i), event="granted", consent_id=f"c-{i:032x}",
                                   consent_version=1, person=person, office="rsk-kim", recorded_by="cm.rsk",
                                   municipality="05382068", provisions=({"recipient": {"kind": "abh"},
                                                                         "purposes": ["einbuergerung"],
                                                                         "categories": ["stammdaten"]},),
                                   valid_from=T0, evidence_sha256="ab" * 32, form_version="F1")
        else:
            yield TransferLogRecord(recorded_at=T0 + timedelta(minutes=i), transfer_id=f"t-{i:032x}",
                                    message_type="referral.v1", sender_office="rsk-kim", sender_user="cm.rsk",
                                    recipient_office="troisdorf-abh", person=person, purpose="einbuergerung",
                                    decision="delivered", stage="delivery", categories_sent=("falldaten",),
                                    consent_id=f"c-{i:032x}", consent_version=1, payload_sha256=f"{i:064x}")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(pg_server()), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def template(tmp_path_factory):
    """A database holding 40 records, with signed checkpoints at sizes 20 and 40."""
    name = f"kimhub_tmpl_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = _with_database(pg_server(), name).replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(url)
    files = tmp_path_factory.mktemp("checkpoints")
    try:
        await migrate.upgrade(engine)
        checkpointer = Checkpointer(engine, SIGNER, ORIGIN, 1)
        for half in (0, 20):
            async with engine.begin() as conn:
                await AUDIT.append_many(conn, list(_records(20, half)))
            await checkpointer.checkpoint()
            async with engine.connect() as conn:
                (files / f"cp{half + 20}.txt").write_text((await AuditRepository(conn).latest_checkpoint()).note)
    finally:
        await engine.dispose()
    yield name, files
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def copy(template, tmp_path):
    """A fresh copy of the template database; returns (run_sql, export_and_verify)."""
    tmpl, files = template
    name = f"kimhub_copy_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"')
    dsn = _asyncpg_dsn(_with_database(pg_server(), name))

    async def tamper(*statements: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")  # triggers off: an attacker
                for sql in statements:
                    await conn.execute(sql)
        finally:
            await conn.close()

    async def verify(checkpoint: str = "cp40.txt", previous: tuple[str, ...] = (),
                     nodes: bool = False) -> subprocess.CompletedProcess:
        engine = create_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
        export, node_file = tmp_path / "log.jsonl", tmp_path / "nodes.jsonl"
        try:
            async with engine.connect() as conn:
                export.write_text("".join([line async for line in AuditRepository(conn).export()]))
                node_file.write_text("".join([line async for line in AuditRepository(conn).export_nodes()]))
        finally:
            await engine.dispose()
        args = [sys.executable, "-m", "services.cli", "audit", "verify", "--log", str(export),
                "--checkpoint", str(files / checkpoint), "--key", SIGNER.vkey]
        for p in previous:
            args += ["--previous", str(files / p)]
        if nodes:
            args += ["--nodes", str(node_file)]
        return await asyncio.to_thread(subprocess.run, args, cwd=ROOT_DIR, capture_output=True, text=True, timeout=60)

    yield tamper, verify
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _failed_with(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"FAILED: {expected}"), result.stderr


async def test_untouched_log_verifies_with_its_history(copy):
    _tamper, verify = copy
    result = await verify(previous=("cp20.txt",))
    assert result.returncode == 0, result.stderr
    assert "OK: 40 records verified" in result.stdout


async def test_one_changed_byte_is_named(copy):
    tamper, verify = copy
    await tamper("UPDATE transfer_log SET record = replace(record, 'troisdorf-abh', 'troisdorf-abi') WHERE seq = 7")
    _failed_with(await verify(), "modified: record 7")


async def test_deleted_record_is_named(copy):
    tamper, verify = copy
    await tamper("DELETE FROM transfer_log WHERE seq = 13")
    _failed_with(await verify(), "missing: record 13")


async def test_deleted_record_with_later_records_moved_up_is_named(copy):
    tamper, verify = copy
    await tamper("DELETE FROM transfer_log WHERE seq = 13",
                 "UPDATE transfer_log SET seq = -seq WHERE seq > 13",
                 "UPDATE transfer_log SET seq = -seq - 1 WHERE seq < 0")
    _failed_with(await verify(), "missing: record 13")


async def test_swapped_records_are_named(copy):
    tamper, verify = copy
    await tamper("UPDATE transfer_log SET seq = -1 WHERE seq = 5",
                 "UPDATE transfer_log SET seq = 5 WHERE seq = 9",
                 "UPDATE transfer_log SET seq = 9 WHERE seq = -1")
    _failed_with(await verify(), "reordered: record 5")


async def test_inserted_record_is_named(copy):
    tamper, verify = copy
    forged = next(_records(1, 99)).to_dict()
    forged["person"] = AUDIT.pseudonym(f"p-{1:032x}")
    text = canonical_json(forged).decode().replace("'", "''")
    await tamper("UPDATE transfer_log SET seq = -seq - 100 WHERE seq >= 11",
                 "UPDATE transfer_log SET seq = -seq - 99 WHERE seq < 0",
                 "INSERT INTO transfer_log (seq, kind, recorded_at, transfer_id, sender_office, recipient_office,"
                 f" person, purpose, decision, record) VALUES (11, 'transfer', now(), 'x', 'rsk-kim',"
                 f" 'troisdorf-abh', 'k-x', 'einbuergerung', 'delivered', '{text}')")
    assert json.loads(text)
    _failed_with(await verify(), "inserted: record 11")


def _rewrite(index: int) -> tuple[str, str]:
    """The record at ``index`` forged and its leaf hash rewritten to match (the inner nodes left alone)."""
    forged = next(_records(1, index)).to_dict() | {"decision": "refused"}
    forged["person"] = AUDIT.pseudonym(forged["person"])
    raw = canonical_json(forged)
    return (f"UPDATE transfer_log SET record = '{raw.decode()}' WHERE seq = {index}",
            f"UPDATE merkle_nodes SET hash = '\\x{merkle.leaf_hash(raw).hex()}' WHERE level = 0 AND idx = {index}")


async def test_rewritten_record_and_leaf_hash_are_bounded_by_the_checkpoints(copy):
    tamper, verify = copy
    await tamper(*_rewrite(25))
    _failed_with(await verify(), "root_mismatch: records 0..39: a record between 0 and 39 was changed")
    _failed_with(await verify(previous=("cp20.txt",)),
                 "root_mismatch: records 20..39: a record between 20 and 39 was changed")


async def test_rewritten_record_and_leaf_hash_are_narrowed_by_the_stored_subtrees(copy):
    tamper, verify = copy
    await tamper(*_rewrite(3))
    _failed_with(await verify(previous=("cp20.txt",), nodes=True),
                 "root_mismatch: records 2..3: a record between 2 and 3 was changed")
    await tamper(*_rewrite(2), "UPDATE merkle_nodes SET hash = '\\x" + "00" * 32 + "' WHERE level = 1 AND idx = 1")
    _failed_with(await verify(previous=("cp20.txt",), nodes=True),
                 "root_mismatch: records 0..3: a record between 0 and 3 was changed")


async def test_rollback_to_an_older_checkpoint_is_named(copy):
    _tamper, verify = copy
    _failed_with(await verify(checkpoint="cp20.txt", previous=("cp40.txt",)), "rolled_back")
