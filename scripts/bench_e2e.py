"""End-to-end benchmark (issue 5): transfers/s from HTTP accept to the recipient inbox commit, at
saturation and at a fixed offered load, with latency percentiles and the hub's peak memory; in the
same run the baseline of raw aiokafka produce -> consume of same-size messages through the same broker.

    .venv/bin/python scripts/bench_e2e.py [--saturation 3000] [--concurrency 32] [--rate 200] [--seconds 15]

Starts its own scratch PostgreSQL database (on --server), its own broker process (tansu) and the
hub as real processes (`kimhub run`, or with --split the gateway and the workers apart). The load
generator (a minimal keep-alive HTTP/1.1 client) runs on the same machine (2 cores here), so it
competes with the hub for CPU: the numbers are conservative. Prints Markdown for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import statistics
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

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

from gateway.auth import issue_dev_token  # noqa: E402
from services.audit.checkpoint import NoteSigner  # noqa: E402
from services.shared import topics  # noqa: E402
from services.shared.embedded_broker import EmbeddedBroker  # noqa: E402
from services.shared.settings import Settings  # noqa: E402

TEXT = ("Die Person lebt seit 2017 in Troisdorf, besucht einen Integrationskurs und arbeitet in Teilzeit. "
        "Für die Prüfung einer Aufenthaltsperspektive werden die Unterlagen vorbereitet. ")


def payload(person: str) -> dict:
    return {"person": person, "municipality": "05382068", "recipient": {"kind": "abh"},
            "purpose": "aufenthaltsperspektive",
            "payload": {"reason": TEXT[:400], "requested_action": "Beratungstermin anbieten",
                        "case_notes": (TEXT * 8)[:1400], "person": {"given_name": "Amina", "family_name": "Beispiel",
                                                                  "address": "Musterstraße 1, 53840 Troisdorf"}}}


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stored_at(dsn: str, ids: list[str]) -> dict[str, float]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT transfer_id, extract(epoch from stored_at) AS t FROM inbox_items "
                                "WHERE transfer_id = ANY($1)", ids)
        return {r["transfer_id"]: float(r["t"]) for r in rows}
    finally:
        await conn.close()


async def published_at(bootstrap: str, topic_names: list[str]) -> dict[str, float]:
    """When each record on these topics was handed to the producer (its Kafka CreateTime, which
    aiokafka sets at ``send``: right after the sending process's commit), by CloudEvents id."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata: the partitions of every topic
        parts = [TopicPartition(t, p) for t in topic_names for p in (consumer.partitions_for_topic(t) or ())]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        times: dict[str, float] = {}
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    ce_id = dict(r.headers or ()).get("ce_id", b"").decode()
                    times[ce_id] = r.timestamp / 1000
        return times
    finally:
        await consumer.stop()


async def stages(dsn: str, bootstrap: str, ids: list[str], sent: dict[str, float]) -> list[tuple[str, float]]:
    """Median milliseconds per stage, from the rows' own timestamps and the records' Kafka
    timestamps: request sent -> transfer row decided (HTTP, authentication, validation); ->
    handed to the producer (the group's consent query and write, the dispatch); -> claimed by the
    gate (broker, fetch, waiting for the gate's previous batch); -> decided (the gate's first
    statements); -> handed to the producer (the rest of the batch, its commit, the dispatch); ->
    stored in the inbox (broker, fetch, insert). (``outbox.published_at`` is when a row was
    marked, which the dispatch may do a little later: not a stage boundary.)"""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT t.id, t.recipient_office, extract(epoch from t.requested_at) AS req,"
            " extract(epoch from g.processed_at) AS claim, extract(epoch from t.updated_at) AS dec,"
            " extract(epoch from i.stored_at) AS sto"
            " FROM transfers t JOIN inbox_items i ON i.transfer_id = t.id"
            " JOIN processed_messages g ON g.consumer = 'gate' AND g.ce_id = t.id"
            " WHERE t.id = ANY($1)", ids)
    finally:
        await conn.close()
    inboxes = sorted({topics.office_inbox(r["recipient_office"]) for r in rows})
    published = await published_at(bootstrap, [topics.TRANSFER_REQUESTED, *inboxes])
    rows = [{**dict(r), "pub": published[r["id"]], "pub2": published[f"{r['id']}/delivery"]} for r in rows]
    if os.environ.get("BENCH_DUMP"):  # every transfer's timestamps, to look at the tail
        with open(os.environ["BENCH_DUMP"], "w") as f:
            f.write("sent,req,pub,claim,dec,pub2,sto\n")
            for r in sorted(rows, key=lambda r: sent[r["id"]]):
                f.write(",".join(f"{v:.6f}" for v in (sent[r["id"]], *(float(r[k]) for k in
                                                                          ("req", "pub", "claim", "dec", "pub2", "sto"))))
                        + "\n")
    med = statistics.median
    steps = [("accept", None, "req"), ("to producer", "req", "pub"), ("to gate", "pub", "claim"),
             ("gate", "claim", "dec"), ("gate to producer", "dec", "pub2"), ("to inbox", "pub2", "sto")]
    return [(name, med([(float(r[b]) - (sent[r["id"]] if a is None else float(r[a]))) * 1000 for r in rows]))
            for name, a, b in steps]


