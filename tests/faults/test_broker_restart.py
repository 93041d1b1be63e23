"""The broker is killed (SIGKILL) during a stream of transfers and started again.

Apache Kafka keeps its log on disk: after the restart the topics, records and committed offsets are
there; the hub's producers and consumers reconnect, and nothing needs publishing again (the hub does
not watch for lost topics on an external broker at all). The embedded broker (tansu, memory only)
comes back empty: the hub recreates the topics and publishes again what the lost broker may not
have delivered; consumers drop repeats. Either way nothing is lost and nothing is delivered twice.
"""
import asyncio
import signal
import time

from services.infrastructure.embedded_broker import EmbeddedBroker
from tests.conftest import free_port
from tests.e2e.conftest import start_hub, stop_hub, wait_for
from tests.faults.conftest import Stream, assert_exactly_once, consenting_persons

REPLAYED = "broker lost its topics"


def _stream_through_outage(hub, kill, restart) -> Stream:
    with hub.client("cm.rsk") as cm:
        stream = Stream(cm, consenting_persons(cm, 4), count=80, rate=20)
        thread = stream.start()
        time.sleep(1.5)
        kill()
        with hub.client() as anonymous:  # readiness reflects the broker
            wait_for(lambda: anonymous.get("/health/ready").json()["broker"] is False, timeout=10)
        time.sleep(1)
        restart()
        thread.join(60)
        with hub.client() as anonymous:
            wait_for(lambda: anonymous.get("/health/ready").status_code == 200, timeout=60)
    return stream


def test_apache_kafka_killed_and_restarted_mid_stream(broker, database, tmp_path):
    hub = start_hub({"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap}, tmp_path / "hub")
    try:
        stream = _stream_through_outage(hub, broker.kill, broker.start)
        assert not stream.failed, f"requests failed during the outage: {stream.failed}"
        assert len(stream.accepted) == 80
        assert_exactly_once(database, stream.accepted)
        assert REPLAYED not in hub.log_file.read_text()
    finally:
        stop_hub(hub)


def test_embedded_broker_killed_and_restarted_empty_mid_stream(database, tmp_path):
    broker = EmbeddedBroker(free_port())
    asyncio.run(broker.start())
    hub = start_hub({"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap,
                     "KIMHUB_KAFKA_IDEMPOTENCE": "false", "KIMHUB_OUTBOX_REPLAY_SECONDS": "86400"},
                    tmp_path / "hub")

    def kill():
        broker.process.send_signal(signal.SIGKILL)
        broker.process.wait(5)

    def restart():
        restarted = EmbeddedBroker(broker.port)
        asyncio.run(restarted.start())
        broker.process = restarted.process  # stopped below

    try:
        stream = _stream_through_outage(hub, kill, restart)
        assert not stream.failed, f"requests failed during the outage: {stream.failed}"
        assert len(stream.accepted) == 80
        assert_exactly_once(database, stream.accepted)
        assert REPLAYED in hub.log_file.read_text()  # the recovery that an empty broker needs ran
    finally:
        stop_hub(hub)
        broker.stop()
