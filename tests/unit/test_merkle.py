"""Tests of the RFC 9162 Merkle primitives (services/audit/merkle.py).

The oracle is tests/unit/merkle_reference.py, a naive transcription of the RFC's recursive
MTH / PATH / SUBPROOF definitions that shares no code with the module under test.
"""
from __future__ import annotations

import hashlib
import json
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    perfect_nodes_for_range,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from tests.unit import merkle_reference as ref

# --------------------------------------------------------------------------- fixtures

# RFC 6962 test leaves, as used by certificate-transparency and transparency-dev/merkle.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

EXHAUSTIVE = 64  # every size / index / pair up to this
HYPOTHESIS_MAX = 5000


def entry(i: int) -> bytes:
    return f"entry-{i}".encode()


class Log:
    """A node store as the hub keeps it: every perfect node, filled by CompactRange.append."""

    def __init__(self, size: int) -> None:
        self.leaves: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.roots = [EMPTY_ROOT]  # roots[n] = root after n leaves
        cr = CompactRange()
        for i in range(size):
            lh = leaf_hash(entry(i))
            self.leaves.append(lh)
            for level, index, h in cr.append(lh):
                self.nodes[level, index] = h
            self.roots.append(cr.root())

    def getter(self, size: int, calls: list[list[tuple[int, int]]]):
        """A get_nodes that records its calls and only serves nodes existing at ``size``."""

        def get_nodes(wanted):
            calls.append(list(wanted))
            assert len(set(wanted)) == len(wanted), "duplicate node requested"
            for level, index in wanted:
                assert (index + 1) << level <= size, f"node {(level, index)} does not exist at size {size}"
            return {n: self.nodes[n] for n in wanted}

        return get_nodes


@cache
def small_log() -> Log:
    return Log(EXHAUSTIVE + 1)


@cache
def big_log() -> Log:
    return Log(HYPOTHESIS_MAX)


@cache
def ref_root(n: int) -> bytes:
    return ref.mth_of_hashes(small_log().leaves[:n])


def flipped(proof: list[bytes], i: int, bit: int = 0) -> list[bytes]:
    out = list(proof)
    b = bytearray(out[i])
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    out[i] = bytes(b)
    return out


# --------------------------------------------------------------------------- known answers


def test_empty_root():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert CompactRange().root() == EMPTY_ROOT
    assert root_of([]) == (0, EMPTY_ROOT)
    assert ref.mth([]) == EMPTY_ROOT


def test_hash_domain_separation():
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_rfc6962_roots(size):
    expected = RFC6962_ROOTS[size - 1]
    leaves = RFC6962_LEAVES[:size]
    assert ref.mth(leaves).hex() == expected
    assert root_of(leaf_hash(d) for d in leaves) == (size, bytes.fromhex(expected))


def test_rfc6962_proofs_verify():
    leaves = [leaf_hash(d) for d in RFC6962_LEAVES]
    store = {}
    cr = CompactRange()
    for lh in leaves:
        store.update({(lv, ix): h for lv, ix, h in cr.append(lh)})
    get = lambda wanted: {n: store[n] for n in wanted}  # noqa: E731
    for n in range(1, 9):
        root = bytes.fromhex(RFC6962_ROOTS[n - 1])
        for i in range(n):
            assert verify_inclusion(leaves[i], i, n, inclusion_proof(i, n, get), root)
        for m in range(1, n + 1):
            old = bytes.fromhex(RFC6962_ROOTS[m - 1])
            assert verify_consistency(m, n, old, root, consistency_proof(m, n, get))


# --------------------------------------------------------------------------- inclusion


