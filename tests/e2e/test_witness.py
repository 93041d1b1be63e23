"""`kimhub audit witness`, run by an office against the running hub: it cosigns checkpoints that extend
the last one it cosigned, and refuses (exit 2) when its state shows another history."""
import json
import subprocess
import sys

from services.audit.note_keys import NoteVerifier
from tests.conftest import ROOT_DIR, TEST_DPO_SKEY, TEST_DPO_VKEY
from tests.e2e.conftest import consent_body, referral, wait_for


def _witness(hub, tmp_path, hub_key: str) -> subprocess.CompletedProcess:
    (tmp_path / "token").write_text(hub.token("clerk.troisdorf-abh"))  # an office runs it, not the DPO
    (tmp_path / "witness.skey").write_text(TEST_DPO_SKEY)
    args = [sys.executable, "-m", "services.cli", "audit", "witness", "--hub", hub.base_url,
            "--token-file", str(tmp_path / "token"), "--key", hub_key, "--skey-file", str(tmp_path / "witness.skey"),
            "--state", str(tmp_path / "state.json"), "--once"]
    return subprocess.run(args, cwd=ROOT_DIR, capture_output=True, text=True, timeout=60)


def _grow(cm, dpo, size: int) -> int:
    person = cm.post("/consents", json=consent_body()).json()["person"]
    cm.post("/transfers", json=referral(person))
    return wait_for(lambda: (n := dpo.get("/audit/checkpoints/latest").json().get("size", 0)) > size and n)


def test_the_witness_cosigns_what_extends_its_history_and_refuses_a_fork(hub, cm, dpo, tmp_path):
    hub_key = dpo.get("/audit/keys").json()["hub"]
    size = _grow(cm, dpo, 0)
    first = _witness(hub, tmp_path, hub_key)
    assert first.returncode == 0 and first.stdout.startswith(("cosigned", "unchanged")), first.stdout + first.stderr
    cosigned_size = json.loads((tmp_path / "state.json").read_text())["size"]
    assert cosigned_size >= size

    later = _grow(cm, dpo, cosigned_size)
    second = _witness(hub, tmp_path, hub_key)
    assert second.returncode == 0 and second.stdout.startswith("cosigned"), second.stdout + second.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["size"] >= later
    note = dpo.get(f"/audit/checkpoints/{state['size']}").json()["note"]
    assert NoteVerifier.from_vkey(TEST_DPO_VKEY).name in note

    (tmp_path / "state.json").write_text(json.dumps(state | {"root": "00" * 32}))  # it once saw another tree
    refused = _witness(hub, tmp_path, hub_key)
    assert refused.returncode == 2 and "REFUSED: forked" in refused.stdout, refused.stdout + refused.stderr
