"""Each controller (Kreis or kreisfreie Stadt) sees its own: the DPO of Kreis Mettmann sees nothing of
the Rhein-Sieg-Kreis in the log, its proofs, its export and the Art. 15 report; the admins likewise
for dead letters. The checkpoints are of the one joint log and shared."""
import json
import uuid

import pytest

from services.audit.note_keys import NoteVerifier
from services.audit.verify import verify
from services.directory.model import load_directory
from services.infrastructure import topics
from tests.conftest import ROOT_DIR
from tests.e2e.conftest import assert_problem, consent_body, referral, wait_for
from tests.e2e.test_dead_letters import _publish_poison

METTMANN = "05158024"
DIRECTORY = load_directory(ROOT_DIR / "services/directory/data/directory.demo.yaml")
RSK_OFFICES = DIRECTORY.same_controller("rsk-kim")
ME_OFFICES = DIRECTORY.same_controller("me-kim")


@pytest.fixture(scope="module")
def clients(hub):
    with hub.client("cm.me") as cm_me, hub.client("dpo.me") as dpo_me, hub.client("admin.me") as admin_me, \
            hub.client("admin") as admin_rsk:
        yield cm_me, dpo_me, admin_me, admin_rsk


def _delivered(cm, municipality: str) -> tuple[str, str]:
    person = cm.post("/consents", json=consent_body(municipality)).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person, municipality=municipality)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    return person, transfer_id


def _offices(record: dict) -> set[str]:
    return {record.get(k) for k in ("sender_office", "recipient_office", "office")} - {None}


def test_the_mettmann_dpo_sees_nothing_of_rhein_sieg(hub, cm, dpo, clients):
    cm_me, dpo_me, _admin_me, _admin_rsk = clients
    rsk_person, _ = _delivered(cm, "05382068")
    me_person, _ = _delivered(cm_me, METTMANN)

    for kind in ("transfer", "consent"):
        seen = dpo_me.get("/audit/transfers", params={"kind": kind, "limit": 1000}).json()["records"]
        assert seen and all(_offices(r) & ME_OFFICES for r in seen)
        assert not any(_offices(r) & RSK_OFFICES for r in seen)
        own = dpo.get("/audit/transfers", params={"kind": kind, "limit": 1000}).json()["records"]
        assert own and not any(_offices(r) & ME_OFFICES for r in own)
    assert dpo_me.get("/audit/transfers", params={"person": rsk_person}).json()["total"] == 0
    assert dpo_me.get("/audit/transfers", params={"person": me_person}).json()["total"] == 1
    assert_problem(dpo_me.get("/audit/transfers", params={"office": "troisdorf-abh"}), 403)
    totals = dpo_me.get("/audit/totals").json()["totals"]
    assert totals and not {t["sender_office"] for t in totals} & RSK_OFFICES

    report = dpo_me.get(f"/audit/persons/{rsk_person}/report").json()
    assert report["transfers"] == [] and report["consents"] == []
    assert len(dpo.get(f"/audit/persons/{rsk_person}/report").json()["transfers"]) == 1


def test_proofs_and_export_withhold_the_other_controllers_records(hub, cm, dpo, clients):
    cm_me, dpo_me, _admin_me, _admin_rsk = clients
    rsk_person, _ = _delivered(cm, "05382068")
    _delivered(cm_me, METTMANN)
    rsk_index = dpo.get("/audit/transfers", params={"person": rsk_person}).json()["records"][0]["seq"]
    latest = wait_for(lambda: (r := dpo_me.get("/audit/checkpoints/latest").json())["size"] > rsk_index and r)

    assert_problem(dpo_me.get("/audit/proofs/inclusion", params={"index": rsk_index}), 404)
    assert dpo.get("/audit/proofs/inclusion", params={"index": rsk_index}).status_code == 200

    lines = dpo_me.get("/audit/export", params={"end": latest["size"]}).text.splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries[rsk_index]["record"] is None and entries[rsk_index]["leaf_hash"]
    assert not any(_offices(e["record"]) & RSK_OFFICES for e in entries if e["record"])
    hub_key = NoteVerifier.from_vkey(dpo_me.get("/audit/keys").json()["hub"])
    checked = verify(lines, latest["note"], [hub_key])
    assert checked.ok and 0 < checked.withheld < checked.records, [str(p) for p in checked.problems]


def test_admins_see_and_replay_only_their_controllers_dead_letters(hub, clients, broker_bootstrap):
    _cm_me, _dpo_me, admin_me, admin_rsk = clients
    event_id = f"poison-{uuid.uuid4().hex}"
    _publish_poison(broker_bootstrap, f"p-{uuid.uuid4().hex}", event_id, topics.office_inbox("troisdorf-abh"))

    def letters(client):
        return [i for i in client.get("/admin/dead-letters").json()["items"] if i["event"].get("ce_id") == event_id]

    [item] = wait_for(lambda: letters(admin_rsk))
    assert item["topic"] == topics.office_inbox("troisdorf-abh")
    assert letters(admin_me) == []
    assert_problem(admin_me.post(f"/admin/dead-letters/{item['id']}/replay"), 404)
