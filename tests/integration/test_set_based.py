"""Set-based paths: the request path's group commit and the gate deciding a batch.

Both must give each transfer exactly the outcome it would get alone. Runs on a private PostgreSQL
database (see ``private_db``) so no hub from the e2e tests consumes these transfers meanwhile, and
where the embedded default (SQLite) takes its own statements, on a fresh SQLite file too.
"""
from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import event, select

from contracts.consent import RecipientSpec, RevocationMethod
from contracts.envelope import Envelope
from contracts.transfer import TransferStatus
from services.audit import merkle
from services.audit.repository import AuditRepository
from services.audit.tables import transfer_log
from tests.support import consents
from services.bus import MessageBus
from services.delivery import consumer as delivery_consumer
from services.delivery.tables import inbox_items
from services.gate.tables import transfers
from services.infrastructure import group_commit, topics
from services.infrastructure.consumer import Message
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.outbox import Publisher
from services.infrastructure.tables import outbox
from services.kernel.errors import InvalidInput
from services.unit_of_work import HubUnitOfWork
from tests.support import gate
from tests.conftest import make_keys
from tests.integration.private_db import any_engine, private_engine, sqlite_engine  # noqa: F401  (fixtures)
from tests.integration.test_gate_worker import AUDIT, CM, consent_terms, referral


async def _log_is_consistent(engine) -> None:
    """The log's head covers exactly its records, and every record's inclusion proof from the
    stored tree nodes leads to the head's root."""
    async with engine.connect() as conn:
        records = (await conn.execute(select(transfer_log.c.record).order_by(transfer_log.c.seq))).scalars().all()
        size, root = await AuditRepository(conn).tree_head()
        leaves = [merkle.leaf_hash(r.encode()) for r in records]
        assert size == len(records) and root == merkle.root_of(leaves)[1]
        for index in range(size):
            proof = await AuditRepository(conn).inclusion_proof(index, size)
            assert merkle.verify_inclusion(leaves[index], index, size, proof, root)


async def _persons_with_consent(engine, directory, n: int) -> list[tuple[str, str]]:
    out = []
    for _ in range(n):
        async with engine.begin() as conn:
            consent_id, _, person = await consents.record(conn, CM, consent_terms(), directory, AUDIT)
        out.append((consent_id, person))
    return out


async def _log_decisions(engine, transfer_ids: list[str]) -> dict[str, list[str]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(transfer_log.c.transfer_id, transfer_log.c.decision)
                                   .where(transfer_log.c.transfer_id.in_(transfer_ids)))).all()
    out: dict[str, list[str]] = {}
    for transfer_id, decision in rows:
        out.setdefault(transfer_id, []).append(decision)
    return out


@pytest.fixture
def group_sizes(monkeypatch) -> list[int]:
    """Records the size of each group the group commit handled (a spy: the real function runs)."""
    sizes: list[int] = []
    real = group_commit.GroupCommit._commit

    async def spy(self, group):
        sizes.append(len(group))
        return await real(self, group)

    monkeypatch.setattr(group_commit.GroupCommit, "_commit", spy)
    return sizes


def _bus(engine, directory, dispatch: OutboxDispatch) -> MessageBus:
    """The referrals' way in: the bus gathers concurrent SendTransfer commands into groups."""
    return MessageBus(lambda: HubUnitOfWork(engine, AUDIT, dispatch), directory=directory,
                      keys=make_keys(), **{name: None for name in ("settings", "signer", "cosigners")})


async def test_concurrent_requests_share_a_commit_and_each_gets_its_own_outcome(any_engine, directory,
                                                                                group_sizes):
    engine = any_engine
    covered = [p for _, p in await _persons_with_consent(engine, directory, 12)]
    uncovered = [f"p-{i:032x}" for i in range(12)]  # no consent on record
    woken = []
    relay_only = OutboxDispatch(engine, None, wake_relay=lambda: woken.append(1))  # rows for the relay
    bus = _bus(engine, directory, relay_only)
    try:
        people = [p for pair in zip(covered, uncovered) for p in pair]
        outcomes = await asyncio.gather(*(bus.handle(referral(p), CM) for p in people))
    finally:
        await bus.stop()

    assert max(group_sizes) > 1 and sum(group_sizes) == len(people)
    assert len(woken) == len(group_sizes)  # the relay is woken after each commit
    by_person = dict(zip(people, outcomes))
    assert {by_person[p].status for p in covered} == {TransferStatus.REQUESTED}
    assert {by_person[p].status for p in uncovered} == {TransferStatus.REFUSED}
    assert all(by_person[p].reasons[0]["code"] == "no_consent" for p in uncovered)
    assert len({o.transfer_id for o in outcomes}) == len(people)

    async with engine.connect() as conn:
        rows = {r.id: r for r in (await conn.execute(select(transfers))).all()}
        queued = (await conn.execute(select(outbox.c.topic, outbox.c.key).where(outbox.c.key.in_(people)))).all()
    assert {rows[by_person[p].transfer_id].person for p in people} == set(people)
    assert all(rows[o.transfer_id].status == o.status.value for o in outcomes)
    assert sorted(k for t, k in queued if t == topics.TRANSFER_REQUESTED) == sorted(covered)
    assert sorted(k for t, k in queued if t == topics.FEEDBACK) == sorted(uncovered)
    refused = [by_person[p].transfer_id for p in uncovered]
    assert await _log_decisions(engine, refused) == {t: ["refused"] for t in refused}
    await _log_is_consistent(engine)