async def wait_stored(dsn: str, ids: list[str], timeout: float = 600) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = await stored_at(dsn, ids)
        if len(done) == len(ids):
            return done
        await asyncio.sleep(0.5)
    raise SystemExit(f"only {len(done)} of {len(ids)} transfers reached the inbox")


RETRIES = {"count": 0}  # connection resets seen by the load generator, reported with the results


class LoadClient:
    """A minimal HTTP/1.1 keep-alive client for the load: httpx costs several ms of CPU per
    request, which on a 2-core machine is taken from the hub being measured."""

    def __init__(self, host: str, port: int, token: str, connections: int):
        self.host, self.port, self.size = host, port, connections
        self.head = (f"POST /transfers HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.pool: asyncio.Queue = asyncio.Queue()

    async def __aenter__(self):
        for _ in range(self.size):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def __aexit__(self, *exc):
        while not self.pool.empty():
            self.pool.get_nowait()[1].close()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        conn = await self.pool.get()
        try:
            try:
                status, data = await self._exchange(conn, body)
            except (ConnectionError, asyncio.IncompleteReadError):  # a reset keep-alive connection: once more
                RETRIES["count"] += 1
                conn[1].close()
                conn = await asyncio.open_connection(self.host, self.port)
                status, data = await self._exchange(conn, body)
            return status, data
        finally:
            self.pool.put_nowait(conn)

    async def _exchange(self, conn, body: bytes) -> tuple[int, bytes]:
        reader, writer = conn
        writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:"))
        return int(lines[0].split()[1]), await reader.readexactly(length)


async def send_one(client: LoadClient, person: str, sent: dict[str, float]) -> None:
    body = json.dumps(payload(person)).encode()
    t = time.time()
    status, data = await client.post(body)
    if status != 202:
        raise SystemExit(f"transfer not accepted: {status} {data[:200]!r}")
    sent[json.loads(data)["transfer_id"]] = t


async def saturation(client, persons, n: int, concurrency: int, dsn: str) -> dict:
    sent: dict[str, float] = {}
    queue = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(persons[i % len(persons)])

    async def worker():
        while not queue.empty():
            await send_one(client, queue.get_nowait(), sent)

    start = time.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    accepted_s = time.time() - start
    done = await wait_stored(dsn, list(sent))
    latencies = [(done[t] - sent[t]) * 1000 for t in sent]
    return {"n": n, "accept_rate": n / accepted_s, "throughput": n / (max(done.values()) - start),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99)}


async def commits(dsn: str) -> int:
    """Transactions committed in the bench database so far (PostgreSQL's statistics, which lag by
    up to half a second: read after a pause)."""
    await asyncio.sleep(1.0)
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    finally:
        await conn.close()


