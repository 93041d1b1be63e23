"""The hub on Apache Kafka runs with the production producer settings: an idempotent producer (which
Kafka only accepts with acks=all) writes both hops of a transfer. Read from the broker's side, with
Kafka's own ``kafka-transactions describe-producers``: a producer without idempotence has no id."""
import time

from aiokafka.admin import AIOKafkaAdminClient

from services.infrastructure import topics
from tests.e2e.conftest import consent_body, referral, wait_for
from tests.support.apache_kafka import producers_of


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return [p["partition"] for p in described["partitions"]]
    finally:
        await admin.close()


async def test_both_hops_of_a_transfer_are_written_by_an_idempotent_producer(hub, cm, broker_bootstrap):
    started_ms = int(time.time() * 1000) - 1000  # the broker's clock is this machine's
    person = cm.post("/consents", json=consent_body()).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    for topic in (topics.TRANSFER_REQUESTED, topics.office_inbox("troisdorf-abh")):
        writes = [last for p in await _partitions(broker_bootstrap, topic)
                  for last in producers_of(broker_bootstrap, topic, p).values()]
        assert any(last >= started_ms for last in writes), f"{topic}: no idempotent producer wrote this transfer"
