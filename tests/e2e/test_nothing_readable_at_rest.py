"""What the consent does not cover never leaves the request, and nothing the hub carries is readable
on the broker or in the database: after a delivered, a refused, a withheld and a dead-lettered
transfer, no topic and no column holds a name, the health note or the document's bytes; only the
recipient office's read path shows them.

Production-shaped like test_revocation_before_delivery: the gateway alone first, then the workers;
own database and broker.
"""
import hashlib
import json
import uuid


from services.infrastructure import topics
from tests.e2e.conftest import consent_body, referral, start_hub, stop_hub, wait_for
from tests.support.raw_store import everything

ALL = ["stammdaten", "falldaten", "dokumente"]


def _secret_referral(person: str, marks: dict, document: dict | None = None, **kwargs) -> dict:
    body = referral(person, person={"given_name": marks["given"], "family_name": marks["family"]},
                    health_notes=marks["health"], case_notes=marks["notes"], **kwargs)
    if document:
        body["payload"]["documents"] = [document]
    return body


def test_no_topic_and_no_table_holds_what_the_hub_carries(isolated, tmp_path):
    tag = uuid.uuid4().hex[:10]
    marks = {"given": f"Amina{tag}", "family": f"Beispiel{tag}", "health": f"Diabetes{tag}", "notes": f"Verlauf{tag}"}
    pdf = b"%PDF-1.7 " + f"Reisepass {tag}".encode() + b" scan"
    provisions = [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"], "categories": ALL}]
    gateway = start_hub(isolated, tmp_path / "gateway", args=("serve", "gateway"))
    workers = None
    try:
        with gateway.client("cm.rsk") as cm:
            delivered = cm.post("/consents", json=consent_body(provisions=provisions)).json()
            withheld = cm.post("/consents", json=consent_body(provisions=provisions)).json()
            doc = cm.post("/documents", params={"person": delivered["person"], "title": "Reisepass"}, content=pdf,
                          headers={"Content-Type": "application/pdf"})
            assert doc.status_code == 201, doc.text
            ref = {"title": "Reisepass", "media_type": "application/pdf", "sha256": hashlib.sha256(pdf).hexdigest()}
            t_delivered = cm.post("/transfers", json=_secret_referral(delivered["person"], marks, ref)).json()
            t_withheld = cm.post("/transfers", json=_secret_referral(withheld["person"], marks)).json()
            refused = cm.post("/transfers", json=_secret_referral(delivered["person"], marks, kind="jobcenter",
                                                                  purpose="arbeitsmarktintegration"))
            assert refused.status_code == 403, refused.text
            assert cm.post(f"/consents/{withheld['consent_id']}/revocation",
                           json={"method": "schriftlich"}).status_code == 200

            workers = start_hub(isolated, tmp_path / "workers", args=("serve", "relay", "gate", "delivery"))
            wait_for(lambda: cm.get(f"/transfers/{t_delivered['transfer_id']}").json()["status"] == "delivered",
                     timeout=60)
            wait_for(lambda: cm.get(f"/transfers/{t_withheld['transfer_id']}").json()["status"] == "withheld")
        forged = _tamper_a_delivery(isolated["KIMHUB_KAFKA_BOOTSTRAP"])
        with gateway.client("admin") as admin:
            [dead] = wait_for(lambda: [i for i in admin.get("/admin/dead-letters").json()["items"]
                                       if i["event"].get("ce_id") == forged])
            assert "signature" in dead["reason"]
        with gateway.client("cm.rsk") as cm:  # a changed copy of a stored delivery changes nothing
            assert cm.get(f"/transfers/{t_delivered['transfer_id']}").json()["status"] == "delivered"
        with gateway.client("clerk.troisdorf-abh") as clerk:
            item = clerk.get(f"/inbox/{t_delivered['transfer_id']}").json()
            assert item["payload"]["person"] == {"given_name": marks["given"], "family_name": marks["family"]}
            assert "health_notes" not in item["payload"]  # not covered: removed at request time
            got = clerk.get(f"/inbox/{t_delivered['transfer_id']}/documents/{ref['sha256']}")
            assert got.status_code == 200 and got.content == pdf

        stored = everything(isolated["KIMHUB_KAFKA_BOOTSTRAP"], isolated["KIMHUB_DATABASE_URL"])
        assert f"topic:{topics.office_inbox('troisdorf-abh')}" in stored and "table:inbox_items" in stored
        secrets = [m.encode() for m in marks.values()] + [pdf, f"Reisepass {tag}".encode()]
        leaks = {(where, s.decode(errors="replace")[:20]) for where, raw in stored.items() for s in secrets if s in raw}
        assert leaks == set()
        logs = b"".join((tmp_path / d / "hub.log").read_bytes() for d in ("gateway", "workers"))
        assert [s for s in secrets if s in logs] == []
    finally:
        if workers:
            stop_hub(workers)
        stop_hub(gateway)


def _tamper_a_delivery(bootstrap: str) -> str:
    """Publish a copy of a delivery with a field changed (the signature no longer matches); returns
    its event id."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    async def run() -> str:
        topic = topics.office_inbox("troisdorf-abh")
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    enable_auto_commit=False)
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), 30)
        finally:
            await consumer.stop()
        body = json.loads(record.value)
        body["consent_version"] = 99  # the signature covers it
        event_id = f"{body['transfer_id']}/delivery-changed"
        headers = [(k, event_id.encode() if k == "ce_id" else v) for k, v in record.headers]
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, json.dumps(body).encode(), key=record.key, headers=headers)
        finally:
            await producer.stop()
        return event_id

    return asyncio.run(run())
