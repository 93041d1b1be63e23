"""End-to-end benchmark: transfers/s from HTTP accept to the recipient inbox commit, at saturation
and at a fixed offered load, with latency percentiles, where the time goes (stages), CPU per process
group and peak memory; in the same run the baseline of raw aiokafka produce -> consume of
same-size messages through the same broker, with the hub's producer settings, and the ratio.

    .venv/bin/python scripts/bench_e2e.py [--broker kafka|embedded] [--split] [--saturation 3000]
        [--concurrency 32] [--rate 200] [--seconds 15]

Starts its own scratch PostgreSQL database (on --server), its own broker (Apache Kafka as a local
JVM process with the production producer settings, or the embedded tansu) and the hub as real
processes (`kimhub run`, or with --split the gateway and the workers apart). The load generator
runs on the same machine (2 cores here), so it competes with the hub for CPU: the numbers are
conservative. A setting to try without editing: BENCH_KIMHUB_X=v is passed as KIMHUB_X=v.
Prints Markdown for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_support import (RETRIES, CpuMeter, LoadClient, offered, payload, peak_rss_mb, profile,  # noqa: E402
                           raw_baseline, saturation)

from gateway.auth import issue_dev_token  # noqa: E402
from services.audit.note_keys import NoteSigner  # noqa: E402
from services.infrastructure.embedded_broker import EmbeddedBroker  # noqa: E402
from services.kernel.settings import Settings  # noqa: E402
from tests.support.apache_kafka import ApacheKafka  # noqa: E402

PORT = 18765
# The code the hub processes run: this tree, or another commit's worktree (scripts/bench_ab.py --a-rev)
HUB_ROOT = Path(os.environ.get("BENCH_HUB_ROOT", ROOT))
CONSENT = {"municipality": "05382068", "valid_from": "2025-01-01T00:00:00Z",
           "provisions": [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                           "categories": ["stammdaten", "falldaten"]}],
           "evidence": {"form_sha256": "ab" * 32, "form_version": "F1", "language": "de"}}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    parser.add_argument("--broker", choices=("kafka", "embedded"), default="kafka")
    parser.add_argument("--saturation", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--persons", type=int, default=50)
    parser.add_argument("--split", action="store_true",
                        help="gateway and workers as two processes (kimhub serve …), as in production")
    parser.add_argument("--processes", default="",
                        help="hub processes by component, e.g. gate+audit,relay+delivery,gateway")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (scripts/bench_ab.py)")
    return parser.parse_args()


async def start_broker(kind: str, data_dir: Path):
    if kind == "embedded":
        broker = EmbeddedBroker(19876)
        await broker.start()
    else:  # Kafka's default heap (1 GB), as its start script sets it
        broker = ApacheKafka(data_dir / "kafka", heap="1g")
        await asyncio.to_thread(broker.start)
    return broker


def hub_env(kind: str, bootstrap: str, dsn: str, data_dir: Path) -> dict[str, str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")},
           "KIMHUB_DATABASE_URL": dsn, "KIMHUB_KAFKA_BOOTSTRAP": bootstrap, "KIMHUB_DATA_DIR": str(data_dir),
           "KIMHUB_HTTP_PORT": str(PORT), "KIMHUB_LOG_LEVEL": "WARNING", "KIMHUB_ALLOW_DEV_AUTH": "true",
           "KIMHUB_LOG_PSEUDONYM_KEY": hashlib.sha256(b"bench").hexdigest(),
           "KIMHUB_LOG_SIGNING_KEY": NoteSigner.generate("kimhub-bench").skey,
           # sealed payloads (issue 16): dev keys in the run's data directory; older code ignores these
           "KIMHUB_KEYS_DIR": str(data_dir / "keys"), "KIMHUB_KEYS_GENERATE": "true"}
    if kind == "embedded":  # what the hub sets for the broker it starts itself
        env.update({"KIMHUB_KAFKA_IDEMPOTENCE": "false", "KIMHUB_KAFKA_SESSION_TIMEOUT_MS": "6000",
                    "KIMHUB_KAFKA_FETCH_MAX_WAIT_MS": os.environ.get("BENCH_FETCH_WAIT", "20"),
                    "KIMHUB_OUTBOX_REPLAY_SECONDS": str(24 * 3600)})
    env.update({k.removeprefix("BENCH_"): v for k, v in os.environ.items() if k.startswith("BENCH_KIMHUB_")})
    return env


def start_hub(args: argparse.Namespace, env: dict[str, str], data_dir: Path):
    groups = [g.split("+") for g in args.processes.split(",")] if args.processes else (
        [["relay", "gate", "delivery", "audit"], ["gateway"]] if args.split else [])
    commands = [["serve", *g] for g in groups] or [["run"]]
    procs = [subprocess.Popen([sys.executable, "-m", "services.cli", *c], cwd=HUB_ROOT, env=env,
                              stdout=open(data_dir / f"hub-{i}.log", "wb"), stderr=subprocess.STDOUT)
             for i, c in enumerate(commands)]
    return commands, procs


async def consenting_persons(n: int, token: str) -> list[str]:
    base = f"http://127.0.0.1:{PORT}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.25)
    persons = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        for _ in range(n):
            r = await c.post("/consents", json=CONSENT)
            if r.status_code != 201:
                raise SystemExit(f"consent not recorded: {r.status_code} {r.text[:300]}")
            persons.append(r.json()["person"])
    return persons


async def measure(args, procs, broker, token: str, persons: list[str], dsn: str) -> dict:
    """Warm-up, idle, saturation, offered load; CPU and context switches per phase."""
    def client() -> LoadClient:  # a fresh pool per phase: idle keep-alives are closed by the server
        return LoadClient("127.0.0.1", PORT, token, args.concurrency)

    async with client() as c:
        await saturation(c, persons, 200, args.concurrency, dsn)  # warm-up
    meter = CpuMeter(procs, broker.process.pid)
    cpu, switches, results = {}, {}, {}

    async def phase(name: str, run) -> None:
        t0, before = time.perf_counter(), meter.snapshot()
        results[name] = await run()
        after = meter.snapshot()
        cpu[name] = (meter.used(before, after), time.perf_counter() - t0, results[name]["n"] if results[name] else 0)
        switches[name] = meter.used(before, after, 1)

    await asyncio.sleep(2)  # let the warm-up's tail drain
    await phase("idle", lambda: asyncio.sleep(5))
    profile(procs, "saturation", 20)
    async with client() as c:
        await phase("saturation", lambda: saturation(c, persons, args.saturation, args.concurrency, dsn))
    profile(procs, "offered", args.seconds)
    async with client() as c:
        await phase("offered", lambda: offered(c, persons, args.rate, args.seconds, dsn, broker.bootstrap))
    return {"sat": results["saturation"], "fixed": results["offered"], "cpu": cpu, "switches": switches,
            "memory": sum(peak_rss_mb(p.pid) for p in procs)}


async def main() -> None:
    args = parse_args()
    db = f"kimhub_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(args.server)
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    server = urllib.parse.urlsplit(args.server)  # may carry ?host=/var/run/postgresql (Unix socket)
    dsn = urllib.parse.urlunsplit(server._replace(path=f"/{db}"))
    data_dir = Path(tempfile.mkdtemp())
    broker = await start_broker(args.broker, data_dir)
    commands, procs = start_hub(args, hub_env(args.broker, broker.bootstrap, dsn, data_dir), data_dir)
    try:
        token = issue_dev_token(Settings(data_dir=data_dir), "cm.rsk")
        persons = await consenting_persons(args.persons, token)
        size = len(json.dumps(payload(persons[0])).encode())
        gc.freeze()  # as the hub does: no long full collections in the load generator while it measures
        m = await measure(args, procs, broker, token, persons, dsn)
        m["raw"] = await raw_baseline(broker.bootstrap, 20000, size, idempotence=args.broker == "kafka")
        m["broker_memory"] = peak_rss_mb(broker.process.pid)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        broker.stop()
        admin = await asyncpg.connect(args.server)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
    report(args, commands, size, m)
    if args.json:
        args.json.write_text(json.dumps(figures(m)))


def figures(m: dict) -> dict[str, float]:
    """The headline numbers of one run, for comparing runs."""
    sat, fixed, raw = m["sat"], m["fixed"], m["raw"]
    used, seconds, n = m["cpu"]["offered"]
    return {"saturation/s": sat["throughput"], "p50 ms": fixed["p50"], "p95 ms": fixed["p95"],
            "p99 ms": fixed["p99"], "CPU ms/transfer": 1000 * sum(used.values()) / n,
            "hub MB": m["memory"], "ratio": sat["throughput"] / raw["throughput"],
            **{f"{name} ms": ms for name, ms in fixed.get("stages", [])},  # --split: median per stage
            "db commits/transfer": fixed["commits"],
            **{f"{group} CPU ms/transfer": 1000 * t / n for group, t in used.items()},
            **{f"{group} switches/transfer": c / n for group, c in m["switches"]["offered"].items()}}


def report(args, commands: list[list[str]], size: int, m: dict) -> None:
    sat, fixed, raw = m["sat"], m["fixed"], m["raw"]
    print(f"broker: {'Apache Kafka' if args.broker == 'kafka' else 'embedded (tansu)'}; request body: {size} bytes; "
          f"hub peak RSS: {m['memory']:.0f} MB ({len(commands)} process{'es' if len(commands) > 1 else ''}); "
          f"broker peak RSS: {m['broker_memory']:.0f} MB\n")
    print("| measurement | transfers/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| hub, saturation ({sat['n']} transfers, {args.concurrency} concurrent) | {sat['throughput']:.0f} "
          f"(accepted {sat['accept_rate']:.0f}/s) | {sat['p50']:.0f} | {sat['p95']:.0f} | {sat['p99']:.0f} |")
    print(f"| hub, offered {fixed['rate']:.0f}/s for {args.seconds:.0f} s | {fixed['throughput']:.0f} | {fixed['p50']:.0f} "
          f"| {fixed['p95']:.0f} | {fixed['p99']:.0f} |")
    print(f"| raw aiokafka produce -> consume ({raw['n']} × {size} B) | {raw['throughput']:.0f} | {raw['p50']:.0f} "
          f"| – | {raw['p99']:.0f} |")
    print(f"\nat {fixed['rate']:.0f}/s offered, median ms per stage: "
          + ", ".join(f"{name} {ms:.0f}" for name, ms in fixed["stages"]))
    print(f"\nat {fixed['rate']:.0f}/s offered, database transactions per transfer: {fixed['commits']:.1f}")
    names = {f"hub-{i}": " ".join(c) for i, c in enumerate(commands)}
    report_cpu(names, m["cpu"], m["switches"])
    print(f"\nratio hub / raw (saturation throughput): {sat['throughput'] / raw['throughput']:.3f}; "
          f"requests re-sent after a connection reset: {RETRIES['count']}")


def report_cpu(names: dict[str, str], cpu: dict, switches: dict) -> None:
    groups = list(cpu["idle"][0])
    print("\nCPU per process group (% of one core; ms of CPU per transfer):\n")
    print("| phase | " + " | ".join(names.get(g, g) for g in groups) + " | total |")
    print("|---|" + "---:|" * (len(groups) + 1))
    for phase, (used, seconds, n) in cpu.items():
        cells = [f"{100 * t / seconds:.0f} %" + (f" ({1000 * t / n:.2f})" if n else "") for t in used.values()]
        total = sum(used.values())
        print(f"| {phase} | " + " | ".join(cells) + f" | {100 * total / seconds:.0f} %"
              + (f" ({1000 * total / n:.2f})" if n else "") + " |")
    print("\nContext switches per process group (per second; per transfer):\n")
    print("| phase | " + " | ".join(names.get(g, g) for g in groups) + " | total |")
    print("|---|" + "---:|" * (len(groups) + 1))
    for phase, (_, seconds, n) in cpu.items():
        counts = list(switches[phase].values()) + [sum(switches[phase].values())]
        print(f"| {phase} | " + " | ".join(f"{c / seconds:,.0f}" + (f" ({c / n:.1f})" if n else "") for c in counts) + " |")


if __name__ == "__main__":
    asyncio.run(main())
