"""``kimhub audit witness``: a witness of its own, run by an office or the DPO, polling the hub.

Each round: the hub's latest checkpoint, the consistency proof from the last size this witness
cosigned, the check (``witness.py``), the state saved, then the cosignature posted. The state is
saved *before* posting, so a failed post never lets the witness sign a different tree of that size
later. Needs a bearer token of a user allowed to read checkpoints and post cosignatures, and the
witness key listed in the hub's ``KIMHUB_LOG_COSIGNER_KEYS``.
"""
from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.audit.note_keys import NoteSigner, NoteVerifier
from services.audit.witness import Refused, WitnessState, cosign

log = logging.getLogger("kimhub.witness")


@dataclass
class Witness:
    hub: httpx.Client  # base_url = the hub, with the bearer token
    hub_keys: list[NoteVerifier]
    signer: NoteSigner
    state_file: Path

    def round(self) -> str:
        """One poll: 'cosigned N', 'unchanged N' or 'nothing yet'; raises Refused on a fork or rollback."""
        latest = self.hub.get("/audit/checkpoints/latest")
        if latest.status_code == 404:
            return "nothing yet"
        latest.raise_for_status()
        cp = latest.json()
        last = WitnessState.load(self.state_file)
        if last is not None and cp["size"] == last.size and base64.b64decode(cp["root_hash"]) == last.root \
                and f"\u2014 {self.signer.name} " in cp["note"]:
            return f"unchanged {last.size}"
        cosigned, state = cosign(cp["note"], self.hub_keys, last, self._proof(last, cp["size"]), self.signer)
        state.save(self.state_file)
        posted = self.hub.post(f"/audit/checkpoints/{state.size}/cosignatures", json={"note": cosigned})
        if posted.status_code not in (201, 409):  # 409: the hub holds this cosignature already
            raise RuntimeError(f"the hub did not take the cosignature: HTTP {posted.status_code}")
        return f"cosigned {state.size}"

    def _proof(self, last: WitnessState | None, size: int) -> list[bytes]:
        if last is None or last.size == 0 or last.size >= size:
            return []
        response = self.hub.get("/audit/proofs/consistency", params={"old": last.size, "new": size})
        if response.status_code == 404:  # no signed checkpoint of our size there: a fork or a rollback
            raise Refused(f"the hub has no signed checkpoint of the size {last.size} cosigned before")
        response.raise_for_status()
        return [base64.b64decode(h) for h in response.json()["proof"]]


def run(witness: Witness, interval: float, once: bool) -> int:
    """Poll until stopped; 2 on a refusal (a fork or rollback: stop and tell someone), 1 on --once errors."""
    while True:
        try:
            outcome = witness.round()
            log.info("witness: %s", outcome)
            print(outcome, flush=True)
        except Refused as exc:
            log.error("witness refuses to cosign: %s", exc)
            print(f"REFUSED: {exc}", flush=True)
            return 2
        except (httpx.HTTPError, RuntimeError) as exc:
            log.warning("witness round failed: %s", exc)
            if once:
                print(f"FAILED: {exc}", flush=True)
                return 1
        if once:
            return 0
        time.sleep(interval)
