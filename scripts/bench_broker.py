"""What the embedded broker (tansu) adds to a transfer, without the hub (issue 5).

    .venv/bin/python scripts/bench_broker.py [--waits 5,20,50] [--rate 200]

Starts its own broker process and, like the hub's two consumers, one consumer of 2 topics (the
gate's) and one of 13 (the delivery's, one inbox topic per demo office), all with one partition.
Measures, for each consumer fetch wait (``KIMHUB_KAFKA_FETCH_MAX_WAIT_MS``):

1. the broker's CPU while the consumers only poll (no records);
2. one produce -> consume hop of a 2 KB record at ``--rate`` records/s: from ``send`` to the
   record in the consumer's ``getmany`` (tansu answers a fetch only when its wait is over, so the
   hop is the rest of the fetch in progress);
3. the produce round trip (``send_and_wait``) at the same rate, and with no consumer at all.

Prints Markdown for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

from services.infrastructure.embedded_broker import EmbeddedBroker  # noqa: E402

GATE_TOPICS = ["gate-requested", "gate-feedback"]
INBOX_TOPICS = [f"inbox-{i}" for i in range(13)]
BODY = os.urandom(1000).hex().encode()


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def produce_round_trips(producer: AIOKafkaProducer, topic: str, rate: float, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        await producer.send_and_wait(topic, BODY, key=b"k")
        times.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - t)))
    return times


async def one_wait(broker: EmbeddedBroker, producer: AIOKafkaProducer, wait_ms: int, rate: float) -> dict:
    hops: list[float] = []
    sent: dict[bytes, float] = {}
    consumers = []
    for group, names in ((f"gate-{wait_ms}", GATE_TOPICS), (f"delivery-{wait_ms}", INBOX_TOPICS)):
        c = AIOKafkaConsumer(*names, bootstrap_servers=broker.bootstrap, group_id=group, fetch_max_wait_ms=wait_ms,
                             auto_offset_reset="latest", session_timeout_ms=6000, heartbeat_interval_ms=1500)
        await c.start()
        consumers.append(c)

    async def drain(c: AIOKafkaConsumer) -> None:
        while True:
            for records in (await c.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                hops.extend((now - sent[r.value[:16]]) * 1000 for r in records if r.value[:16] in sent)

    tasks = [asyncio.create_task(drain(c)) for c in consumers]
    try:
        while not all(c.assignment() for c in consumers):
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        before, t0 = cpu_seconds(broker.process.pid), time.perf_counter()
        await asyncio.sleep(5)
        idle = (cpu_seconds(broker.process.pid) - before) / (time.perf_counter() - t0)
        for i in range(int(rate * 5)):  # hop: half to the gate's topics, half to an inbox topic
            tag = f"{i:016d}".encode()
            sent[tag] = time.perf_counter()
            await producer.send(GATE_TOPICS[0] if i % 2 else INBOX_TOPICS[3], tag + BODY, key=b"k")
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(1)
        produce = await produce_round_trips(producer, INBOX_TOPICS[5], rate, int(rate * 3))
    finally:
        for t in tasks:
            t.cancel()
        for c in consumers:
            await c.stop()
    return {"wait": wait_ms, "idle": idle, "hops": hops, "produce": produce}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", default="5,20,50")
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    broker = EmbeddedBroker(19877)
    await broker.start()
    try:
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(t, 1, 1) for t in GATE_TOPICS + INBOX_TOPICS])
        await admin.close()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=False)
        await producer.start()
        try:
            alone = await produce_round_trips(producer, INBOX_TOPICS[5], args.rate, int(args.rate * 3))
            results = [await one_wait(broker, producer, int(w), args.rate) for w in args.waits.split(",")]
        finally:
            await producer.stop()
    finally:
        broker.stop()
    print(f"produce round trip, no consumer: p50 {percentile(alone, 50):.1f} / p99 {percentile(alone, 99):.1f} ms\n")
    print("| fetch wait ms | broker CPU, consumers polling | hop p50 / p99 / max ms | produce round trip p50 / p99 ms |")
    print("|---:|---:|---:|---:|")
    for r in results:
        h, p = r["hops"], r["produce"]
        print(f"| {r['wait']} | {100 * r['idle']:.0f} % of a core | {percentile(h, 50):.1f} / {percentile(h, 99):.1f} / "
              f"{max(h):.1f} | {percentile(p, 50):.1f} / {percentile(p, 99):.1f} |")


if __name__ == "__main__":
    asyncio.run(main())
