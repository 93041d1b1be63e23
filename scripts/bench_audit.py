"""Benchmark of the transfer log (issue 3): append rate into PostgreSQL, inclusion-proof time,
offline verification time and peak memory, at several log sizes.

    .venv/bin/python scripts/bench_audit.py [--sizes 10000,100000,1000000] [--server postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres]

Creates a scratch database per size on the given server and drops it afterwards. Prints a
Markdown table (copied into docs/benchmarks.md). Targets: append >= 5,000 records/s; an inclusion
proof < 2 ms at 10^6 records; verifying 10^6 records < 30 s with memory that does not grow.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.audit.checkpointer import Checkpointer  # noqa: E402
from services.audit.log import AuditLog  # noqa: E402
from services.audit.note_keys import NoteSigner  # noqa: E402
from services.audit.repository import AuditRepository  # noqa: E402
from services.audit.record import TransferLogRecord  # noqa: E402
from services.migrations import migrate  # noqa: E402
from services.infrastructure.db import create_engine  # noqa: E402

BATCH = 1000
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
OFFICES = ["troisdorf-abh", "rsk-abh", "rsk-ebh", "rsk-jobcenter", "me-abh", "me-ebh"]


def record(i: int) -> TransferLogRecord:
    return TransferLogRecord(
        recorded_at=T0 + timedelta(seconds=i), transfer_id=f"t-{i:032x}", message_type="referral.v1",
        sender_office="rsk-kim", sender_user="cm.rsk", recipient_office=OFFICES[i % len(OFFICES)],
        person=f"p-{i % 50_000:032x}", purpose="einbuergerung", decision="delivered" if i % 7 else "refused",
        stage="delivery", categories_sent=("falldaten", "stammdaten"), categories_removed=("besondere_kategorien",),
        consent_id=f"c-{i % 50_000:032x}", consent_version=1 + i % 3,
        legal_basis="Einwilligung: Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO", payload_sha256=f"{i:064x}")


async def admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def bench(server: str, n: int, workdir: Path) -> dict:
    name = f"kimhub_bench_{uuid.uuid4().hex[:10]}"
    await admin(server, f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    engine = create_engine(url)
    audit = AuditLog(b"benchmark-pseudonym-key-0123456789")
    signer = NoteSigner.generate("kimhub-bench")
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        for start in range(0, n, BATCH):
            async with engine.begin() as conn:
                await audit.append_many(conn, [record(i) for i in range(start, min(n, start + BATCH))])
        append_s = time.perf_counter() - started
        await Checkpointer(engine, signer, "kimhub-bench/log", 1).checkpoint()

        rng = random.Random(1)
        samples = []
        async with engine.connect() as conn:
            audit_log = AuditRepository(conn)
            for _ in range(20):  # warm-up
                await audit_log.inclusion_proof(rng.randrange(n), n)
            for _ in range(1000):
                t = time.perf_counter()
                await audit_log.inclusion_proof(rng.randrange(n), n)
                samples.append((time.perf_counter() - t) * 1000)
            export = workdir / f"log-{n}.jsonl"
            with open(export, "w") as f:
                async for line in audit_log.export():
                    f.write(line)
            (workdir / f"cp-{n}.txt").write_text((await audit_log.latest_checkpoint()).note)
    finally:
        await engine.dispose()
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # Offline verification in its own process, so its peak memory is its own.
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", VERIFY, str(export), str(workdir / f"cp-{n}.txt"), signer.vkey],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    verify_s = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"verification failed: {done.stderr}")
    samples.sort()
    return {"n": n, "append_rate": n / append_s, "proof_p50": statistics.median(samples),
            "proof_p99": samples[int(len(samples) * 0.99) - 1], "verify_s": verify_s,
            "verify_rss_mb": float(done.stdout.strip()) / 1024}


VERIFY = """
import resource, sys
from services.audit.note_keys import NoteVerifier
from services.audit.verify import verify
with open(sys.argv[1]) as lines:
    report = verify(lines, open(sys.argv[2]).read(), [NoteVerifier.from_vkey(sys.argv[3])])
assert report.ok, [str(p) for p in report.problems]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            result = await bench(args.server, n, Path(tmp))
            print(f"n={n}: {result}", file=sys.stderr, flush=True)
            rows.append(result)
    print("| records | append (records/s) | inclusion proof p50 / p99 (ms) | verify all (s) | verify peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['append_rate']:,.0f} | {r['proof_p50']:.2f} / {r['proof_p99']:.2f} "
              f"| {r['verify_s']:.1f} | {r['verify_rss_mb']:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
