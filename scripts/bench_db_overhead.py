"""What one database transaction costs the hub's process in CPU, by access path (issue 5).

    .venv/bin/python scripts/bench_db_overhead.py [--server postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres]

The hub talks to PostgreSQL through SQLAlchemy Core on asyncpg. This measures, back to back, the
client CPU of a transaction with one small ``SELECT``: through SQLAlchemy as the hub does (BEGIN,
SELECT, COMMIT: three round trips) and through asyncpg alone with a prepared statement (the same
three round trips); the difference is what the layers cost (greenlet bridge, DBAPI adaptation,
result objects). For reference: an empty SQLAlchemy transaction (no round trip: the asyncpg adapter
begins at the first statement) and a SELECT sent on the asyncpg connection under a SQLAlchemy
transaction (one round trip).
"""
from __future__ import annotations

import argparse
import asyncio
import resource

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

N = 2000
QUERY = "SELECT 1 WHERE 1 = $1"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(label: str, one) -> None:
    for i in range(200):
        await one(i)
    before = _cpu()
    for i in range(N):
        await one(i)
    print(f"{label:55s} {(_cpu() - before) / N * 1e6:6.0f} µs client CPU per transaction")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    engine = create_async_engine(args.server.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    statement = text("SELECT 1 WHERE 1 = :i")

    async def empty(i: int) -> None:
        async with engine.begin():
            pass

    async def through_sqlalchemy(i: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(statement, {"i": i})

    async def asyncpg_inside_sqlalchemy(i: int) -> None:
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.fetch(QUERY, i)

    plain = await asyncpg.connect(args.server)
    prepared = await plain.prepare(QUERY)

    async def asyncpg_alone(i: int) -> None:
        async with plain.transaction():
            await prepared.fetch(i)

    try:
        await _measure("SQLAlchemy: empty transaction", empty)
        await _measure("SQLAlchemy: transaction + SELECT (the hub's path)", through_sqlalchemy)
        await _measure("SQLAlchemy transaction, SELECT on its asyncpg connection", asyncpg_inside_sqlalchemy)
        await _measure("asyncpg alone: transaction + prepared SELECT", asyncpg_alone)
    finally:
        await plain.close()
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
