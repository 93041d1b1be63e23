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
