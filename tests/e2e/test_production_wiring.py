"""The hub wired as in production: every component its own process and its own Kafka principal on a
broker with SASL/SCRAM and ACLs (``kimhub kafka acls --apply``), connected to PostgreSQL as the
runtime role ``kimhub_app`` (``deploy/postgres/app-role.sql`` and ``app-role-login.sql``, applied
with psql as the compose file does), after the migrations ran as the owner. One walk through
every table: no server error, no permission or authorisation error in any component's log."""
from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from contracts.envelope import Envelope
from services import kafka_acls
from services.audit.note_keys import NoteSigner
from services.audit.signed_note import add_signature
from services.directory.model import load_directory
from services.infrastructure import topics
from services.infrastructure.messaging import make_broker
from services.kernel.settings import Settings
from tests.conftest import TEST_DPO_SKEY, create_database, drop_database, free_port
from tests.e2e.conftest import ROOT, consent_body, referral, start_hub, stop_hub, wait_for
from tests.e2e.test_prechecked_cases import ALL_PRESENT, FACTS, PDF, naturalisation_consent
from tests.e2e.test_prechecked_cases import referral as prechecked_referral
from tests.integration.test_kafka_acls import as_principal, sasl_env
from tests.support.sasl_kafka import SaslApacheKafka

COMPONENTS = ("gateway", "gate", "delivery", "relay", "audit")
USERS = {"admin": "admin-secret", **{f"kimhub-{c}": f"{c}-{secrets.token_hex(4)}" for c in COMPONENTS}}
LOG_ERRORS = ("permission denied", "AuthorizationFailed", "Traceback")