async def test_a_request_that_fails_in_a_group_fails_alone(any_engine, directory, group_sizes):
    engine = any_engine
    persons = [p for _, p in await _persons_with_consent(engine, directory, 6)]
    bus = _bus(engine, directory, OutboxDispatch(engine, None, wake_relay=lambda: None))
    commands = [referral(p) for p in persons]
    commands[3] = commands[3].model_copy(update={"recipient": RecipientSpec(office="no-such-office")})
    try:  # fails inside the group's unit of work
        results = await asyncio.gather(*(bus.handle(c, CM) for c in commands), return_exceptions=True)
    finally:
        await bus.stop()

    assert isinstance(results[3], InvalidInput)
    assert [r.status for i, r in enumerate(results) if i != 3] == [TransferStatus.REQUESTED] * 5
    async with engine.connect() as conn:
        stored = (await conn.execute(select(transfers.c.person).where(transfers.c.person.in_(persons)))).scalars().all()
    assert sorted(stored) == sorted(p for i, p in enumerate(persons) if i != 3)


async def test_a_group_without_refusals_takes_three_statements_and_its_rows_go_to_the_dispatch(
        private_engine, directory, group_sizes):
    """PostgreSQL: the consent query, the persons' keys, then transfers, new person keys and outbox rows
    as one statement (the unit of work's flush at the commit)."""
    engine = private_engine
    persons = [p for _, p in await _persons_with_consent(engine, directory, 8)]
    sent: list[tuple[str, bytes]] = []

    class Recording(Publisher):
        async def send_batch(self, records):
            sent.extend((topic, key) for topic, key, _, _ in records)
            return [None] * len(records)

    dispatch = OutboxDispatch(engine, Recording(), wake_relay=lambda: None)
    bus = _bus(engine, directory, dispatch)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine.sync_engine, "before_cursor_execute", listener)
    try:
        outcomes = await asyncio.gather(*(bus.handle(referral(p), CM) for p in persons))
        event.remove(engine.sync_engine, "before_cursor_execute", listener)
    finally:
        await bus.stop()
    deadline = asyncio.get_running_loop().time() + 10
    while True:  # the dispatch marks what it sent (gathered, every 100 ms)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox).where(outbox.c.key.in_(persons),
                                                            outbox.c.topic == topics.TRANSFER_REQUESTED))).all()
        if all(r.published_at for r in rows) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    await dispatch.stop()

    assert [o.status for o in outcomes] == [TransferStatus.REQUESTED] * len(persons)
    assert max(group_sizes) > 1
    # per group: the consents, the persons' keys, then transfers + new person keys + outbox as one statement
    assert len(statements) == 3 * len(group_sizes), "three statements per group"
    assert all("person_keys" in s for s in statements[1::3]), "the persons' keys: one query"
    assert all(s.lstrip().startswith("WITH") for s in statements[2::3]), "transfers + outbox: one statement"
    assert sorted(k.decode() for _, k in sent) == sorted(persons) == sorted(r.key for r in rows)
    assert all(r.published_at is not None and r.lease_until is not None for r in rows)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(transfers.c.id).where(transfers.c.person.in_(persons)))).scalars()
        assert sorted(stored) == sorted(o.transfer_id for o in outcomes)


async def test_the_gate_decides_a_batch_like_one_by_one_and_each_transfer_once(any_engine, directory):
    engine = any_engine
    pairs = await _persons_with_consent(engine, directory, 6)
    outcomes = []
    for _, person in pairs:
        for _ in range(2):
            async with engine.begin() as conn:
                outcomes.append(await gate.send(conn, CM, referral(person), directory, AUDIT))
    revoked = {person for _, person in pairs[:2]}
    for consent_id, _ in pairs[:2]:  # revoked after the request, before delivery
        async with engine.begin() as conn:
            await consents.revoke(conn, CM, consent_id, RevocationMethod.WRITTEN, AUDIT)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.topic == topics.TRANSFER_REQUESTED,
                                                        outbox.c.key.in_([p for _, p in pairs]))
                                   .order_by(outbox.c.id))).all()
    items = [(Envelope.from_headers(r.headers), r.value) for r in rows]
    items.insert(4, items[1])  # the same request twice in one batch

    async with engine.begin() as conn:
        await gate.consume(conn, items, directory, AUDIT)
    async with engine.begin() as conn:  # and the whole batch again: nothing changes
        await gate.consume(conn, items, directory, AUDIT)

    ids = [o.transfer_id for o in outcomes]
    async with engine.connect() as conn:
        status = dict((await conn.execute(select(transfers.c.id, transfers.c.status))).all())
        person_of = dict((await conn.execute(select(transfers.c.id, transfers.c.person))).all())
        deliveries = (await conn.execute(select(outbox.c.key, outbox.c.value, outbox.c.headers).where(
            outbox.c.topic == topics.office_inbox("troisdorf-abh"), outbox.c.key.in_([p for _, p in pairs])))).all()
    expected = {t: "withheld" if person_of[t] in revoked else "delivered" for t in ids}
    assert {t: status[t] for t in ids} == expected
    assert await _log_decisions(engine, ids) == {t: [expected[t]] for t in ids}
    delivered = sorted(json.loads(v)["transfer_id"] for _, v, _ in deliveries)
    assert delivered == sorted(t for t in ids if expected[t] == "delivered")
    assert all("besondere_kategorien" not in json.loads(v)["sealed"]["parts"] for _, v, _ in deliveries)  # minimised
    await _log_is_consistent(engine)
    for _ in range(2):  # into the office inbox, and once more (a repeat under another event id): once each
        messages = [Message(Envelope.from_headers(h), v, None) for _, v, h in deliveries]
        await delivery_consumer.on_messages(messages, HubUnitOfWork(engine, AUDIT, consumer="delivery"), make_keys())
    async with engine.connect() as conn:
        inbox = (await conn.execute(select(inbox_items.c.transfer_id)
                                    .where(inbox_items.c.transfer_id.in_(ids)))).scalars().all()
    assert sorted(inbox) == delivered
