"""A consumer's background offset commits (``services.infrastructure.offsets``), against a stand-in consumer."""
from __future__ import annotations

import asyncio
from collections import namedtuple

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError, KafkaConnectionError

from services.infrastructure.offsets import CommitOnRevoke, OffsetCommits

Record = namedtuple("Record", "topic partition offset")
A0, A1 = TopicPartition("a", 0), TopicPartition("a", 1)


class StandInConsumer:
    def __init__(self, assigned=(A0, A1)):
        self.assigned = set(assigned)
        self.commits: list[dict] = []
        self.seeks: list[tuple] = []
        self.fail_next = 0

    async def commit(self, offsets):
        await asyncio.sleep(0)
        if self.fail_next:
            self.fail_next -= 1
            raise KafkaConnectionError("broker away")
        self.commits.append(dict(offsets))

    def assignment(self):
        return set(self.assigned)

    def seek(self, tp, offset):
        if tp not in self.assigned:
            raise IllegalStateError("not assigned")
        self.seeks.append((tp, offset))


def records(partition: int, *offsets: int) -> list[Record]:
    return [Record("a", partition, o) for o in offsets]


async def test_batches_within_the_interval_share_one_commit_past_their_last_records():
    consumer = StandInConsumer()
    commits = OffsetCommits(lambda: consumer, interval=0.05)
    commits.done(records(0, 0, 1, 2))
    commits.done(records(1, 7))
    commits.done(records(0, 3, 4))
    await asyncio.sleep(0.01)
    assert consumer.commits == []  # not one commit per batch
    await asyncio.sleep(0.1)
    assert consumer.commits == [{A0: 5, A1: 8}]


async def test_an_offset_never_goes_back():
    consumer = StandInConsumer()
    commits = OffsetCommits(lambda: consumer, interval=0.01)
    commits.done(records(0, 9))
    commits.done(records(0, 4))  # a repeat of earlier records, consumed again after a rewind
    await asyncio.sleep(0.05)
    assert consumer.commits == [{A0: 10}]


async def test_a_failed_commit_is_tried_again_for_the_partitions_still_ours():
    consumer = StandInConsumer()
    consumer.fail_next = 1
    commits = OffsetCommits(lambda: consumer, interval=0.02)
    commits.done(records(0, 1) + records(1, 1))
    await asyncio.sleep(0.03)
    assert consumer.commits == [] and consumer.fail_next == 0
    consumer.assigned = {A0}  # partition 1 moved to another consumer meanwhile
    await asyncio.sleep(0.05)
    assert consumer.commits == [{A0: 2}]
    commits.done(records(0, 2))
    await asyncio.sleep(0.05)
    assert consumer.commits == [{A0: 2}, {A0: 3}]


async def test_close_commits_at_once():
    consumer = StandInConsumer()
    commits = OffsetCommits(lambda: consumer, interval=60)
    commits.done(records(1, 3))
    await commits.close()
    assert consumer.commits == [{A1: 4}]


async def test_a_revoked_partition_is_committed_before_it_moves_and_only_it():
    consumer = StandInConsumer()
    commits = OffsetCommits(lambda: consumer, interval=60)
    commits.done(records(0, 1) + records(1, 2))
    await CommitOnRevoke(commits).on_partitions_revoked({A1})
    assert consumer.commits == [{A1: 3}]
    await commits.close()
    assert consumer.commits == [{A1: 3}, {A0: 2}]


def test_rewind_seeks_each_partition_to_its_earliest_record_and_skips_revoked_ones():
    consumer = StandInConsumer(assigned={A0})
    OffsetCommits(lambda: consumer, interval=1).rewind(records(0, 5, 3, 4) + records(1, 8))
    assert consumer.seeks == [(A0, 3)]


async def test_before_the_consumer_exists_offsets_wait_and_a_rewind_is_a_no_op():
    consumer = None
    commits = OffsetCommits(lambda: consumer, interval=60)
    commits.done(records(0, 1))
    commits.rewind(records(0, 1))  # would raise on None
    await commits.flush()
    consumer = StandInConsumer()
    await commits.flush()
    assert consumer.commits == [{A0: 2}] and consumer.seeks == []
