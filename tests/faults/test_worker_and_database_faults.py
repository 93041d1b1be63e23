"""During a stream of transfers: a hub worker killed mid-batch, the gateway killed mid-stream,
PostgreSQL connections cut; and what a graceful stop of the workers commits."""
import asyncio
import signal
import time

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.infrastructure import topics
from tests.conftest import _asyncpg_dsn
from tests.e2e.conftest import start_hub, stop_hub, wait_for
from tests.faults.conftest import Stream, assert_exactly_once, consenting_persons

WORKERS = ("serve", "relay", "gate", "delivery", "audit")


async def _fetch(database: str, sql: str, *args) -> list:
    conn = await asyncpg.connect(_asyncpg_dsn(database))
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "graceful-shutdown"])
def test_worker_stopped_mid_batch_and_restarted(broker, database, tmp_path, sig):
    env = {"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap}
    gateway = start_hub(env, tmp_path / "gateway", args=("serve", "gateway"))
    workers = start_hub(env, tmp_path / "workers-1", args=WORKERS)
    try:
        with gateway.client("cm.rsk") as cm:
            stream = Stream(cm, consenting_persons(cm, 4), count=80, rate=25)
            thread = stream.start()
            # stop the workers once they are busy: the first transfers have gone through
            wait_for(lambda: len(stream.accepted) > 5 and
                     cm.get(f"/transfers/{stream.accepted[0]}").json()["status"] == "delivered", timeout=60)
            workers.process.send_signal(sig)  # SIGKILL: offsets and rows mid-flight; SIGTERM: in-flight work finishes
            code = workers.process.wait(30)
            if sig == signal.SIGTERM:
                assert code == 0, workers.log_tail()
            time.sleep(1.0)
            workers = start_hub(env, tmp_path / "workers-2", args=WORKERS)
            thread.join(60)
        assert not stream.failed and len(stream.accepted) == 80
        assert_exactly_once(database, stream.accepted)
    finally:
        stop_hub(workers)
        stop_hub(gateway)


def test_database_connections_cut_during_stream(broker, database, tmp_path):
    hub = start_hub({"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap}, tmp_path / "hub")
    name = database.rsplit("/", 1)[1]

    async def cut() -> int:
        return len(await _fetch(database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1 AND pid <> pg_backend_pid()", name))

    try:
        with hub.client("cm.rsk") as cm:
            stream = Stream(cm, consenting_persons(cm, 4), count=80, rate=25)
            thread = stream.start()
            cut_total = 0
            for _ in range(3):
                time.sleep(0.8)
                cut_total += asyncio.run(cut())
            thread.join(60)
        assert cut_total > 0
        # A request whose connection was cut gets 503 (nothing stored) and may be sent again.
        assert set(stream.failed) <= {503}, stream.failed
        assert len(stream.accepted) + len(stream.failed) == 80
        assert_exactly_once(database, stream.accepted)
        with hub.client() as anonymous:
            assert anonymous.get("/health/ready").status_code == 200
    finally:
        stop_hub(hub)


def test_gateway_killed_mid_stream(broker, database, tmp_path):
    """The gateway publishes what it committed itself (outbox dispatch). Killed, it leaves rows it
    committed but had not sent or not yet marked: the relay (in the workers) takes them once their
    lease has run out, and every transfer the database holds, answered or not, is delivered once."""
    env = {"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap,
           "KIMHUB_OUTBOX_LEASE_SECONDS": "2"}
    gateway = start_hub(env, tmp_path / "gateway", args=("serve", "gateway"))
    workers = start_hub(env, tmp_path / "workers", args=WORKERS)

    def query(sql: str) -> list:
        return [r[0] for r in asyncio.run(_fetch(database, sql))]

    try:
        with gateway.client("cm.rsk") as cm:
            stream = Stream(cm, consenting_persons(cm, 4), count=150, rate=25)
            thread = stream.start()
            wait_for(lambda: len(stream.accepted) > 20, timeout=60)
            gateway.process.send_signal(signal.SIGKILL)
            gateway.process.wait(30)
            left = query("SELECT id FROM outbox WHERE published_at IS NULL AND lease_until IS NOT NULL")
            thread.join(60)
        assert stream.failed, "the stream went on after the kill"
        committed = query("SELECT id FROM transfers")
        assert set(stream.accepted) <= set(committed)
        assert_exactly_once(database, committed)
        if left:  # rows the killed gateway held: published by the relay after their lease
            published = query(f"SELECT id FROM outbox WHERE id IN ({','.join(map(str, left))})"
                              " AND published_at IS NOT NULL")
            assert sorted(published) == sorted(left)
    finally:
        stop_hub(workers)
        stop_hub(gateway)


def test_a_graceful_stop_commits_the_offsets_of_what_the_workers_finished(broker, database, tmp_path):
    """Consumers commit offsets in the background (``KIMHUB_CONSUMER_COMMIT_INTERVAL_MS``, here far
    longer than the test); on SIGTERM the workers commit what they finished, so a restart does not
    read it again. (Nothing would be lost without: the claims skip a repeat.)"""
    env = {"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap,
           "KIMHUB_CONSUMER_COMMIT_INTERVAL_MS": "60000"}
    gateway = start_hub(env, tmp_path / "gateway", args=("serve", "gateway"))
    workers = start_hub(env, tmp_path / "workers", args=WORKERS)
    try:
        with gateway.client("cm.rsk") as cm:
            stream = Stream(cm, consenting_persons(cm, 3), count=9, rate=25)
            stream.start().join(60)
        assert_exactly_once(database, stream.accepted)
        before = asyncio.run(_uncommitted(broker.bootstrap))
        assert {tp.topic for tp in before} == {topics.TRANSFER_REQUESTED, topics.office_inbox("troisdorf-abh")}, \
            "committed before the stop: the test would prove nothing"
        workers.process.send_signal(signal.SIGTERM)
        assert workers.process.wait(30) == 0, workers.log_tail()
        assert asyncio.run(_uncommitted(broker.bootstrap)) == {}
    finally:
        stop_hub(workers)
        stop_hub(gateway)


async def _uncommitted(bootstrap: str) -> dict:
    """Partitions of the gate's and the delivery's topics whose records are not all committed."""
    inbox = topics.office_inbox("troisdorf-abh")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await reader.start()
    try:
        left = {}
        for group, topic in (("kimhub-gate", topics.TRANSFER_REQUESTED), ("kimhub-delivery", inbox)):
            (described,) = await admin.describe_topics([topic])  # a reader's metadata may not name it yet
            tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
            ends = await reader.end_offsets(tps)
            committed = await admin.list_consumer_group_offsets(group, partitions=tps)
            for tp in tps:
                done = committed.get(tp).offset if committed.get(tp) is not None else -1
                if ends[tp] > 0 and done < ends[tp]:
                    left[tp] = (done, ends[tp])
        return left
    finally:
        await reader.stop()
        await admin.close()
