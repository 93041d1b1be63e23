"""The broker is killed (SIGKILL) during a stream of transfers and started again, empty.

The hub recreates the topics and publishes again what the lost broker may not have delivered;
consumers drop repeats. Nothing is lost, nothing is delivered twice.
"""
import asyncio
import signal
import time

from services.shared.embedded_broker import EmbeddedBroker
from tests.e2e.conftest import start_hub, stop_hub, wait_for
from tests.faults.conftest import Stream, assert_exactly_once, consenting_persons


def test_broker_killed_and_restarted_empty_mid_stream(broker, database, tmp_path):
    hub = start_hub({"KIMHUB_DATABASE_URL": database, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap}, tmp_path / "hub")
    try:
        with hub.client("cm.rsk") as cm:
            stream = Stream(cm, consenting_persons(cm, 4), count=80, rate=20)
            thread = stream.start()
            time.sleep(1.5)
            broker.process.send_signal(signal.SIGKILL)
            broker.process.wait(5)
            with hub.client() as anonymous:  # readiness reflects the broker
                wait_for(lambda: anonymous.get("/health/ready").json()["broker"] is False, timeout=10)
            time.sleep(1)
            restarted = EmbeddedBroker(broker.port)
            asyncio.run(restarted.start())
            broker.process = restarted.process  # the fixture stops it
            thread.join(60)
            with hub.client() as anonymous:
                wait_for(lambda: anonymous.get("/health/ready").status_code == 200, timeout=30)
        assert not stream.failed, f"requests failed during the outage: {stream.failed}"
        assert len(stream.accepted) == 80
        assert_exactly_once(database, stream.accepted)
    finally:
        stop_hub(hub)