async def offered(client, persons, rate: float, seconds: float, dsn: str, bootstrap: str) -> dict:
    sent: dict[str, float] = {}
    before = await commits(dsn)
    n = int(rate * seconds)
    wall = time.time()
    start = time.monotonic()
    tasks = []
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(send_one(client, persons[i % len(persons)], sent)))
    await asyncio.gather(*tasks)
    done = await wait_stored(dsn, list(sent))
    latencies = [(done[t] - sent[t]) * 1000 for t in sent]
    return {"n": n, "rate": rate, "throughput": n / (max(done.values()) - wall), "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "stages": await stages(dsn, bootstrap, list(sent), sent),
            "commits": (await commits(dsn) - before) / n}


async def raw_baseline(bootstrap: str, n: int, size: int) -> dict:
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest",
                                session_timeout_ms=6000, heartbeat_interval_ms=1500)
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=1)
    await producer.start()
    latencies: list[float] = []
    got = 0
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.1)
        body = os.urandom(size // 2).hex().encode()
        start = time.time()

        async def consume():
            nonlocal got
            while got < n:
                batches = await consumer.getmany(timeout_ms=500)
                now = time.time()
                for records in batches.values():
                    for r in records:
                        latencies.append((now - float(dict(r.headers)["t"].decode())) * 1000)
                        got += 1

        reader = asyncio.create_task(consume())
        futures = [await producer.send(topic, body, key=str(i % 50).encode(), headers=[("t", str(time.time()).encode())])
                   for i in range(n)]
        await asyncio.gather(*futures)
        await reader
        elapsed = time.time() - start
    finally:
        await producer.stop()
        await consumer.stop()
    return {"n": n, "throughput": n / elapsed, "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


class CpuMeter:
    """CPU seconds and context switches per process group (each hub process, the broker, PostgreSQL)
    over a phase, from /proc. A context switch is mostly a wake-up: a process waiting for a socket
    or a timer, which on this machine costs more than the work it then does."""

    def __init__(self, hub: list[subprocess.Popen], broker_pid: int):
        self.groups = {**{f"hub-{i}": [p.pid] for i, p in enumerate(hub)}, "broker": [broker_pid],
                       "load generator": [os.getpid()]}
        self.tick = os.sysconf("SC_CLK_TCK")

    def _seconds(self, pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick

    @staticmethod
    def _switches(pid: int) -> int:
        """Voluntary and involuntary context switches of all the process's threads."""
        n = 0
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                for line in (task / "status").read_text().splitlines():
                    if "ctxt_switches:" in line:
                        n += int(line.split()[1])
        except OSError:
            pass
        return n

    def _postgres(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip().startswith("postgres"):
                        pids.append(int(entry.name))
                except OSError:
                    pass
        return pids

    def snapshot(self) -> dict[str, dict[int, float]]:
        groups = {**self.groups, "postgres": self._postgres()}
        return {name: {pid: (self._seconds(pid), self._switches(pid)) for pid in pids} for name, pids in groups.items()}

    @staticmethod
    def used(before: dict, after: dict, which: int = 0) -> dict[str, float]:
        """CPU seconds (``which`` 0) or context switches (1) per group between two snapshots
        (processes started in between count from 0)."""
        return {name: sum(v[which] - before.get(name, {}).get(pid, (0.0, 0))[which] for pid, v in pids.items())
                for name, pids in after.items()}


def profile(procs: list[subprocess.Popen], phase: str, seconds: float) -> None:
    """py-spy each hub process during one phase: BENCH_PROFILE=out BENCH_PROFILE_PHASE=offered
    -> out.0.txt (workers, or the one process), out.1.txt (gateway); needs py-spy on PATH."""
    if os.environ.get("BENCH_PROFILE") and os.environ.get("BENCH_PROFILE_PHASE", "saturation") == phase:
        for i, p in enumerate(procs):
            subprocess.Popen(["py-spy", "record", "-p", str(p.pid), "-d", str(int(seconds)), "-f", "raw", "-o",
                              f"{os.environ['BENCH_PROFILE']}.{i}.txt", "--nonblocking"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
    parser.add_argument("--saturation", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--persons", type=int, default=50)
    parser.add_argument("--split", action="store_true",
                        help="gateway and workers as two processes (kimhub serve …), as in production")
    parser.add_argument("--processes", default="",
                        help="hub processes by component, e.g. gate+audit,relay+delivery,gateway")
    args = parser.parse_args()

    db = f"kimhub_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(args.server)
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    server = urllib.parse.urlsplit(args.server)  # may carry ?host=/var/run/postgresql (Unix socket)
    dsn = urllib.parse.urlunsplit(server._replace(path=f"/{db}"))
    broker = EmbeddedBroker(19876)
    await broker.start()
    data_dir = Path(tempfile.mkdtemp())
    port = 18765
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")},
           "KIMHUB_DATABASE_URL": dsn, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap, "KIMHUB_KAFKA_IDEMPOTENCE": "false",
           "KIMHUB_KAFKA_SESSION_TIMEOUT_MS": "6000",
           "KIMHUB_KAFKA_FETCH_MAX_WAIT_MS": os.environ.get("BENCH_FETCH_WAIT", "20"),  # tansu holds a fetch for its whole wait
           "KIMHUB_DATA_DIR": str(data_dir),
           "KIMHUB_HTTP_PORT": str(port), "KIMHUB_LOG_LEVEL": "WARNING",
           "KIMHUB_LOG_PSEUDONYM_KEY": hashlib.sha256(b"bench").hexdigest(),
           "KIMHUB_LOG_SIGNING_KEY": NoteSigner.generate("kimhub-bench").skey,
           # a setting to try without editing the script: BENCH_KIMHUB_CONSUMER_POLL_MS=2 -> KIMHUB_CONSUMER_POLL_MS=2
           **{k.removeprefix("BENCH_"): v for k, v in os.environ.items() if k.startswith("BENCH_KIMHUB_")}}
    groups = [g.split("+") for g in args.processes.split(",")] if args.processes else (
        [["relay", "gate", "delivery", "audit"], ["gateway"]] if args.split else [])
    commands = [["serve", *g] for g in groups] or [["run"]]
    procs = [subprocess.Popen([sys.executable, "-m", "services.cli", *c], cwd=ROOT, env=env,
                              stdout=open(data_dir / f"hub-{i}.log", "wb"), stderr=subprocess.STDOUT)
             for i, c in enumerate(commands)]
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
        token = issue_dev_token(Settings(data_dir=data_dir), "cm.rsk")
        consent = {"municipality": "05382068", "valid_from": "2025-01-01T00:00:00Z",
                   "provisions": [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                                   "categories": ["stammdaten", "falldaten"]}],
                   "evidence": {"form_sha256": "ab" * 32, "form_version": "F1", "language": "de"}}
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            persons = []
            for _ in range(args.persons):
                r = await c.post("/consents", json=consent)
                if r.status_code != 201:
                    raise SystemExit(f"consent not recorded: {r.status_code} {r.text[:300]}")
                persons.append(r.json()["person"])
        size = len(json.dumps(payload(persons[0])).encode())
        gc.freeze()  # as the hub does: no long full collections in the load generator while it measures

        def client() -> LoadClient:  # a fresh pool per phase: idle keep-alives are closed by the server
            return LoadClient("127.0.0.1", port, token, args.concurrency)

        async with client() as c:
            await saturation(c, persons, 200, args.concurrency, dsn)  # warm-up
        meter = CpuMeter(procs, broker.process.pid)
        cpu: dict[str, tuple[dict[str, float], float, int]] = {}  # phase -> (CPU s per group, seconds, transfers)
        switches: dict[str, dict[str, float]] = {}  # phase -> context switches per group
        await asyncio.sleep(2)  # let the warm-up's tail drain
        t0, before = time.perf_counter(), meter.snapshot()
        await asyncio.sleep(5)
        after = meter.snapshot()
        cpu["idle"] = (meter.used(before, after), time.perf_counter() - t0, 0)
        switches["idle"] = meter.used(before, after, 1)
        profile(procs, "saturation", 20)
        t0, before = time.perf_counter(), meter.snapshot()
        async with client() as c:
            sat = await saturation(c, persons, args.saturation, args.concurrency, dsn)
        after = meter.snapshot()
        cpu["saturation"] = (meter.used(before, after), time.perf_counter() - t0, sat["n"])
        switches["saturation"] = meter.used(before, after, 1)
        profile(procs, "offered", args.seconds)
        t0, before = time.perf_counter(), meter.snapshot()
        async with client() as c:
            fixed = await offered(c, persons, args.rate, args.seconds, dsn, broker.bootstrap)
        after = meter.snapshot()
        cpu["offered"] = (meter.used(before, after), time.perf_counter() - t0, fixed["n"])
        switches["offered"] = meter.used(before, after, 1)
        memory = sum(peak_rss_mb(p.pid) for p in procs)
        raw = await raw_baseline(broker.bootstrap, 20000, size)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        broker.stop()
        admin = await asyncpg.connect(args.server)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()

    print(f"request body: {size} bytes; hub peak RSS: {memory:.0f} MB ({len(procs)} process{'es' if len(procs) > 1 else ''})\n")
    print("| measurement | transfers/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    print(f"| hub, saturation ({sat['n']} transfers, {args.concurrency} concurrent) | {sat['throughput']:.0f} "
          f"(accepted {sat['accept_rate']:.0f}/s) | {sat['p50']:.0f} | {sat['p95']:.0f} | {sat['p99']:.0f} |")
    print(f"| hub, offered {fixed['rate']:.0f}/s for {args.seconds:.0f} s | {fixed['throughput']:.0f} | {fixed['p50']:.0f} "
          f"| {fixed['p95']:.0f} | {fixed['p99']:.0f} |")
    print(f"| raw aiokafka produce -> consume ({raw['n']} × {size} B) | {raw['throughput']:.0f} | {raw['p50']:.0f} "
          f"| – | {raw['p99']:.0f} |")
    st = fixed["stages"]
    print(f"\nat {fixed['rate']:.0f}/s offered, median ms per stage: "
          + ", ".join(f"{name} {ms:.0f}" for name, ms in st))
    print(f"\nat {fixed['rate']:.0f}/s offered, database transactions per transfer: {fixed['commits']:.1f}")
    names = {f"hub-{i}": " ".join(c) for i, c in enumerate(commands)}
    print("\nCPU per process group (% of one core; ms of CPU per transfer):\n")
    print("| phase | " + " | ".join(names.get(g, g) for g in cpu["idle"][0]) + " | total |")
    print("|---|" + "---:|" * (len(cpu["idle"][0]) + 1))
    for phase, (used, seconds, n) in cpu.items():
        cells = [f"{100 * t / seconds:.0f} %" + (f" ({1000 * t / n:.2f})" if n else "") for t in used.values()]
        total = sum(used.values())
        print(f"| {phase} | " + " | ".join(cells) + f" | {100 * total / seconds:.0f} %"
              + (f" ({1000 * total / n:.2f})" if n else "") + " |")
    print("\nContext switches per process group (per second; per transfer):\n")
    print("| phase | " + " | ".join(names.get(g, g) for g in cpu["idle"][0]) + " | total |")
    print("|---|" + "---:|" * (len(cpu["idle"][0]) + 1))
    for phase, (_, seconds, n) in cpu.items():
        counts = list(switches[phase].values()) + [sum(switches[phase].values())]
        print(f"| {phase} | " + " | ".join(f"{c / seconds:,.0f}" + (f" ({c / n:.1f})" if n else "") for c in counts) + " |")
    print(f"\nratio hub / raw (saturation throughput): {sat['throughput'] / raw['throughput']:.3f}; "
          f"requests re-sent after a connection reset: {RETRIES['count']}")


if __name__ == "__main__":
    asyncio.run(main())