@pytest.mark.parametrize("size", range(1, EXHAUSTIVE + 1))
def test_inclusion_exhaustive(size):
    log = small_log()
    leaves = log.leaves[:size]
    root = ref_root(size)
    assert log.roots[size] == root
    for index in range(size):
        calls = []
        proof = inclusion_proof(index, size, log.getter(size, calls))
        assert proof == ref.path(index, leaves)
        assert len(calls) == (1 if proof else 0)
        assert len(inclusion_proof_nodes(index, size)) == len(proof)
        assert verify_inclusion(leaves[index], index, size, proof, root)

        # tampering: every element, first and last bit
        for i in range(len(proof)):
            for bit in (0, 255):
                assert not verify_inclusion(leaves[index], index, size, flipped(proof, i, bit), root)
        assert not verify_inclusion(flipped([leaves[index]], 0)[0], index, size, proof, root)
        assert not verify_inclusion(leaves[index], index, size, proof + [root], root)
        if proof:
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
            assert not verify_inclusion(leaves[index], index, size, proof[::-1], root) or len(proof) == 1
        # wrong index (every other one), with the same leaf and with that index's leaf
        for other in range(size):
            if other != index:
                assert not verify_inclusion(leaves[index], other, size, proof, root)
                assert not verify_inclusion(leaves[other], other, size, proof, root)
        # wrong size, paired with that size's root
        for other in (size - 1, size + 1):
            if other > index:
                assert not verify_inclusion(leaves[index], index, other, proof, ref_root(other))
        # out-of-range claims never verify
        assert not verify_inclusion(leaves[index], size, size, proof, root)
        assert not verify_inclusion(leaves[index], -1, size, proof, root)


def test_inclusion_size_is_bound_by_the_tree_head_not_the_proof():
    """Documented RFC 9162 property: the verifier checks proof against root, not root against size.

    Leaf 0 of a 5-leaf tree takes the same left/right turns as in a 6-leaf tree, so the same
    proof and root also pass with size 6. Callers take size and root from one signed head.
    """
    log = small_log()
    proof = inclusion_proof(0, 5, log.getter(5, []))
    assert verify_inclusion(log.leaves[0], 0, 5, proof, log.roots[5])
    assert verify_inclusion(log.leaves[0], 0, 6, proof, log.roots[5])
    assert not verify_inclusion(log.leaves[0], 0, 6, proof, log.roots[6])


def test_inclusion_single_leaf():
    lh = leaf_hash(b"only")
    assert inclusion_proof_nodes(0, 1) == []
    assert inclusion_proof(0, 1, lambda wanted: pytest.fail("no nodes needed")) == []
    assert verify_inclusion(lh, 0, 1, [], lh)
    assert not verify_inclusion(lh, 0, 1, [lh], lh)


@pytest.mark.parametrize("index,size", [(0, 0), (1, 1), (5, 3), (-1, 4), (0, -1)])
def test_inclusion_bad_arguments(index, size):
    with pytest.raises(ValueError):
        inclusion_proof_nodes(index, size)
    with pytest.raises(ValueError):
        inclusion_proof(index, size, lambda wanted: {})
    assert not verify_inclusion(leaf_hash(b"x"), index, size, [], EMPTY_ROOT)


def test_missing_node_is_an_error():
    with pytest.raises(LookupError):
        inclusion_proof(0, 2, lambda wanted: {})


# --------------------------------------------------------------------------- consistency


