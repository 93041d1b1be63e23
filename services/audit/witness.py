"""A witness: cosigns a checkpoint of the hub's log only if it extends the last one it cosigned (pure).

A signature of the hub says "this is my log"; it does not say "this is the same log I showed you
yesterday". A hub (or whoever holds its key) could show different offices different trees (a fork)
or roll the log back. A witness, run by an office or the DPO, keeps the size and root it cosigned
last in a file of its own and cosigns a new checkpoint only if an RFC 9162 consistency proof shows
that the new tree is an append-only extension of that one (c2sp.org/tlog-witness does the same).
Anyone who then requires the witness's cosignature sees only checkpoints of one linear history.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from services.audit import merkle
from services.audit.checkpoint import Checkpoint, open_checkpoint
from services.audit.note_keys import NoteError, NoteSigner, NoteVerifier
from services.audit.signed_note import add_signature


class Refused(Exception):
    """The witness does not cosign: the reason says why (a fork, a rollback, a bad signature)."""


@dataclass(frozen=True)
class WitnessState:
    """The last checkpoint this witness cosigned."""

    origin: str
    size: int
    root: bytes

    @classmethod
    def load(cls, path: Path) -> WitnessState | None:
        """The state kept in ``path``; None if the witness has not cosigned anything yet."""
        if not path.exists():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["origin"], int(data["size"]), bytes.fromhex(data["root"]))

    def save(self, path: Path) -> None:
        """Written aside and renamed into place: a crash leaves the old state or the new, never half."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"origin": self.origin, "size": self.size, "root": self.root.hex()}) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)


def check(note: str, hub: list[NoteVerifier], last: WitnessState | None, proof: list[bytes]) -> Checkpoint:
    """The checkpoint in ``note`` if the hub signed it and it extends ``last``; raises Refused otherwise.

    ``proof`` is the consistency proof from ``last.size`` to the new size (empty if there is no ``last``:
    the first checkpoint is trusted on first use).
    """
    try:
        cp = open_checkpoint(note, hub, origin=last.origin if last else None)
    except NoteError as exc:
        raise Refused(f"checkpoint not verified: {exc}") from None
    if last is None:
        return cp
    if cp.size < last.size:
        raise Refused(f"rolled back: size {cp.size} is smaller than the size {last.size} cosigned before")
    if cp.size == last.size and cp.root != last.root:
        raise Refused(f"forked: another root for the size {cp.size} cosigned before")
    if not merkle.verify_consistency(last.size, cp.size, last.root, cp.root, proof):
        raise Refused(f"forked: the tree of size {cp.size} does not extend the one of size {last.size} "
                      f"cosigned before (the consistency proof fails)")
    return cp


def cosign(note: str, hub: list[NoteVerifier], last: WitnessState | None, proof: list[bytes],
           signer: NoteSigner) -> tuple[str, WitnessState]:
    """The note with the witness's signature added, and the state to keep; raises Refused."""
    cp = check(note, hub, last, proof)
    try:
        cosigned = add_signature(note, signer)
    except NoteError as exc:  # e.g. signed by this witness already
        raise Refused(f"not cosigned: {exc}") from None
    return cosigned, WitnessState(cp.origin, cp.size, cp.root)
