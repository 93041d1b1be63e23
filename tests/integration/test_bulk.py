"""Several tables' inserts as one PostgreSQL statement (``services/infrastructure/bulk.py``), and the
outbox rows it writes for the direct dispatch: on a private PostgreSQL database."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError

from services.gate.tables import transfers
from services.infrastructure.bulk import Insert, Update, _statement, write_each, write_together
from services.infrastructure.db import utcnow
from services.infrastructure.outbox import OutboxBatch, message_row, write_with_outbox
from services.infrastructure.tables import outbox
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)
from tests.integration.test_outbox_relay import _message


def _transfer(i: int, run: str) -> dict:
    now = utcnow()
    return dict(id=f"t-{run[:20]}-{i}", message_type="referral.v1", sender_office="rsk-kim", sender_user="cm",
                person=f"p-{run[:20]}-{i}", municipality="05382004", recipient={"kind": "abh"},
                recipient_office="rsk-abh", purpose="aufenthalt", status="requested",
                reasons=[{"code": "x", "n": i}], consent_id=None, consent_version=i if i % 2 else None,
                categories=["stammdaten", f"c{i}"], removed_categories=[], payload_sha256=f"{i:064x}",
                requested_at=now, updated_at=now, in_reply_to=None)


def _outbox_row(i: int, topic: str) -> dict:
    return dict(topic=topic, key=f"k{i}", headers={"ce_id": str(i)}, value=f"value {i}".encode(),
                created_at=utcnow(), lease_until=None)


class _Statements:
    """Counts the statements an engine sends (SQLAlchemy's cursor executions)."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)
        self.engine = engine

    def _seen(self, *args) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._seen)


async def _autocommit(engine):
    conn = await engine.connect()
    return conn, await conn.execution_options(isolation_level="AUTOCOMMIT")


async def test_two_tables_in_one_statement_with_ids_in_row_order(private_engine):
    run, topic = uuid.uuid4().hex, f"test.bulk.{uuid.uuid4().hex}"
    rows = [_transfer(i, run) for i in range(300)]
    queued = [_outbox_row(i, topic) for i in range(300)]
    statements = _Statements(private_engine)
    conn, auto = await _autocommit(private_engine)
    try:
        ids = await write_together(auto, [Insert(transfers, rows), Insert(outbox, queued)], returning="id")
    finally:
        await conn.close()
        statements.close()

    assert statements.count == 1
    async with private_engine.connect() as c:
        stored = {r.id: r for r in (await c.execute(select(transfers).where(transfers.c.id.like(f"t-{run[:20]}-%"))))}
        by_id = {r.id: r for r in (await c.execute(select(outbox).where(outbox.c.topic == topic)))}
    assert [by_id[i].value for i in ids] == [r["value"] for r in queued], "ids come back in row order"
    assert all(by_id[i].attempts == 0 for i in ids), "a column's Python-side default is applied"
    for row in rows:
        got = stored[row["id"]]._asdict()
        assert got == row, "every column, JSON and NULLs included, as given"


async def test_the_statement_is_atomic_and_the_same_for_any_number_of_rows(private_engine):
    run, topic = uuid.uuid4().hex, f"test.bulk.{uuid.uuid4().hex}"
    conn, auto = await _autocommit(private_engine)
    try:
        for n in (1, 7):
            await write_together(auto, [Insert(transfers, [_transfer(i, f"{run[:18]}{n}") for i in range(n)]),
                                        Insert(outbox, [_outbox_row(i, topic) for i in range(n)])])
        too_long = [_outbox_row(0, "x" * 300)]  # the topic column holds 255 characters
        with pytest.raises(DBAPIError):
            await write_together(auto, [Insert(transfers, [_transfer(0, f"{run[:18]}x")]), Insert(outbox, too_long)])
    finally:
        await conn.close()

    async with private_engine.connect() as c:
        written = (await c.execute(select(transfers.c.id).where(transfers.c.id.like(f"t-{run[:18]}%")))).all()
    assert len(written) == 1 + 7, "the failed statement wrote none of its transfers"
    naive = {**_transfer(0, f"{run[:18]}n"), "requested_at": datetime.now()}
    conn, auto = await _autocommit(private_engine)
    try:
        with pytest.raises(ValueError, match="naive datetime"):  # as UtcDateTime refuses it elsewhere
            await write_together(auto, [Insert(transfers, [naive])])
    finally:
        await conn.close()
    spec = ((Insert, transfers, tuple(_transfer(0, run)), None, False),
            (Insert, outbox, (*_outbox_row(0, topic), "attempts"), None, False))
    assert _statement(spec, None).text == _statement(spec, None).text  # cached per (tables, columns)
    assert "unnest" in _statement(spec, None).text and ":p0_0" in _statement(spec, None).text


