"""CPU and wall time of the three hot database paths, measured alone, each one unit of work.

    .venv/bin/python scripts/bench_hot_paths.py [--server postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres]
        [--groups 2000] [--batches 300] [--batch 6]

On a scratch PostgreSQL database with consents for 60 persons:

- the request path: a group of one referral (the usual group at 200/s offered) through its handler
  (``gate.handlers.send_many``: consent query, then transfers + outbox rows as one statement);
- the gate deciding batches of ``--batch`` requested transfers (``gate.worker.on_messages``: claims,
  transfer locks, log head, consents, one write statement);
- the delivery consumer storing batches of ``--batch`` deliveries (``delivery.consumer.on_messages``:
  claims and inbox rows as one statement).

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
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts.envelope import Envelope  # noqa: E402
from services.delivery import consumer as delivery  # noqa: E402
from services.directory.model import load_directory  # noqa: E402
from services.gate import handlers, worker  # noqa: E402
from services.infrastructure import topics  # noqa: E402
from services.infrastructure.consumer import Message  # noqa: E402
from services.infrastructure.db import create_engine  # noqa: E402
from services.infrastructure.tables import outbox  # noqa: E402
from services.kernel.settings import Settings  # noqa: E402
from services.migrations import migrate  # noqa: E402
from services.unit_of_work import HubUnitOfWork  # noqa: E402
from tests.integration.test_gate_worker import AUDIT, CM, consent_terms, referral  # noqa: E402
from tests.support import consents  # noqa: E402


async def timed(label: str, n: int, step) -> None:
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        await step(i)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"| {label} | {n} | {1e3 * cpu / n:.2f} | {1e3 * wall / n:.2f} |")


async def messages_on(engine, topic_like: str) -> list[Message]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.topic.like(topic_like)).order_by(outbox.c.id))).all()
    return [Message(Envelope.from_headers(r.headers), r.value, None) for r in rows]


async def measure(engine, directory, groups: int, batches: int, batch: int) -> None:
    uow = lambda consumer=None: HubUnitOfWork(engine, AUDIT, consumer=consumer)  # noqa: E731
    persons = []
    for _ in range(60):
        async with engine.begin() as conn:
            persons.append((await consents.record(conn, CM, consent_terms(), directory, AUDIT))[2])
    commands = [referral(p) for p in persons]
    print("| path | n | client CPU ms | wall ms |\n|---|---:|---:|---:|")
    await timed("request group of 1", groups,
                lambda i: handlers.send_many([(commands[i % 60], CM)], uow(), directory))
    for i in range(0, batch * batches - groups, 50):  # requests enough for the gate's batches
        await handlers.send_many([(commands[j % 60], CM) for j in range(i, i + 50)], uow(), directory)
    requested = await messages_on(engine, topics.TRANSFER_REQUESTED)
    chunks = [requested[i:i + batch] for i in range(0, len(requested), batch)][:batches]
    await timed(f"gate batch of {batch}", len(chunks), lambda i: worker.on_messages(chunks[i], uow("gate"), directory))
    deliveries = await messages_on(engine, topics.office_inbox("%"))
    chunks = [deliveries[i:i + batch] for i in range(0, len(deliveries), batch)]
    await timed(f"delivery batch of {batch}", len(chunks), lambda i: delivery.on_messages(chunks[i], uow("delivery")))


async def main(server: str, groups: int, batches: int, batch: int) -> None:
    name = f"kimhub_hot_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_engine(f"{base}/{name}")
    try:
        await migrate.upgrade(engine)
        await measure(engine, load_directory(Settings().directory_file), groups, batches, batch)
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
