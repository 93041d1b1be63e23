"""Where a rewritten record can be, when its leaf hash was rewritten with it (pure, stdlib only).

A record whose leaf hash was rewritten too hashes "correctly" to its stored leaf; only a signed
root shows the change. What the verifier can prove then:

- From the checkpoints: the records reproduce the signed root of size ``lo`` (the largest one
  that matches) and do not reproduce the signed root of size ``hi`` (the next one). So records
  0..lo-1 are as signed and at least one record in lo..hi-1 was changed.
- From the stored subtrees (``kimhub audit export --nodes``): those hashes are not trusted
  (whoever rewrote a leaf hash can rewrite them), but an inclusion proof assembled from them
  that leads a record's recomputed leaf hash to the signed root of size ``hi`` proves that
  record unchanged, whoever supplied the nodes. The changed record lies between the first and
  the last record in lo..hi-1 that no proof vouches for. A record next to the changed one
  fails too (its proof holds the rewritten leaf), so this names a range, never a single record.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from services.audit import merkle


def wanted_nodes(lo: int, hi: int) -> set[merkle.Node]:
    """The stored nodes the inclusion proofs of leaves lo..hi-1 in the tree of size ``hi`` need."""
    return {node for i in range(lo, hi) for group in merkle.inclusion_proof_nodes(i, hi) for node in group}


def read_nodes(lines: Iterable[str], wanted: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The wanted nodes from an export of stored nodes (JSON Lines ``{"level", "index", "hash"}``)."""
    found: dict[merkle.Node, bytes] = {}
    for line in lines:
        try:
            entry = json.loads(line)
            node = (int(entry["level"]), int(entry["index"]))
            if node in wanted:
                found[node] = bytes.fromhex(entry["hash"])
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable line vouches for nothing
    return found


def unproven_range(leaves: list[bytes], lo: int, hi: int, root: bytes,
                   nodes: dict[merkle.Node, bytes]) -> tuple[int, int]:
    """(first, last) record in lo..hi-1 whose recomputed leaf (``leaves[i - lo]``) no inclusion
    proof from ``nodes`` leads to ``root`` (the signed root of size ``hi``)."""
    unproven = [i for i in range(lo, hi) if not _proven(leaves[i - lo], i, hi, root, nodes)]
    if not unproven:  # cannot happen unless SHA-256 collides; fall back to what the checkpoints say
        return lo, hi - 1
    return unproven[0], unproven[-1]


def _proven(leaf: bytes, index: int, size: int, root: bytes, nodes: dict[merkle.Node, bytes]) -> bool:
    groups = merkle.inclusion_proof_nodes(index, size)
    if any(node not in nodes for group in groups for node in group):
        return False
    proof = [merkle.fold([nodes[n] for n in group]) for group in groups]
    return merkle.verify_inclusion(leaf, index, size, proof, root)
