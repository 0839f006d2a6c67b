"""Merkle trees and proofs: published test vectors, a verifier written here from RFC 9162, and properties."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability.ledger.merkle import (
    EMPTY_ROOT,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
    MerkleTree,
    ProofError,
    ProofRangeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The Certificate Transparency reference vectors: the eight leaves, the root of every prefix, and the proofs,
# as published in transparency-dev/merkle (testonly/constants.go and proof/verify_test.go, which carry them
# over from the C++ certificate-transparency merkle_tree_test). Proof leaf numbers there are 1-based.
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
H = {
    "l0": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "l1": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "l4": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "l6": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "n01": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "n23": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "n45": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "n67": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "n0123": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "n4567": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}
INCLUSION = [(0, 1, []), (0, 8, ["l1", "n23", "n4567"]), (5, 8, ["l4", "n67", "n0123"]), (2, 3, ["n01"])]
INCLUSION += [(1, 5, ["l0", "n23", "l4"])]
CONSISTENCY = [(1, 1, []), (1, 8, ["l1", "n23", "n4567"]), (6, 8, ["n45", "n67", "n0123"]), (2, 5, ["n23", "l4"])]
CONSISTENCY += [(6, 7, ["n45", "l6", "n0123"])]


# A second, independent reading of the RFCs, kept deliberately naive: MTH, PATH and PROOF as the recursive
# definitions of RFC 6962 §2.1, and the two verifiers transcribed step by step from RFC 9162 §2.1.3.2 and
# §2.1.4.2. Nothing here is shared with traceability.ledger.merkle.
def rfc_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return rfc_hash(b"")
    if n == 1:
        return rfc_hash(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return rfc_hash(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*rfc_path(m, d[:k]), rfc_mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [rfc_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), rfc_mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), rfc_mth(d[:k])]


def rfc_verify_inclusion(leaf_index: int, tree_size: int, hash_: bytes, path: list[bytes], root: bytes) -> bool:
    # RFC 9162 §2.1.3.2, step by step.
    if leaf_index >= tree_size:  # 1.
        return False
    fn, sn = leaf_index, tree_size - 1  # 2.
    r = hash_  # 3.
    for p in path:  # 4.
        if sn == 0:  # a.
            return False
        if fn & 1 == 1 or fn == sn:  # b.
            r = rfc_hash(b"\x01" + p + r)  # i.
            while not (fn & 1 == 1 or fn == 0):  # ii.
                fn >>= 1
                sn >>= 1
        else:
            r = rfc_hash(b"\x01" + r + p)
        fn >>= 1  # c.
        sn >>= 1
    return sn == 0 and r == root  # 5.


def rfc_verify_consistency(first: int, second: int, first_hash: bytes, second_hash: bytes, path: list[bytes]) -> bool:
    # RFC 9162 §2.1.4.2, step by step (it covers 0 < first < second).
    if not path:  # 1.
        return False
    path = list(path)
    if first & (first - 1) == 0:  # 2.
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1  # 3.
    while fn & 1 == 1:  # 4.
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # 5.
    for c in path[1:]:  # 6.
        if sn == 0:  # a.
            return False
        if fn & 1 == 1 or fn == sn:  # b.
            fr = rfc_hash(b"\x01" + c + fr)  # i.
            sr = rfc_hash(b"\x01" + c + sr)  # ii.
            while not (fn & 1 == 1 or fn == 0):  # iii.
                fn >>= 1
                sn >>= 1
        else:
            sr = rfc_hash(b"\x01" + sr + c)
        fn >>= 1  # c.
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash  # 7.


def hashes_of(count: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


def test_leaf_and_node_hashes_are_rfc_6962s() -> None:
    assert leaf_hash(b"") == bytes.fromhex(H["l0"])
    assert EMPTY_ROOT == bytes.fromhex(ROOTS[0]) == root_hash([])


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    tree = MerkleTree([leaf_hash(leaf) for leaf in LEAVES])
    assert tree.root(size).hex() == ROOTS[size]
    assert root_hash([leaf_hash(leaf) for leaf in LEAVES[:size]]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "names"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(index: int, size: int, names: list[str]) -> None:
    leaves = [leaf_hash(leaf) for leaf in LEAVES]
    proof = inclusion_proof(leaves, index, size)
    assert [p.hex() for p in proof] == [H[name] for name in names]
    verify_inclusion(leaves[index], index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "names"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(first: int, second: int, names: list[str]) -> None:
    proof = consistency_proof([leaf_hash(leaf) for leaf in LEAVES], first, second)
    assert [p.hex() for p in proof] == [H[name] for name in names]
    verify_consistency(first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), proof)


def test_every_proof_of_small_trees_agrees_with_the_rfc_definitions() -> None:
    data = [i.to_bytes(2, "big") for i in range(40)]
    tree = MerkleTree([leaf_hash(d) for d in data])
    for size in range(1, len(data) + 1):
        root = tree.root(size)
        assert root == rfc_mth(data[:size])
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == rfc_path(index, data[:size])
            assert rfc_verify_inclusion(index, size, tree.leaf(index), proof, root)
        for first in range(1, size):
            proof = tree.consistency_proof(first, size)
            assert proof == rfc_subproof(first, data[:size], True)
            assert rfc_verify_consistency(first, size, tree.root(first), root, proof)


def test_appending_builds_the_same_tree_as_building_at_once() -> None:
    leaves = hashes_of(300)
    grown = MerkleTree()
    for index, leaf in enumerate(leaves):
        assert grown.append(leaf) == index
        assert grown.root() == MerkleTree(leaves[: index + 1]).root()
    assert len(grown) == 300


@given(st.integers(1, 2000), st.data())
def test_random_inclusion_proofs_verify_and_any_bit_flip_fails(size: int, data: st.DataObject) -> None:
    leaves = hashes_of(size)
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    verify_inclusion(leaves[index], index, size, proof, root)
    assert rfc_verify_inclusion(index, size, leaves[index], proof, root)
    if proof:
        where = data.draw(st.integers(0, len(proof) * 256 - 1))
        bad = [bytearray(p) for p in proof]
        bad[where // 256][(where % 256) // 8] ^= 1 << (where % 8)
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(leaves[index], index, size, [bytes(b) for b in bad], root)
        assert not rfc_verify_inclusion(index, size, leaves[index], [bytes(b) for b in bad], root)
    flipped_leaf = bytes([leaves[index][0] ^ 0x80]) + leaves[index][1:]
    with pytest.raises(InclusionProofInvalid):
        verify_inclusion(flipped_leaf, index, size, proof, root)


@given(st.integers(2, 2000), st.data())
def test_random_consistency_proofs_verify_and_any_bit_flip_fails(second: int, data: st.DataObject) -> None:
    tree = MerkleTree(hashes_of(second))
    first = data.draw(st.integers(1, second - 1))
    proof = tree.consistency_proof(first, second)
    first_root, second_root = tree.root(first), tree.root(second)
    verify_consistency(first, second, first_root, second_root, proof)
    assert rfc_verify_consistency(first, second, first_root, second_root, proof)
    where = data.draw(st.integers(0, len(proof) * 256 - 1))
    bad = [bytearray(p) for p in proof]
    bad[where // 256][(where % 256) // 8] ^= 1 << (where % 8)
    with pytest.raises(ConsistencyProofInvalid):
        verify_consistency(first, second, first_root, second_root, [bytes(b) for b in bad])
    assert not rfc_verify_consistency(first, second, first_root, second_root, [bytes(b) for b in bad])


def test_corrupted_inclusion_proofs_fail() -> None:
    # The corruptions transparency-dev/merkle probes: wrong index or size, wrong leaf or root, hashes added,
    # removed or inserted.
    leaves = hashes_of(13)
    tree = MerkleTree(leaves)
    index, size = 6, 13
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    probes = [
        (index - 1, size, leaves[index], proof, root),
        (index + 1, size, leaves[index], proof, root),
        (index ^ 2, size, leaves[index], proof, root),
        (index, size * 2, leaves[index], proof, root),
        (index, size // 2 + 1, leaves[index], proof, root),
        (index, size, leaves[0], proof, root),
        (index, size, leaves[index], proof, EMPTY_ROOT),
        (index, size, leaves[index], [*proof, root], root),
        (index, size, leaves[index], [root, *proof], root),
        (index, size, leaves[index], proof[:-1], root),
        (index, size, leaves[index], [proof[0], EMPTY_ROOT, *proof[1:]], root),
    ]
    for probe in probes:
        with pytest.raises(InclusionProofInvalid):
            verify_inclusion(probe[2], probe[0], probe[1], probe[3], probe[4])
    with pytest.raises(ProofRangeError):
        verify_inclusion(leaves[index], size, size, proof, root)
    with pytest.raises(InclusionProofInvalid, match="proof hash 1 is 31 bytes"):
        verify_inclusion(leaves[index], index, size, [proof[0], proof[1][:31], *proof[2:]], root)


def test_corrupted_consistency_proofs_fail() -> None:
    tree = MerkleTree(hashes_of(13))
    first, second = 6, 13
    proof, r1, r2 = tree.consistency_proof(first, second), tree.root(first), tree.root(second)
    probes = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first ^ 2, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2 + 1, r1, r2, proof),
        (first, second, r2, r2, proof),
        (first, second, r1, r1, proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, [*proof, r1]),
        (first, second, r1, r2, [r2, *proof]),
        (first, second, r1, r2, [proof[0], *proof]),
        (first, second, r1, r2, proof[:-1]),
    ]
    for f, s, a, b, p in probes:
        with pytest.raises(ConsistencyProofInvalid):
            verify_consistency(f, s, a, b, p)


def test_trivial_consistency_needs_an_empty_proof_and_matching_roots() -> None:
    tree = MerkleTree(hashes_of(5))
    verify_consistency(0, 5, EMPTY_ROOT, tree.root(), [])
    verify_consistency(5, 5, tree.root(), tree.root(), [])
    assert tree.consistency_proof(0) == tree.consistency_proof(5) == []
    for args in [
        (0, 5, tree.root(), tree.root(), []),
        (5, 5, tree.root(4), tree.root(), []),
        (5, 5, tree.root(), tree.root(), [tree.root()]),
        (0, 5, EMPTY_ROOT, tree.root(), [tree.root()]),
    ]:
        with pytest.raises(ConsistencyProofInvalid):
            verify_consistency(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.inclusion_proof(5, 5), "entry 5 is outside a log of 5 entries"),
        (lambda t: t.inclusion_proof(-1, 5), "entry -1 is outside a log of 5 entries"),
        (lambda t: t.inclusion_proof(0, 6), "tree size 6 is beyond the log's 5 entries"),
        (lambda t: t.root(6), "tree size 6 is beyond the log's 5 entries"),
        (lambda t: t.consistency_proof(4, 3), "needs 0 <= first <= second, not 4 and 3"),
        (lambda t: t.consistency_proof(-1, 3), "needs 0 <= first <= second, not -1 and 3"),
        (lambda t: t.subtree_root(3, 3), "leaves 3..3 are not a non-empty part of a log of 5 entries"),
        (lambda t: t.leaf(5), "entry 5 is outside a log of 5 entries"),
    ],
)
def test_impossible_requests_are_named_errors(call: object, message: str) -> None:
    with pytest.raises(ProofRangeError, match=message) as caught:
        call(MerkleTree(hashes_of(5)))  # type: ignore[operator]
    assert caught.value.status == 422 and caught.value.code == "proof_range"


def test_leaf_hashes_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ProofError, match="leaf hash 1 is 31 bytes, not 32"):
        MerkleTree([bytes(32), bytes(31)])
    with pytest.raises(ProofError):
        MerkleTree().append(b"short")


def test_subtree_roots_of_any_range_follow_the_definition() -> None:
    data = [i.to_bytes(2, "big") for i in range(23)]
    tree = MerkleTree([leaf_hash(d) for d in data])
    for start, end in itertools.combinations(range(24), 2):
        assert tree.subtree_root(start, end) == rfc_mth(data[start:end])
