"""Cases end to end through the hub process: a referral delivered, its case archived, the person's
own data (Art. 20) with the opened payload; then ``kimhub retention cases --now`` a year and a day
later erases it: the Art. 20 export is empty, the case says erased, the transfer log still answers
Art. 15 (the delivered record under its pseudonym) and records the erasure, and the consent's latest
record on the compacted kim.consent.v1 is a tombstone that names no one."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta

from services.infrastructure import topics
from tests.conftest import audit_env
from tests.e2e.conftest import ROOT, assert_problem, consent_body, referral, wait_for
from tests.integration.test_consent_topic import _raw, _read_to_end


def retention(hub, now: datetime) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")}
    env.update({"KIMHUB_DATABASE_URL": hub.settings.database_url, "KIMHUB_DATA_DIR": str(hub.settings.data_dir),
                **audit_env()})
    return subprocess.run([sys.executable, "-m", "services.cli", "retention", "cases", "--now", now.isoformat()],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def latest_record(hub, key: str):
    """The latest record of ``key`` on the consent topic, as the hub's broker holds it now."""
    records = asyncio.run(_read_to_end(hub.settings, topics.CONSENT))
    return max((r for r in records if r.key == key.encode()), key=lambda r: r.offset, default=None)


def tombstoned(hub, key: str) -> bool:
    latest = latest_record(hub, key)
    return latest is not None and latest.value is None


def test_archive_export_and_erase_after_the_retention_period(hub, cm, dpo):
    consent = cm.post("/consents", json=consent_body()).json()
    person, consent_id = consent["person"], consent["consent_id"]
    sent = cm.post("/transfers", json=referral(person, person={"given_name": "Amina", "family_name": "K."}))
    transfer_id = sent.json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered", timeout=30)

    case = cm.post("/cases", json={"persons": [person]})
    assert case.status_code == 201, case.text
    case_id = case.json()["case_id"]
    assert_problem(dpo.post(f"/cases/{case_id}/erasure"), 409)  # still open
    archived = cm.post(f"/cases/{case_id}/archive").json()
    assert archived["status"] == "archived"
    assert_problem(cm.post(f"/cases/{case_id}/persons", json={"person": person}), 409)

    data = dpo.get(f"/rights/persons/{person}/data").json()
    assert [c["versions"][0]["terms"]["municipality"] for c in data["consents"]] == ["05382068"]
    wait_for(lambda: latest_record(hub, consent_id) is not None, timeout=30)
    assert person.encode() in _raw(latest_record(hub, consent_id))  # the consent event, as published
    [item] = data["transfers"]
    assert item["transfer_id"] == transfer_id and item["payload"]["person"]["given_name"] == "Amina"

    archived_at = datetime.fromisoformat(archived["archived_at"])
    early = retention(hub, archived_at + timedelta(days=364))
    assert early.returncode == 0 and "0 Fälle gelöscht" in early.stdout, early.stdout + early.stderr
    due = retention(hub, archived_at + timedelta(days=366))
    assert due.returncode == 0 and "Fälle gelöscht" in due.stdout and "0 Fälle" not in due.stdout, due.stderr

    assert cm.get(f"/cases/{case_id}").json()["status"] == "erased"
    after = dpo.get(f"/rights/persons/{person}/data").json()
    assert after["consents"] == [] and after["transfers"] == []
    assert_problem(cm.get(f"/transfers/{transfer_id}"), 404)
    report = dpo.get(f"/audit/persons/{person}/report").json()
    assert [t["decision"] for t in report["transfers"]] == ["delivered"]  # the metadata stays, under the pseudonym
    assert [r["event"] for r in report["rights"]] == ["exported", "erased", "exported"]
    erased = report["rights"][1]
    assert erased["case_id"] == case_id and "person_keys" in erased["erased"] and erased["person"].startswith("k-")
    log = dpo.get("/audit/transfers", params={"person": person, "kind": "rights"}).json()
    assert [r["event"] for r in log["records"]] == ["exported", "erased", "exported"]
    # the hub's relay publishes the tombstone the retention run wrote: compaction then drops the consent
    wait_for(lambda: tombstoned(hub, consent_id), timeout=30)
    assert person.encode() not in _raw(latest_record(hub, consent_id))
