"""The DPO verifies the log without trusting the hub: checkpoints, proofs, export, the Art. 15 report."""
import base64

from services.audit import merkle
from services.audit.checkpoint import open_checkpoint
from services.audit.note_keys import NoteSigner, NoteVerifier
from services.audit.record import canonical_json
from services.audit.signed_note import add_signature
from services.audit.verify import verify
from tests.conftest import TEST_DPO_SKEY, TEST_DPO_VKEY
from tests.e2e.conftest import consent_body, referral, wait_for

B64 = base64.b64decode


def _delivered_transfer(hub, cm) -> tuple[str, str]:
    person = cm.post("/consents", json=consent_body()).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    return person, transfer_id


def _hub_key(dpo) -> NoteVerifier:
    return NoteVerifier.from_vkey(dpo.get("/audit/keys").json()["hub"])


def test_access_report_proves_every_entry_against_a_signed_checkpoint(hub, cm, dpo):
    person, transfer_id = _delivered_transfer(hub, cm)
    refused = cm.post("/transfers", json=referral(person, kind="jugendamt", purpose="jugendhilfe"))
    assert refused.status_code == 403

    report = dpo.get(f"/audit/persons/{person}/report").json()
    cp = open_checkpoint(report["checkpoint"]["note"], [_hub_key(dpo)])
    assert cp.size == report["checkpoint"]["size"]
    assert [(t["transfer_id"], t["decision"]) for t in report["transfers"]] == [
        (transfer_id, "delivered"), (refused.json()["transfer_id"], "refused")]
    assert [c["event"] for c in report["consents"]] == ["granted"]
    for entry in report["transfers"] + report["consents"]:
        record = {k: v for k, v in entry.items() if k not in ("index", "leaf_hash", "inclusion_proof")}
        leaf = merkle.leaf_hash(canonical_json(record))
        assert base64.b64encode(leaf).decode() == entry["leaf_hash"]
        assert merkle.verify_inclusion(leaf, entry["index"], cp.size, [B64(h) for h in entry["inclusion_proof"]],
                                       cp.root)
    assert person not in str(report["transfers"])  # the log keeps only the keyed pseudonym

    html = dpo.get(f"/audit/persons/{person}/report", params={"format": "html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "Auskunft nach Art. 15 DSGVO" in html.text and "Ausländerbehörde Stadt Troisdorf" in html.text
    assert "abgelehnt" in html.text


def test_export_verifies_offline_and_consistency_proofs_hold(hub, cm, dpo):
    _delivered_transfer(hub, cm)
    first = wait_for(lambda: (r := dpo.get("/audit/checkpoints/latest")).status_code == 200 and r.json())
    _delivered_transfer(hub, cm)
    second = wait_for(lambda: (r := dpo.get("/audit/checkpoints/latest").json())["size"] > first["size"] and r)

    lines = dpo.get("/audit/export").text.splitlines()
    report = verify(lines, second["note"], [_hub_key(dpo)], previous_notes=[first["note"]])
    assert report.ok, [str(p) for p in report.problems]

    proof = dpo.get("/audit/proofs/consistency", params={"old": first["size"], "new": second["size"]}).json()
    assert merkle.verify_consistency(first["size"], second["size"], B64(first["root_hash"]),
                                     B64(second["root_hash"]), [B64(h) for h in proof["proof"]])
    one = dpo.get("/audit/proofs/inclusion", params={"index": 0, "size": second["size"]}).json()
    assert merkle.verify_inclusion(B64(one["leaf_hash"]), 0, second["size"], [B64(h) for h in one["proof"]],
                                   B64(second["root_hash"]))


def test_dpo_cosigns_a_checkpoint(hub, cm, dpo):
    _delivered_transfer(hub, cm)
    latest = wait_for(lambda: (r := dpo.get("/audit/checkpoints/latest")).status_code == 200 and r.json())
    cosigned = add_signature(latest["note"], NoteSigner.from_skey(TEST_DPO_SKEY))
    stored = dpo.post(f"/audit/checkpoints/{latest['size']}/cosignatures", json={"note": cosigned})
    assert stored.status_code == 201, stored.text
    again = dpo.get(f"/audit/checkpoints/{latest['size']}").json()
    open_checkpoint(again["note"], [_hub_key(dpo), NoteVerifier.from_vkey(TEST_DPO_VKEY)], require_all=True)
    forged = latest["note"] + "\u2014 dsb-rhein-sieg 8EhgGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    bad = dpo.post(f"/audit/checkpoints/{latest['size']}/cosignatures", json={"note": forged})
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_totals_per_office_and_decision(hub, cm, dpo):
    _delivered_transfer(hub, cm)
    totals = dpo.get("/audit/totals", params={"office": "troisdorf-abh"}).json()["totals"]
    delivered = [t for t in totals if t["recipient_office"] == "troisdorf-abh" and t["decision"] == "delivered"]
    assert delivered and delivered[0]["count"] >= 1 and delivered[0]["sender_office"] == "rsk-kim"