async def test_write_with_outbox_hands_leased_rows_to_the_dispatch_under_their_own_ids(private_engine):
    topic = f"test.bulk.{uuid.uuid4().hex}"
    run = uuid.uuid4().hex
    messages = [(topic, env, body) for env, body in (_message(i, run) for i in range(25))]
    batch = OutboxBatch(utcnow() + timedelta(seconds=5))  # what OutboxDispatch.begin() gives
    conn, auto = await _autocommit(private_engine)
    try:
        await write_with_outbox(auto, [Insert(transfers, [_transfer(0, run)])],
                                [message_row(*m) for m in messages], batch)
    finally:
        await conn.close()
    handed = batch.rows

    async with private_engine.connect() as c:
        stored = {r.id: r for r in (await c.execute(select(outbox).where(outbox.c.topic == topic)))}
    assert len(handed) == len(stored) == 25
    for row_id, (t, key, value, headers) in handed:
        assert (stored[row_id].key.encode(), stored[row_id].value, stored[row_id].headers) == (key, value, headers)
        assert stored[row_id].lease_until is not None, "leased to this dispatch, not for the relay"
    assert [headers["ce_id"] for _, (_, _, _, headers) in handed] == [env.id for _, env, _ in messages]


@pytest.mark.parametrize("together", [True, False], ids=["one statement", "one each"])
async def test_updates_set_each_row_its_own_values_beside_inserts(private_engine, together):
    run, topic = uuid.uuid4().hex, f"test.bulk.{uuid.uuid4().hex}"
    rows = [_transfer(i, run) for i in range(5)]
    async with private_engine.begin() as conn:
        await write_each(conn, [Insert(transfers, rows)])
    changes = [{"id": r["id"], "status": f"s{i}", "reasons": [{"code": f"r{i}"}], "consent_version": None}
               for i, r in enumerate(rows[:3])]
    statements = _Statements(private_engine)
    try:
        async with private_engine.begin() as conn:
            writes = [Update(transfers, changes), Insert(outbox, [_outbox_row(0, topic)])]
            await (write_together(conn, writes) if together else write_each(conn, writes))
    finally:
        statements.close()

    assert statements.count == (1 if together else 2)
    async with private_engine.connect() as c:
        ids = [r["id"] for r in rows]
        stored = {r.id: r for r in await c.execute(select(transfers).where(transfers.c.id.in_(ids)))}
        queued = (await c.execute(select(outbox.c.key).where(outbox.c.topic == topic))).scalars().all()
    assert queued == ["k0"]
    for i, row in enumerate(rows):
        got = stored[row["id"]]
        if i < 3:
            assert (got.status, got.reasons, got.consent_version) == (f"s{i}", [{"code": f"r{i}"}], None)
        else:
            unchanged = ("requested", row["reasons"], row["consent_version"])
            assert (got.status, got.reasons, got.consent_version) == unchanged
        assert got.person == row["person"], "columns not named stay as they were"


@pytest.mark.parametrize("together", [True, False], ids=["one statement", "one each"])
async def test_skip_conflicts_leaves_out_rows_whose_key_is_taken_before_or_in_the_same_write(private_engine,
                                                                                              together):
    run = uuid.uuid4().hex
    first = _transfer(0, run)
    async with private_engine.begin() as conn:
        await write_each(conn, [Insert(transfers, [first])])
    again = {**first, "status": "changed"}
    new = _transfer(1, run)
    rows = [again, new, {**new, "status": "twice in one write"}]
    async with private_engine.begin() as conn:
        write = write_together if together else write_each
        await write(conn, [Insert(transfers, rows, skip_conflicts=True)])
    async with private_engine.connect() as c:
        stored = dict((await c.execute(select(transfers.c.id, transfers.c.status)
                                       .where(transfers.c.id.in_([first["id"], new["id"]])))).all())
    assert stored == {first["id"]: "requested", new["id"]: "requested"}
    with pytest.raises(DBAPIError):  # without the flag a taken key is an error, as before
        async with private_engine.begin() as conn:
            await write(conn, [Insert(transfers, [again])])
