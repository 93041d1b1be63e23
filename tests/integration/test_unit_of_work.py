"""The unit of work on PostgreSQL: nothing is kept without commit, an error rolls back, and what a
committed unit enqueued is handed to the dispatch (and nothing of a rolled-back one)."""
import pytest
from sqlalchemy import func, select

from contracts.envelope import Envelope
from contracts.transfer import ReceiptV1
from services.infrastructure.db import utcnow
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.tables import outbox
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_audit_log
from tests.integration.private_db import private_engine  # noqa: F401  (fixture)

AUDIT = make_audit_log()


class Dispatch(OutboxDispatch):
    """Records what it is handed after a commit instead of sending it."""

    def __init__(self, engine):
        super().__init__(engine, None, wake_relay=lambda: None)
        self.enabled = True  # lease the rows, as with a broker
        self.handed: list = []

    def committed(self, batch) -> None:
        self.handed.append(batch)


def _message(n: int):
    now = utcnow()
    receipt = ReceiptV1(transfer_id=f"t-uow-{n}", office="troisdorf-abh", received_by="clerk", received_at=now)
    env = Envelope(id=f"uow-{n}-{now.timestamp()}", source="urn:test", type="de.nrw.kim.transfer.receipt.v1",
                   subject="p-" + "0" * 32, time=now, dataschema="urn:kimhub:schema:transfer-receipt.v1.json")
    return "kim.feedback.v1", env, receipt


async def _outbox_rows(engine, env_id: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(outbox)
                                 .where(outbox.c.headers["ce_id"].as_string() == env_id))


async def test_a_unit_left_without_commit_keeps_nothing_and_publishes_nothing(engine):
    dispatch = Dispatch(engine)
    topic, env, body = _message(1)
    async with HubUnitOfWork(engine, AUDIT, dispatch) as uow:
        await uow.outbox.add(topic, env, body)
    assert await _outbox_rows(engine, env.id) == 0
    assert dispatch.handed == []


async def test_an_error_rolls_back(engine):
    dispatch = Dispatch(engine)
    topic, env, body = _message(2)
    with pytest.raises(RuntimeError):
        async with HubUnitOfWork(engine, AUDIT, dispatch) as uow:
            await uow.outbox.add(topic, env, body)
            raise RuntimeError("the handler failed")
    assert await _outbox_rows(engine, env.id) == 0
    assert dispatch.handed == []


async def test_a_committed_unit_hands_its_leased_rows_to_the_dispatch(engine):
    dispatch = Dispatch(engine)
    topic, env, body = _message(3)
    async with HubUnitOfWork(engine, AUDIT, dispatch) as uow:
        await uow.outbox.add(topic, env, body)
        await uow.commit()
    assert await _outbox_rows(engine, env.id) == 1
    (batch,) = dispatch.handed
    assert [record[0] for _, record in batch.rows] == [topic] and batch.lease_until is not None


async def test_a_unit_joining_a_transaction_leaves_the_commit_to_its_holder(engine):
    topic, env, body = _message(4)
    async with engine.connect() as conn:
        await conn.begin()
        async with HubUnitOfWork(None, AUDIT, joining=conn) as uow:
            await uow.outbox.add(topic, env, body)
            await uow.commit()
        assert await _outbox_rows(engine, env.id) == 0  # not committed yet: the holder decides
        await conn.rollback()
    assert await _outbox_rows(engine, env.id) == 0


async def test_staged_rows_and_messages_are_written_together_at_the_commit(engine):
    from services.infrastructure.bulk import Insert
    from services.infrastructure.tables import processed_messages

    topic, env, body = _message(5)
    claim = {"consumer": "uow-test", "ce_source": "urn:test", "ce_id": env.id, "processed_at": utcnow()}
    async with HubUnitOfWork(engine, AUDIT) as uow:
        uow.stage(Insert(processed_messages, [claim]))
        await uow.outbox.add(topic, env, body)
        async with engine.connect() as other:  # nothing is written before the commit
            assert await other.scalar(select(func.count()).select_from(processed_messages)
                                      .where(processed_messages.c.ce_id == env.id)) == 0
        await uow.commit()
    assert await _outbox_rows(engine, env.id) == 1
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(processed_messages)
                                 .where(processed_messages.c.ce_id == env.id)) == 1


async def _table_free(engine, table: str) -> bool:
    """Whether another transaction could lock ``table`` now (a transaction that read it holds a lock)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    async with engine.connect() as other:
        try:
            async with other.begin():
                await other.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT"))
            return True
        except DBAPIError:
            return False


async def test_reads_hold_no_transaction_until_a_lock_or_write_needs_one(private_engine):  # noqa: F811
    """PostgreSQL: a unit that reads and then writes only at its commit sends no BEGIN/COMMIT (each
    read is its own statement); the first lock begins the transaction, which then holds the lock."""
    from services.infrastructure.tables import processed_messages

    async with HubUnitOfWork(private_engine, AUDIT) as uow:
        await uow.conn.execute(select(func.count()).select_from(processed_messages))
        assert not uow.conn.in_transaction
        assert await _table_free(private_engine, "processed_messages"), "a read held its table"
        await uow.conn.execute(select(processed_messages).limit(1).with_for_update())
        assert uow.conn.in_transaction
        assert not await _table_free(private_engine, "processed_messages"), "the lock was not held"
        await uow.commit()
    assert await _table_free(private_engine, "processed_messages")
