"""The consumer's poll: an empty poll is followed by the next one at once, not by a sleep (FastStream's
batch subscriber slept ``batch_timeout_ms`` after it, and a record arriving then waited that long)."""
from __future__ import annotations

import time

from faststream.kafka import KafkaBroker

from services.infrastructure.consumer import Consumer
from services.kernel.settings import Settings


class StandInKafkaConsumer:
    def __init__(self, batches: list[dict]):
        self.batches = batches
        self.calls: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        self.calls.append((timeout_ms, max_records))
        return self.batches.pop(0)


def consumer(poll_ms: int) -> Consumer:
    settings = Settings(consumer_poll_ms=poll_ms, consumer_batch=7)
    return Consumer("gate", ("t",), handle=None, new_uow=None, broker=KafkaBroker("127.0.0.1:1"), settings=settings)


async def test_an_empty_poll_returns_at_once_so_the_next_poll_starts_without_a_sleep():
    c = consumer(poll_ms=300)
    kafka = StandInKafkaConsumer([{}])
    started = time.perf_counter()
    assert await c.subscriber.get_msg(kafka) == ()
    assert time.perf_counter() - started < 0.1  # FastStream's own slept the 300 ms
    assert kafka.calls == [(300, 7)]


async def test_a_poll_hands_over_every_partition_s_records_in_one_batch():
    kafka = StandInKafkaConsumer([{"p0": ["a", "b"], "p1": ["c"]}])
    assert await consumer(poll_ms=10).subscriber.get_msg(kafka) == ("a", "b", "c")
