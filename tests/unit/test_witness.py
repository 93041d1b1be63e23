"""A witness cosigns a checkpoint only if it extends the last one it cosigned: a fork or a rollback is
refused, and its state moves only when it signs."""
import base64
import json
import subprocess
import sys

import pytest

from services.audit import merkle
from services.audit.checkpoint import Checkpoint, sign_checkpoint
from services.audit.note_keys import NoteSigner
from services.audit.signed_note import open_note
from services.audit.witness import Refused, WitnessState, cosign
from tests.conftest import ROOT_DIR

HUB = NoteSigner.generate("hub.kimhub.example")
WITNESS = NoteSigner.generate("witness.office.example")
ORIGIN = "kimhub-test/transfer-log"


class Tree:
    """A log of ``prefix``-tagged leaves: its signed checkpoints and consistency proofs."""

    def __init__(self, n: int, prefix: str = "r"):
        self.nodes: dict[merkle.Node, bytes] = {}
        self.range = merkle.CompactRange()
        self.roots: dict[int, bytes] = {}
        self.grow(n, prefix)

    def grow(self, n: int, prefix: str = "r") -> "Tree":
        for _ in range(n):
            for level, index, h in self.range.append(merkle.leaf_hash(f"{prefix}{self.range.size}".encode())):
                self.nodes[(level, index)] = h
            self.roots[self.range.size] = self.range.root()
        return self

    def note(self, size: int | None = None) -> str:
        size = size or self.range.size
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.roots[size]), HUB)

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        return merkle.consistency_proof(old, new or self.range.size, lambda _c: self.nodes)


def test_first_checkpoint_is_trusted_then_only_extensions_are_cosigned():
    tree = Tree(5)
    cosigned, state = cosign(tree.note(), [HUB.verifier()], None, [], WITNESS)
    assert open_note(cosigned, [HUB.verifier(), WITNESS.verifier()], require_all=True)
    assert (state.size, state.root) == (5, tree.roots[5])
    tree.grow(8)
    _, later = cosign(tree.note(), [HUB.verifier()], state, tree.proof(5), WITNESS)
    assert later.size == 13
    _, same = cosign(tree.note(), [HUB.verifier()], later, [], WITNESS)  # the same checkpoint again
    assert same == later


def test_a_fork_is_refused():
    honest, forked = Tree(5), Tree(5, prefix="forged").grow(3)  # another history of 5 records, grown
    _, state = cosign(honest.note(), [HUB.verifier()], None, [], WITNESS)
    with pytest.raises(Refused, match="forked"):
        cosign(forked.note(), [HUB.verifier()], state, forked.proof(5), WITNESS)
    with pytest.raises(Refused, match="forked"):  # the honest proof does not help the forked root either
        cosign(forked.note(), [HUB.verifier()], state, honest.grow(3).proof(5), WITNESS)
    other = Tree(5, prefix="other")
    with pytest.raises(Refused, match="forked: another root"):
        cosign(other.note(), [HUB.verifier()], state, [], WITNESS)


def test_a_rollback_and_a_foreign_signature_are_refused():
    tree = Tree(9)
    _, state = cosign(tree.note(), [HUB.verifier()], None, [], WITNESS)
    with pytest.raises(Refused, match="rolled back"):
        cosign(tree.note(4), [HUB.verifier()], state, [], WITNESS)
    impostor = sign_checkpoint(Checkpoint(ORIGIN, 12, b"\x01" * 32), NoteSigner.generate("hub.kimhub.example"))
    with pytest.raises(Refused, match="not verified"):
        cosign(impostor, [HUB.verifier()], state, [], WITNESS)


def test_the_cosign_command_keeps_its_state_and_refuses_a_fork(tmp_path):
    tree, forked = Tree(4), Tree(4, prefix="forged").grow(2)
    state, skey = tmp_path / "state.json", tmp_path / "witness.skey"
    skey.write_text(WITNESS.skey)

    def run(note: str, proof: list[bytes] | None = None) -> subprocess.CompletedProcess:
        (tmp_path / "cp.txt").write_text(note)
        args = [sys.executable, "-m", "services.cli", "audit", "cosign", "--skey-file", str(skey),
                "--key", HUB.vkey, "--state", str(state), str(tmp_path / "cp.txt")]
        if proof is not None:
            (tmp_path / "proof.json").write_text(json.dumps({"proof": [base64.b64encode(h).decode()
                                                                       for h in proof]}))
            args += ["--proof", str(tmp_path / "proof.json")]
        return subprocess.run(args, cwd=ROOT_DIR, capture_output=True, text=True, timeout=60)

    assert run(tree.note()).returncode == 0 and WitnessState.load(state).size == 4
    refused = run(forked.note(), forked.proof(4))
    assert refused.returncode == 1 and "forked" in refused.stderr and WitnessState.load(state).size == 4
    tree.grow(2)
    accepted = run(tree.note(), tree.proof(4))
    assert accepted.returncode == 0, accepted.stderr
    assert f"\u2014 {WITNESS.name} " in accepted.stdout and WitnessState.load(state).size == 6
