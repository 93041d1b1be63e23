"""Merkle tree primitives of RFC 9162 (Certificate Transparency 2.0), stdlib only.

The hashing is that of RFC 9162 §2.1.1 (identical to RFC 6962 §2.1) with SHA-256:

    MTH({})      = SHA-256()                        -> EMPTY_ROOT
    MTH({d(0)})  = SHA-256(0x00 || d(0))            -> leaf_hash
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   -> node_hash
                   where k is the largest power of two smaller than n.

Storage model: the log keeps the hash of every *perfect* subtree, addressed as a node
``(level, index)``: node (0, i) is the leaf hash of leaf i and node (L, i) covers the leaves
[i * 2**L, (i + 1) * 2**L). A node exists once all of its leaves exist and never changes
afterwards, so nodes can be written once, append-only. ``CompactRange.append`` yields exactly
the nodes that become complete with each new leaf.

Every hash a proof needs is the MTH of a sub-range that the RFC recursion produces. Such a
range [a, b) always starts at a multiple of the power of two covering its width, so its MTH
is the right-to-left ``node_hash`` fold of its decomposition into maximal aligned perfect
subtrees (``perfect_nodes_for_range``). The ``*_proof_nodes`` functions return those
decompositions, one list per proof element; the ``*_proof`` functions fetch all of them with
one ``get_nodes`` call (one database query) and assemble the proof.

Proof builders raise ValueError on impossible arguments; verifiers return False on anything
that does not check out (they run on untrusted input). Note that a verifier only binds a
proof to a root: the caller must take ``size`` and ``root`` from the same trusted tree head
(RFC 9162 §4.10). E.g. the inclusion proof of leaf 0 in a tree of 5 leaves also "verifies"
against that same root when the size is claimed to be 6.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping

Node = tuple[int, int]  # (level, index) of a perfect subtree
GetNodes = Callable[[list[Node]], Mapping[Node, bytes]]

EMPTY_ROOT = hashlib.sha256(b"").digest()
HASH_SIZE = 32


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH of a single entry, SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: interior node, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes: list[bytes]) -> bytes:
    """Root of adjacent subtrees listed left to right, largest first: fold right to left."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _split(n: int) -> int:
    """RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- compact range


class CompactRange:
    """The right edge of an append-only tree: one perfect-subtree hash per set bit of ``size``.

    ``hashes`` runs from the largest (leftmost) subtree to the smallest, as the compact range
    [0, size) of transparency-dev/merkle. Memory is O(log size).
    """

    __slots__ = ("size", "hashes")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        hashes = list(hashes)
        if size < 0 or len(hashes) != size.bit_count():
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} hashes, got {len(hashes)}")
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError("hashes must be 32 bytes")
        self.size = size
        self.hashes = hashes

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf; return the perfect nodes this completes as (level, index, hash).

        The first is the leaf itself, (0, old size, leaf_hash); each following one merges the
        previous with the equally sized subtree to its left.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("leaf_hash must be 32 bytes")
        h, level, index = leaf_hash, 0, self.size
        completed = [(0, index, h)]
        while self.size >> level & 1:  # a perfect subtree of 2**level leaves ends here
            h = node_hash(self.hashes.pop(), h)
            level, index = level + 1, index >> 1
            completed.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """RFC 9162 §2.1.1 MTH of the leaves appended so far."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT

    def to_json(self) -> dict:
        """JSON-ready form for storage: ``{"size": n, "hashes": [hex, ...]}``."""
        return {"size": self.size, "hashes": [h.hex() for h in self.hashes]}

    @classmethod
    def from_json(cls, data: dict | str) -> CompactRange:
        """Inverse of ``to_json``; also accepts the serialized JSON text."""
        if isinstance(data, str):
            data = json.loads(data)
        return cls(int(data["size"]), [bytes.fromhex(h) for h in data["hashes"]])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CompactRange) and (self.size, self.hashes) == (other.size, other.hashes)

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size}, root={self.root().hex()})"