@pytest.mark.parametrize("new", range(1, EXHAUSTIVE + 1))
def test_consistency_exhaustive(new):
    log = small_log()
    leaves = log.leaves[:new]
    new_root = ref_root(new)
    for old in range(1, new + 1):
        old_root = ref_root(old)
        calls = []
        proof = consistency_proof(old, new, log.getter(new, calls))
        assert proof == ref.proof(old, leaves)
        assert len(calls) == (1 if proof else 0)
        assert len(consistency_proof_nodes(old, new)) == len(proof)
        assert verify_consistency(old, new, old_root, new_root, proof)

        for i in range(len(proof)):
            for bit in (0, 255):
                assert not verify_consistency(old, new, old_root, new_root, flipped(proof, i, bit))
        assert not verify_consistency(old, new, old_root, new_root, proof + [new_root])
        if proof:
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, new, old_root, new_root, proof[1:])
        # wrong roots: of neighbouring sizes, and bit-flipped
        for other in (old - 1, old + 1):
            if 1 <= other <= EXHAUSTIVE and other != old:
                assert not verify_consistency(old, new, ref_root(other), new_root, proof)
        for other in (new - 1, new + 1):
            if 1 <= other <= EXHAUSTIVE and other != new:
                assert not verify_consistency(old, new, old_root, ref_root(other), proof)
        assert not verify_consistency(old, new, flipped([old_root], 0)[0], new_root, proof)
        assert not verify_consistency(old, new, old_root, flipped([new_root], 0)[0], proof)
        # wrong sizes, paired with those sizes' roots
        for o2, n2 in ((old - 1, new), (old + 1, new), (old, new - 1), (old, new + 1)):
            if 1 <= o2 <= n2 <= EXHAUSTIVE and (o2, n2) != (old, new) and o2 != n2:
                assert not verify_consistency(o2, n2, ref_root(o2), ref_root(n2), proof)


def test_verifiers_consume_exactly_the_expected_proof_length():
    """A proof verifies under claimed sizes only if those sizes call for exactly its length.

    (With the original roots, wrong sizes of the same shape do verify: see the inclusion
    test above. What the RFC's ``sn == 0`` checks guarantee is that no element is left over
    or missing, which is what this pins down.)
    """
    log = small_log()
    for n in range(1, 17):
        for i in range(n):
            proof = inclusion_proof(i, n, log.getter(n, []))
            for i2 in range(20):
                for n2 in range(i2 + 1, 21):
                    if verify_inclusion(log.leaves[i], i2, n2, proof, log.roots[n]):
                        assert len(inclusion_proof_nodes(i2, n2)) == len(proof), (i, n, i2, n2)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, log.getter(n, []))
            for n2 in range(1, 21):
                for m2 in range(1, n2 + 1):
                    if verify_consistency(m2, n2, log.roots[m], log.roots[n], proof):
                        assert len(consistency_proof_nodes(m2, n2)) == len(proof), (m, n, m2, n2)


