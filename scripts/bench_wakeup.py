"""What a wake-up costs on this machine (see docs/benchmarks.md, issue 5).

    .venv/bin/python scripts/bench_wakeup.py [--server postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres]

1. Pipe ping-pong between two processes: wall time and CPU per round trip (two context switches).
2. asyncpg ``SELECT 1`` back to back and with a pause of 1, 5 and 20 ms between queries: client CPU
   and PostgreSQL CPU (all ``postgres`` processes, from /proc) per round trip. A pipeline that handles
   a message every few milliseconds pays the paused price at every step.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from pathlib import Path

import asyncpg


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def pipe_ping_pong(n: int = 20000) -> str:
    to_child, from_parent = os.pipe()
    from_child, to_parent = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: echo every byte
        for _ in range(n):
            os.read(to_child, 1)
            os.write(to_parent, b"x")
        os._exit(0)
    start, before = time.perf_counter(), _cpu(resource.getrusage(resource.RUSAGE_SELF))
    for _ in range(n):
        os.write(from_parent, b"x")
        os.read(from_child, 1)
    wall = time.perf_counter() - start
    parent = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - before
    os.waitpid(pid, 0)
    child = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
    return (f"pipe ping-pong: {wall / n * 1e6:.1f} µs per round trip; CPU parent {parent / n * 1e6:.1f} µs, "
            f"child {child / n * 1e6:.1f} µs")


def postgres_cpu() -> float:
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("postgres"):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
    return total / tick


async def round_trips(dsn: str, pause: float) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(200):
            await conn.fetchval("SELECT 1")
        n = 2000 if pause else 10000
        start = time.perf_counter()
        client, server = _cpu(resource.getrusage(resource.RUSAGE_SELF)), postgres_cpu()
        for _ in range(n):
            await conn.fetchval("SELECT 1")
            if pause:
                await asyncio.sleep(pause)
        client = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - client
        server = postgres_cpu() - server
        wall = (time.perf_counter() - start) / n - pause
    finally:
        await conn.close()
    return (f"SELECT 1, pause {pause * 1000:4.0f} ms: {wall * 1e6:.0f} µs wall beyond the pause "
            "(query + timer lateness), "
            f"client CPU {client / n * 1e6:.0f} µs, PostgreSQL CPU {server / n * 1e6:.0f} µs per round trip")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(pipe_ping_pong())
    for pause in (0, 0.001, 0.005, 0.02):
        print(await round_trips(args.server, pause))


if __name__ == "__main__":
    asyncio.run(main())