def root_of(leaf_hashes: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, MTH) of a stream of leaf hashes, in O(log n) memory."""
    cr = CompactRange()
    for h in leaf_hashes:
        cr.append(h)
    return cr.size, cr.root()


def perfect_nodes_for_range(begin: int, end: int) -> list[Node]:
    """Split leaves [begin, end) into maximal aligned perfect subtrees, left to right."""
    if not 0 <= begin <= end:
        raise ValueError(f"bad range [{begin}, {end})")
    nodes = []
    while begin < end:
        # the largest 2**level that begin is aligned to and that still fits
        level = (begin & -begin).bit_length() - 1 if begin else end.bit_length()
        while (1 << level) > end - begin:
            level -= 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


# --------------------------------------------------------------------------- proofs


def _path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]) as the leaf ranges whose MTHs form the proof."""
    if hi - lo == 1:
        return []
    k = _split(hi - lo)
    if m < k:
        return _path_ranges(m, lo, lo + k) + [(lo + k, hi)]
    return _path_ranges(m - k, lo + k, hi) + [(lo, lo + k)]


def _subproof_ranges(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b) as leaf ranges."""
    n = hi - lo
    if m == n:
        return [] if b else [(lo, hi)]
    k = _split(n)
    if m <= k:
        return _subproof_ranges(m, lo, lo + k, b) + [(lo + k, hi)]
    return _subproof_ranges(m - k, lo + k, hi, False) + [(lo, lo + k)]


def inclusion_proof_nodes(index: int, size: int) -> list[list[Node]]:
    """Nodes for each element of the inclusion proof of leaf ``index`` (RFC 9162 §2.1.3.1).

    Elements are in RFC order (leaf to root); each is the fold of its node list.
    """
    if not 0 <= index < size:
        raise ValueError(f"need 0 <= index < size, got index={index} size={size}")
    return [perfect_nodes_for_range(a, b) for a, b in _path_ranges(index, 0, size)]


def consistency_proof_nodes(old_size: int, new_size: int) -> list[list[Node]]:
    """Nodes for each element of PROOF(old_size, D[new_size]) (RFC 9162 §2.1.4.1).

    Empty when old_size is 0 or equal to new_size.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"need 0 <= old_size <= new_size, got {old_size}, {new_size}")
    if old_size == 0:
        return []
    return [perfect_nodes_for_range(a, b) for a, b in _subproof_ranges(old_size, 0, new_size, True)]


def _assemble(groups: list[list[Node]], get_nodes: GetNodes) -> list[bytes]:
    """Fetch every node of ``groups`` with one ``get_nodes`` call (none if there are none)."""
    wanted = list(dict.fromkeys(n for g in groups for n in g))
    if not wanted:
        return []
    found = get_nodes(wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LookupError(f"node store is missing nodes {missing}")
    return [fold([found[n] for n in g]) for g in groups]


def inclusion_proof(index: int, size: int, get_nodes: GetNodes) -> list[bytes]:
    """RFC 9162 §2.1.3.1 inclusion proof; ``get_nodes`` is called once (or not, for size 1)."""
    return _assemble(inclusion_proof_nodes(index, size), get_nodes)


def consistency_proof(old_size: int, new_size: int, get_nodes: GetNodes) -> list[bytes]:
    """RFC 9162 §2.1.4.1 consistency proof; ``get_nodes`` is called once (or not, if empty)."""
    return _assemble(consistency_proof_nodes(old_size, new_size), get_nodes)


# --------------------------------------------------------------------------- verification


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf_hash`` at ``index`` in the tree ``root``?"""
    if not 0 <= index < size:  # step 1
        return False
    fn, sn, r = index, size - 1, leaf_hash  # steps 2, 3
    for p in proof:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root  # step 5


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``new_root`` an append-only extension of ``old_root``?

    Edge cases: equal sizes need an empty proof and equal roots; old size 0 needs an empty
    proof and ``old_root == EMPTY_ROOT`` (every tree extends the empty one).
    """
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: old tree is perfect, its root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0  # step 7