def test_consistency_edge_cases():
    log = small_log()
    r3, r5 = log.roots[3], log.roots[5]
    # equal sizes: empty proof, equal roots
    assert consistency_proof_nodes(5, 5) == []
    assert consistency_proof(5, 5, lambda wanted: pytest.fail("no nodes needed")) == []
    assert verify_consistency(5, 5, r5, r5, [])
    assert not verify_consistency(5, 5, r3, r5, [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    # from the empty tree: empty proof, old root must be the empty root
    assert consistency_proof_nodes(0, 5) == []
    assert consistency_proof(0, 5, lambda wanted: pytest.fail("no nodes needed")) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [r5])
    assert not verify_consistency(0, 5, r3, r5, [])
    # a non-trivial pair needs a non-empty proof
    assert not verify_consistency(3, 5, r3, r5, [])
    for old, new in ((6, 5), (-1, 5), (-2, -1)):
        with pytest.raises(ValueError):
            consistency_proof_nodes(old, new)
        with pytest.raises(ValueError):
            consistency_proof(old, new, lambda wanted: {})
        assert not verify_consistency(old, new, r5, r5, [r5])


# --------------------------------------------------------------------------- compact range


def test_compact_range_roots_and_nodes():
    cr = CompactRange()
    leaves, stored = [], {}
    for size in range(1, 201):
        lh = leaf_hash(entry(size - 1))
        leaves.append(lh)
        new = cr.append(lh)
        assert new[0] == (0, size - 1, lh)
        for level, index, h in new:
            assert (level, index) not in stored
            stored[level, index] = h
        assert cr.size == size and len(cr.hashes) == size.bit_count()
        assert cr.root() == ref.mth_of_hashes(leaves)
        assert set(stored) == ref.all_perfect_nodes(size)
    for (level, index), h in stored.items():
        assert h == ref.mth_of_hashes(leaves[index << level:(index + 1) << level])


def test_compact_range_hashes_are_the_frontier():
    log = small_log()
    cr = CompactRange()
    for size in range(1, EXHAUSTIVE + 1):
        cr.append(log.leaves[size - 1])
        assert cr.hashes == [log.nodes[n] for n in perfect_nodes_for_range(0, size)]


def test_compact_range_json_round_trip():
    cr = CompactRange()
    assert CompactRange.from_json(cr.to_json()) == cr
    for i in range(37):
        cr.append(leaf_hash(entry(i)))
        data = cr.to_json()
        assert data["size"] == i + 1 and all(isinstance(h, str) for h in data["hashes"])
        back = CompactRange.from_json(json.loads(json.dumps(data)))
        assert back == cr and back.root() == cr.root()
        assert CompactRange.from_json(json.dumps(data)) == cr
    # a restored range keeps appending identically
    back = CompactRange.from_json(cr.to_json())
    assert back.append(leaf_hash(b"x")) == cr.append(leaf_hash(b"x"))
    assert back.root() == cr.root()


def test_compact_range_rejects_malformed():
    with pytest.raises(ValueError):
        CompactRange.from_json({"size": 3, "hashes": ["00" * 32]})
    with pytest.raises(ValueError):
        CompactRange.from_json({"size": 1, "hashes": ["00" * 31]})
    with pytest.raises(ValueError):
        CompactRange.from_json({"size": -1, "hashes": []})
    with pytest.raises(ValueError):
        CompactRange().append(b"short")


def test_root_of_streams():
    n = 1000
    gen = (leaf_hash(entry(i)) for i in range(n))
    assert root_of(gen) == (n, ref.mth([entry(i) for i in range(n)]))


def test_perfect_nodes_for_range():
    for begin in range(0, 41):
        for end in range(begin, 41):
            nodes = perfect_nodes_for_range(begin, end)
            pos = begin
            for level, index in nodes:
                assert index << level == pos  # contiguous, aligned by construction
                pos += 1 << level
                parent_lo, parent_hi = (index >> 1) << (level + 1), ((index >> 1) + 1) << (level + 1)
                assert not (begin <= parent_lo and parent_hi <= end)  # maximal
            assert pos == end
    assert perfect_nodes_for_range(0, 0) == []
    assert perfect_nodes_for_range(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_nodes_for_range(3, 13) == [(0, 3), (2, 1), (2, 2), (0, 12)]
    with pytest.raises(ValueError):
        perfect_nodes_for_range(5, 4)


# --------------------------------------------------------------------------- property tests


@st.composite
def size_and_index(draw):
    size = draw(st.integers(1, HYPOTHESIS_MAX))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw):
    new = draw(st.integers(1, HYPOTHESIS_MAX))
    return draw(st.integers(1, new)), new


@settings(max_examples=300, deadline=None)
@given(size_and_index(), st.integers(0, 255))
def test_inclusion_random_large(si, bit):
    size, index = si
    log = big_log()
    calls = []
    proof = inclusion_proof(index, size, log.getter(size, calls))
    assert len(calls) == (1 if proof else 0)
    assert verify_inclusion(log.leaves[index], index, size, proof, log.roots[size])
    for i in range(len(proof)):
        assert not verify_inclusion(log.leaves[index], index, size, flipped(proof, i, bit), log.roots[size])
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(log.leaves[index], other, size, proof, log.roots[size])


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.integers(0, 255))
def test_consistency_random_large(sizes, bit):
    old, new = sizes
    log = big_log()
    calls = []
    proof = consistency_proof(old, new, log.getter(new, calls))
    assert len(calls) == (1 if proof else 0)
    assert verify_consistency(old, new, log.roots[old], log.roots[new], proof)
    for i in range(len(proof)):
        assert not verify_consistency(old, new, log.roots[old], log.roots[new], flipped(proof, i, bit))
    if old != new:
        assert not verify_consistency(old, new, log.roots[old - 1] if old > 1 else log.roots[2], log.roots[new], proof)
