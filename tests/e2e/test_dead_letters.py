"""A poison message is dead-lettered (topic and admin API), never blocks its partition, and can be replayed."""
import asyncio
import uuid
from datetime import datetime, timezone

from faststream.kafka import KafkaBroker

from contracts.envelope import Envelope
from services.infrastructure import topics
from tests.e2e.conftest import consent_body, referral, wait_for


def _publish_poison(bootstrap: str, person: str, event_id: str, topic: str = topics.TRANSFER_REQUESTED) -> None:
    env = Envelope(id=event_id, source="urn:kimhub:test", type="de.nrw.kim.transfer.requested.v2", subject=person,
                   time=datetime.now(timezone.utc), dataschema="urn:kimhub:schema:transfer-requested.v2.json")

    async def send():
        broker = KafkaBroker(bootstrap, enable_idempotence=False)
        await broker.connect()
        try:
            await broker.publish(b'{"transfer_id": 42}', topic, key=person.encode(),
                                 headers=env.to_headers())
        finally:
            await broker.stop()

    asyncio.run(send())


def test_poison_message_is_dead_lettered_and_replayable(hub, cm, broker_bootstrap):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    event_id = f"poison-{uuid.uuid4().hex}"
    _publish_poison(broker_bootstrap, person, event_id)

    # The same person's next transfer (same key, same partition) is not blocked by the poison.
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")

    with hub.client("admin") as admin:
        def poisoned():
            items = admin.get("/admin/dead-letters").json()["items"]
            return [i for i in items if i["event"].get("ce_id") == event_id]

        [item] = wait_for(poisoned)
        assert item["consumer"] == "gate" and item["topic"] == topics.TRANSFER_REQUESTED
        assert "transfer_id" in item["reason"] and "42" not in item["reason"]  # names the field, not the value
        assert "value" not in item and "payload" not in item  # admins see metadata only

        replayed = admin.post(f"/admin/dead-letters/{item['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        again = admin.post(f"/admin/dead-letters/{item['id']}/replay")
        assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
        # Still invalid, so it comes back as a new dead letter: replay went through the broker again.
        wait_for(lambda: len([i for i in admin.get("/admin/dead-letters").json()["items"]
                              if i["event"].get("ce_id") == event_id]) == 1 and
                 any(i["id"] != item["id"] for i in poisoned()))

    with hub.client("cm.rsk") as other_role:
        assert other_role.get("/admin/dead-letters").status_code == 403