def _psql_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _as_app_role(owner_url: str, tmp_path: Path) -> str:
    """Migrate as the owner, apply the role's grants and password with psql; the role's URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")}
    migrated = subprocess.run([sys.executable, "-m", "services.cli", "migrate"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120,
                              env={**env, "KIMHUB_DATABASE_URL": owner_url, "KIMHUB_DATA_DIR": str(tmp_path)})
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    psql = shutil.which("psql")
    assert psql, "psql (Debian's postgresql-client) is needed to apply deploy/postgres/*.sql as the compose file does"
    password = secrets.token_urlsafe(12)
    sql = ROOT / "deploy" / "postgres"
    done = subprocess.run([psql, "-v", "ON_ERROR_STOP=1", "-q", "-d", _psql_dsn(owner_url),
                           "-f", str(sql / "app-role.sql"), "-f", str(sql / "app-role-login.sql")],
                          env={**env, "APP_DB_PASSWORD": password}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    app = make_url(owner_url).set(username="kimhub_app", password=password)
    return app.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def wired(tmp_path_factory):
    """The five components on a SASL broker with ACLs and on PostgreSQL as kimhub_app."""
    tmp = tmp_path_factory.mktemp("wired")
    broker = SaslApacheKafka(tmp / "kafka", users=USERS)
    broker.start()
    directory = load_directory(Settings().directory_file)
    asyncio.run(kafka_acls.apply(as_principal(broker.bootstrap, "admin", USERS["admin"]), kafka_acls.plan(directory),
                                 topics.all_topics(sorted(directory.offices))))
    owner_url = create_database()
    base = {"KIMHUB_DATABASE_URL": _as_app_role(owner_url, tmp), "KIMHUB_MIGRATE_ON_START": "false"}
    hubs, health_ports = [], {c: free_port() for c in COMPONENTS}
    try:
        for component in COMPONENTS:
            env = {**base, **sasl_env(broker.bootstrap, f"kimhub-{component}", USERS[f"kimhub-{component}"]),
                   "KIMHUB_HEALTH_PORT": str(health_ports[component])}
            hubs.append(start_hub(env, tmp / component, args=("serve", component)))
        for hub in hubs[1:]:
            _wait_running(hub)
        yield hubs[0], broker, hubs, health_ports
    finally:
        for hub in hubs:
            stop_hub(hub)
        broker.stop()
        drop_database(owner_url)


def _wait_running(hub, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while "running" not in hub.log_file.read_text(errors="replace"):
        if hub.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"component did not start:\n{hub.log_tail()}", pytrace=False)
        time.sleep(0.2)


def _client(gateway, user: str, seen: list):
    client = gateway.client(user)
    client.event_hooks["response"].append(lambda r: seen.append((r.request.method, r.request.url.path, r.status_code)))
    return client


def _referral_received(gateway, seen: list) -> str:
    """README walk-through: consent, delivered transfer, receipt, refusal; returns the person."""
    with _client(gateway, "cm.rsk", seen) as cm, _client(gateway, "clerk.troisdorf-abh", seen) as clerk:
        person = cm.post("/consents", json=consent_body()).json()["person"]
        transfer = cm.post("/transfers", json=referral(person, health_notes="nicht übermittelt")).json()["transfer_id"]
        wait_for(lambda: [i["transfer_id"] for i in clerk.get("/inbox").json()["items"]] == [transfer], timeout=60)
        assert clerk.post(f"/inbox/{transfer}/receipt").status_code == 200
        wait_for(lambda: cm.get(f"/transfers/{transfer}").json()["status"] == "received", timeout=60)
        refused = cm.post("/transfers", json=referral(person, kind="jobcenter", purpose="arbeitsmarktintegration"))
        assert refused.status_code == 403, refused.text
    return person


def _prechecked_referral(gateway, seen: list) -> None:
    """Checklists, a document, a pre-check and a pre-checked referral the office opens."""
    with _client(gateway, "cm.rsk", seen) as cm, _client(gateway, "clerk.troisdorf-ebh", seen) as ebh:
        assert cm.get("/checklists").status_code == 200
        person = cm.post("/consents", json=naturalisation_consent()).json()["person"]
        doc = cm.post("/documents", params={"person": person, "title": "Reisepass"}, content=PDF,
                      headers={"Content-Type": "application/pdf"})
        assert doc.status_code == 201, doc.text
        items = {**ALL_PRESENT, "pass": {"status": "verified", "documents": [doc.json()["document_id"]]}}
        pc = cm.post("/prechecks", json={"person": person, "procedure": "einbuergerung-stag-10", "facts": FACTS,
                                         "items": items})
        assert pc.status_code == 201, pc.text
        assert cm.get(f"/prechecks/{pc.json()['precheck_id']}").status_code == 200
        sent = cm.post("/transfers", json=prechecked_referral(person, pc.json()["precheck_id"]))
        assert sent.status_code == 202, sent.text
        item = wait_for(lambda: (r := ebh.get(f"/inbox/{sent.json()['transfer_id']}")).status_code == 200 and r.json(),
                        timeout=60)
        [document] = item["payload"]["documents"]
        assert ebh.get(f"/inbox/{item['transfer_id']}/documents/{document['sha256']}").content == PDF


def _poison_dead_lettered_and_replayed(gateway, broker, seen: list) -> None:
    """A message the gate cannot read goes to its dead letters; the admin replays it."""
    event_id = f"poison-{secrets.token_hex(8)}"
    asyncio.run(_publish_poison(as_principal(broker.bootstrap, "admin", USERS["admin"]), event_id))
    with _client(gateway, "admin", seen) as admin:
        def poisoned():
            return [i for i in admin.get("/admin/dead-letters").json()["items"] if i["event"].get("ce_id") == event_id]

        [item] = wait_for(poisoned, timeout=60)
        assert admin.post(f"/admin/dead-letters/{item['id']}/replay").status_code == 200
        # Replayed through the relay, so dead-lettered again: a new dead letter of the same event.
        wait_for(lambda: [i for i in poisoned() if i["id"] != item["id"]], timeout=60)


async def _publish_poison(settings: Settings, event_id: str) -> None:
    person = f"p-{'0' * 32}"
    env = Envelope(id=event_id, source="urn:kimhub:test", type="de.nrw.kim.transfer.requested.v2", subject=person,
                   time=datetime.now(timezone.utc), dataschema="urn:kimhub:schema:transfer-requested.v2.json")
    broker = make_broker(settings)
    await broker.connect()
    try:
        await broker.publish(b'{"transfer_id": 42}', topics.TRANSFER_REQUESTED, key=person.encode(),
                             headers=env.to_headers())
    finally:
        await broker.stop()


def _checkpoint_cosigned(gateway, person: str, seen: list) -> None:
    with _client(gateway, "dpo", seen) as dpo:
        assert dpo.get("/audit/transfers", params={"person": person}).json()["total"] == 3  # with the receipt
        latest = wait_for(lambda: (r := dpo.get("/audit/checkpoints/latest")).status_code == 200 and r.json(),
                          timeout=60)
        cosigned = add_signature(latest["note"], NoteSigner.from_skey(TEST_DPO_SKEY))
        stored = dpo.post(f"/audit/checkpoints/{latest['size']}/cosignatures", json={"note": cosigned})
        assert stored.status_code == 201, stored.text


def test_every_table_works_for_the_app_role_and_every_component_with_its_own_principal(wired):
    gateway, broker, hubs, health_ports = wired
    seen: list[tuple[str, str, int]] = []
    person = _referral_received(gateway, seen)
    _prechecked_referral(gateway, seen)
    _poison_dead_lettered_and_replayed(gateway, broker, seen)
    _checkpoint_cosigned(gateway, person, seen)
    assert not [s for s in seen if s[2] >= 500], [s for s in seen if s[2] >= 500]
    for component, hub in zip(COMPONENTS, hubs):
        if component != "gateway":  # the workers' health port, as the Kubernetes probes use it
            port = health_ports[component]
            assert httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5).json()["status"] == "ready"
        log = hub.log_file.read_text(errors="replace")
        found = [e for e in LOG_ERRORS if e in log]
        assert not found, f"{component}: {found}\n{hub.log_tail(60)}"
