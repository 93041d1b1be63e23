"""Naive Merkle tree reference, written straight from the recursive definitions of RFC 9162.

Works on the full list of entries (or leaf hashes) and recomputes everything on every call.
Deliberately shares no code with services/audit/merkle.py; it is the oracle for its tests.
"""
from __future__ import annotations

from hashlib import sha256


def ref_leaf(entry: bytes) -> bytes:
    return sha256(bytes([0]) + entry).digest()


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth_of_hashes(leaves: list[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) over already-hashed leaves."""
    n = len(leaves)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _largest_power_of_two_below(n)
    return sha256(bytes([1]) + mth_of_hashes(leaves[:k]) + mth_of_hashes(leaves[k:])).digest()


def mth(entries: list[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) over raw entries."""
    return mth_of_hashes([ref_leaf(e) for e in entries])


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1) over leaf hashes."""
    n = len(leaves)
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth_of_hashes(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth_of_hashes(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) (RFC 9162 §2.1.4.1) over leaf hashes."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth_of_hashes(leaves)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth_of_hashes(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth_of_hashes(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1)."""
    return subproof(m, leaves, True)


def all_perfect_nodes(size: int) -> set[tuple[int, int]]:
    """Brute force: every (level, index) whose leaves [i*2^L, (i+1)*2^L) all exist."""
    nodes = set()
    level = 0
    while (1 << level) <= size:
        for index in range(size >> level):
            nodes.add((level, index))
        level += 1
    return nodes
