"""The measuring parts of scripts/bench_e2e.py: the request body, the load generator, latency and
stage timings from the database rows and the records' Kafka timestamps, the raw aiokafka baseline,
CPU and context switches per process group."""
from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from services.infrastructure import topics

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
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # a fresh consumer's metadata need not name these topics yet; the admin client asks for them
        parts = [TopicPartition(t["topic"], p["partition"]) for t in await admin.describe_topics(topic_names)
                 for p in t["partitions"]]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
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


async def raw_baseline(bootstrap: str, n: int, size: int, idempotence: bool) -> dict:
    """Produce -> consume of ``n`` records of ``size`` bytes, with the hub's producer settings."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 3, 1)])
    await admin.close()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest",
                                session_timeout_ms=6000, heartbeat_interval_ms=1500)
    await consumer.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotence, linger_ms=1)
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
