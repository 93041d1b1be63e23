"""Everything the hub stored, as raw bytes: every record of every topic (key, value, headers) and
every column of every row of every table. For tests that prove what is *not* there."""
from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def topic_bytes(bootstrap: str) -> dict[str, bytes]:
    """topic → the concatenated bytes of all its records, from the first offset to the end."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = sorted(t for t in await admin.list_topics() if not t.startswith("__"))
        parts = [TopicPartition(d["topic"], p["partition"]) for d in await admin.describe_topics(names)
                 for p in d["partitions"]]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out = {t: bytearray() for t in names}
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for r in records:
                    out[tp.topic] += (r.key or b"") + (r.value or b"") + b"".join(v for _, v in r.headers)
        return {t: bytes(b) for t, b in out.items()}
    finally:
        await consumer.stop()


async def table_bytes(database_url: str) -> dict[str, bytes]:
    """table → every value of every row (bytea as it is, everything else as its text)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        names = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        out = {}
        for name in names:
            rows = await conn.fetch(f'SELECT * FROM "{name}"')
            out[name] = b"".join(v if isinstance(v, bytes) else str(v).encode() for r in rows for v in r.values())
        return out
    finally:
        await conn.close()


def everything(bootstrap: str, database_url: str) -> dict[str, bytes]:
    """``topic:<name>`` and ``table:<name>`` → bytes."""
    async def both():
        return ({f"topic:{k}": v for k, v in (await topic_bytes(bootstrap)).items()}
                | {f"table:{k}": v for k, v in (await table_bytes(database_url)).items()})
    return asyncio.run(both())
