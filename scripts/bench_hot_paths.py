"""CPU and wall time of the two hot database paths, measured alone (issue 5).

    .venv/bin/python scripts/bench_hot_paths.py [--server postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres]
        [--groups 2000] [--batches 300] [--batch 6]

On a scratch PostgreSQL database with consents for 60 persons:

- the request path's group commit for groups of one (the usual group at 200/s offered), both ways
  the code has: ``transaction`` (BEGIN, consent query, transfers + outbox as one statement, COMMIT:
  PostgreSQL's path for a group with refusals; SQLite writes one statement per table) and
  ``autocommit`` (consent query, then transfers + outbox as one statement: PostgreSQL, no refusals);
- the gate deciding batches of ``--batch`` requested transfers (claim left out: lock, consents, log
  head, one write statement, commit);
- the delivery consumer storing batches of ``--batch`` of the gate's deliveries in the inboxes, both
  ways: ``transaction`` (BEGIN, claim, inbox rows, COMMIT: SQLite's way) and ``one statement``
  (claims and inbox rows together, no BEGIN/COMMIT: PostgreSQL's).

Prints this process's CPU (``time.process_time``) and the wall time per group or batch. The database
server's own CPU is not included. No broker is needed: the outbox rows are left for a relay.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.envelope import Envelope  # noqa: E402
from services.consent import service as consents  # noqa: E402
from services.directory.model import load_directory  # noqa: E402
from services.gate import requests  # noqa: E402
from services.gate.group_commit import GroupCommit  # noqa: E402
from services.gate.worker import GateWorker  # noqa: E402
from services.migrations import migrate
from services.infrastructure import topics  # noqa: E402
from services.infrastructure.db import create_engine  # noqa: E402
from services.infrastructure.dispatch import OutboxDispatch  # noqa: E402
from services.kernel.settings import Settings  # noqa: E402
from services.infrastructure.tables import outbox, processed_messages  # noqa: E402
from services.infrastructure.bulk import Insert, write_together  # noqa: E402
from services.infrastructure.messaging import _claim_many, _claim_rows  # noqa: E402
from services.delivery.service import office_delivery_writes, on_office_deliveries  # noqa: E402
from tests.integration.test_gate_worker import AUDIT, CM, consent_terms, referral  # noqa: E402


async def timed(label: str, n: int, step) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        await step(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"| {label} | {n} | {1e3 * cpu / n:.2f} | {1e3 * wall / n:.2f} |")


async def main(server: str, groups: int, batches: int, batch: int) -> None:
    name = f"kimhub_hot_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(f"{base}/{name}")
    try:
        await migrate.upgrade(engine)
        directory = load_directory(Settings().directory_file)
        persons = []
        for _ in range(60):
            async with engine.begin() as conn:
                persons.append((await consents.record(conn, CM, consent_terms(), directory, AUDIT))[2])
        relay_only = OutboxDispatch(engine, None, wake_relay=lambda: None, enabled=False)
        group = GroupCommit(engine, directory, AUDIT, relay_only)
        out = [requests.outgoing(referral(p), directory) for p in persons]

        async def in_transaction(i: int) -> None:
            async with relay_only.transaction(), engine.begin() as conn:
                await requests.submit_many(conn, [(CM, out[i % 60])], directory, AUDIT)

        async def autocommit(i: int) -> None:
            async with relay_only.transaction():
                await group._write([(CM, out[i % 60])])

        print("| path | n | client CPU ms | wall ms |\n|---|---:|---:|---:|")
        for label, step in (("request group of 1, transaction", in_transaction),
                            ("request group of 1, autocommit (PostgreSQL path)", autocommit)) * 2:
            await timed(label, groups, step)

        async with engine.connect() as conn:
            before = await conn.scalar(select(func.max(outbox.c.id)))
        for i in range(0, batch * batches, 50):
            await group._write([(CM, out[j % 60]) for j in range(i, i + 50)])
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox).where(outbox.c.topic == topics.TRANSFER_REQUESTED,
                                                            outbox.c.id > before).order_by(outbox.c.id))).all()
        items = [(Envelope.from_headers(r.headers), r.value) for r in rows]
        gate = GateWorker(directory, AUDIT)
        chunks = [items[i:i + batch] for i in range(0, len(items), batch)]

        async def decide(i: int) -> None:
            async with relay_only.transaction(), engine.begin() as conn:
                await gate.handle_many(conn, chunks[i])

        await timed(f"gate batch of {batch}", batches, decide)

        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox).where(outbox.c.topic.like(topics.office_inbox("%")))
                                       .order_by(outbox.c.id))).all()
        deliveries = [(Envelope.from_headers(r.headers), r.value) for r in rows]
        halves = [deliveries[i:i + batch] for i in range(0, len(deliveries), batch)]
        way_a, way_b = halves[0::2], halves[1::2]

        async def store_in_transaction(i: int) -> None:
            async with engine.begin() as conn:
                await _claim_many(conn, "bench-delivery", [env for env, _ in way_a[i]])
                await on_office_deliveries(conn, way_a[i])

        async def store_in_one_statement(i: int) -> None:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                claims = Insert(processed_messages, _claim_rows("bench-delivery", [env for env, _ in way_b[i]]),
                                skip_conflicts=True)
                await write_together(conn, [claims, *office_delivery_writes(way_b[i])])

        n = min(len(way_a), len(way_b))
        await timed(f"delivery batch of {batch}, transaction", n, store_in_transaction)
        await timed(f"delivery batch of {batch}, one statement (PostgreSQL path)", n, store_in_one_statement)
        await relay_only.stop()
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch", type=int, default=6)
    args = parser.parse_args()
    asyncio.run(main(args.server, args.groups, args.batches, args.batch))
