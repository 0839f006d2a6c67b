"""Merkle tree hashing, inclusion and consistency proofs of RFC 9162 §2.1 (the same as RFC 6962 §2.1).

Pure: hashes in, hashes out. leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right); the root of
n leaves splits at the largest power of two below n. `MerkleTree` keeps every complete node of the tree, so a
root or proof of any size up to the whole log costs O(log² n) hashes after one O(n) build; the module-level
functions build a tree over the leaf hashes they are given. Proofs list hashes bottom-up, as RFC 9162 and
Go's golang.org/x/mod/sumdb/tlog send them.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Any

from traceability.errors import ValidationError
from traceability.i18n import N_

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = sha256(b"").digest()  # MTH({}) = SHA-256 of the empty string
MAX_TREE_SIZE = 2**63 - 1  # sizes travel as int64 in tlog and uint64 in RFC 9162; stay within both


class ProofError(ValidationError):
    """A Merkle proof that does not prove what it claims, or a request for one that cannot exist."""

    code = "proof_invalid"


class ProofRangeError(ProofError):
    """A leaf index or tree size outside the tree it is asked about."""

    code = "proof_range"


class InclusionProofInvalid(ProofError):
    """An audit path that does not lead from the entry to the tree head."""


class ConsistencyProofInvalid(ProofError):
    """A consistency path that does not show the newer tree extends the older one."""


def leaf_hash(entry: bytes) -> bytes:
    """Return the leaf hash of an entry's canonical bytes."""
    return sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node from its children's hashes."""
    return sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """Return the largest power of two strictly below size (size >= 2): where RFC 9162 splits a tree."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """The complete nodes of an append-only tree over leaf hashes; roots and proofs for any size up to it.

    Level h holds, concatenated, the hashes of the complete subtrees of 2**h leaves, left to right: a tree of
    n leaves keeps about 2n hashes (64 MB for a million entries).
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        for index, value in enumerate(leaf_hashes):
            _check_hash(value, N_("leaf hash %(index)s is %(actual)s bytes, not 32"), index=index)
        self._levels: list[bytearray] = [bytearray(b"".join(leaf_hashes))]
        # Building a level at a time hashes each contiguous 64-byte pair in place: O(n), no per-node lists.
        while len(self._levels[-1]) >= 2 * HASH_SIZE:
            below = self._levels[-1]
            pairs = len(below) // (2 * HASH_SIZE)
            self._levels.append(
                bytearray(
                    b"".join(
                        sha256(NODE_PREFIX + below[i : i + 2 * HASH_SIZE]).digest()
                        for i in range(0, pairs * 2 * HASH_SIZE, 2 * HASH_SIZE)
                    )
                )
            )

    @property
    def size(self) -> int:
        """Return the number of leaves."""
        return len(self._levels[0]) // HASH_SIZE

    def __len__(self) -> int:
        return self.size

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash at the end and return its index; completes the parents it finishes."""
        _check_hash(leaf, N_("leaf hash %(index)s is %(actual)s bytes, not 32"), index=self.size)
        index = self.size
        self._levels[0] += leaf
        level, position = 0, index
        while position % 2 == 1:
            pair = self._levels[level][(position - 1) * HASH_SIZE : (position + 1) * HASH_SIZE]
            if level + 1 == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level + 1] += sha256(NODE_PREFIX + pair).digest()
            level, position = level + 1, position // 2
        return index

    def leaf(self, index: int) -> bytes:
        """Return the leaf hash at index."""
        if not 0 <= index < self.size:
            raise ProofRangeError(
                N_("entry %(index)s is outside a log of %(size)s entries"), params={"index": index, "size": self.size}
            )
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self.subtree_root(0, size)

    def subtree_root(self, start: int, end: int) -> bytes:
        """Return MTH(D[start:end]) for leaves start..end-1 (start < end <= size)."""
        if not 0 <= start < end <= self.size:
            raise ProofRangeError(
                N_("leaves %(start)s..%(end)s are not a non-empty part of a log of %(size)s entries"),
                params={"start": start, "end": end, "size": self.size},
            )
        return self._range_root(start, end)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1)."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofRangeError(
                N_("entry %(index)s is outside a log of %(size)s entries"), params={"index": index, "size": size}
            )
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = split_point(end - start)
            if index < start + k:
                path.append(self._range_root(start + k, end))
                end = start + k
            else:
                path.append(self._range_root(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """Return the consistency path from the tree of `first` leaves to that of `second` (RFC 9162 §2.1.4.1).

        The path is empty when first is 0 or equal to second: there is nothing to prove.
        """
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise ProofRangeError(
                N_("a consistency proof needs 0 <= first <= second, not %(first)s and %(second)s"),
                params={"first": first, "second": second},
            )
        if first in (0, second):
            return []
        # SUBPROOF(m, D[start:end], whole) of RFC 6962 §2.1.2, unrolled: `whole` says the old tree is
        # exactly D[0:m], whose root the verifier already has.
        path: list[bytes] = []
        start, end, m, whole = 0, second, first, True
        while m != end - start:
            k = split_point(end - start)
            if m <= k:
                path.append(self._range_root(start + k, end))
                end = start + k
            else:
                path.append(self._range_root(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            path.append(self._range_root(start, end))
        path.reverse()
        return path

    def _node(self, level: int, position: int) -> bytes:
        return bytes(self._levels[level][position * HASH_SIZE : (position + 1) * HASH_SIZE])

    def _range_root(self, start: int, end: int) -> bytes:
        count = end - start
        if count & (count - 1) == 0 and start % count == 0:
            # A complete subtree aligned on its own size: stored. Every subtree a root or proof of this
            # tree asks for is aligned like this, so the recursion below stays O(log n) deep and wide.
            level = count.bit_length() - 1
            return self._node(level, start >> level)
        k = split_point(count)
        return node_hash(self._range_root(start, start + k), self._range_root(start + k, end))

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofRangeError(
                N_("tree size %(size)s is beyond the log's %(log_size)s entries"),
                params={"size": size, "log_size": self.size},
            )


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the root hash (MTH) of a tree over these leaf hashes."""
    return MerkleTree(leaf_hashes).root()


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """Return the audit path of leaf `index` in the tree of the first `size` of these leaf hashes."""
    size = len(leaf_hashes) if size is None else size
    return MerkleTree(leaf_hashes[: max(size, 0)]).inclusion_proof(index, size)


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int | None = None) -> list[bytes]:
    """Return the consistency path between the trees of the first `first` and `second` leaf hashes."""
    second = len(leaf_hashes) if second is None else second
    return MerkleTree(leaf_hashes[: max(second, 0)]).consistency_proof(first, second)


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Return the root an audit path implies for a leaf hash (RFC 9162 §2.1.3.2 steps 1-4)."""
    if not 0 <= index < size <= MAX_TREE_SIZE:
        raise ProofRangeError(
            N_("entry %(index)s is outside a log of %(size)s entries"), params={"index": index, "size": size}
        )
    _check_hash(leaf, N_("the leaf hash is %(actual)s bytes, not 32"), InclusionProofInvalid)
    for position, value in enumerate(proof):
        _check_hash(
            value, N_("proof hash %(index)s is %(actual)s bytes, not 32"), InclusionProofInvalid, index=position
        )
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise InclusionProofInvalid(
                N_("the inclusion proof for entry %(index)s is longer than a tree of %(size)s entries needs"),
                params={"index": index, "size": size},
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InclusionProofInvalid(
            N_("the inclusion proof for entry %(index)s is shorter than a tree of %(size)s entries needs"),
            params={"index": index, "size": size},
        )
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash `leaf` is entry `index` of the tree of `size` entries with this root."""
    _check_hash(root, N_("the root hash is %(actual)s bytes, not 32"), InclusionProofInvalid)
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise InclusionProofInvalid(
            N_("the inclusion proof for entry %(index)s does not lead to the root of the log of %(size)s entries"),
            params={"index": index, "size": size},
        )


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of `second` entries extends the tree of `first` entries (RFC 9162 §2.1.4.2)."""
    if not 0 <= first <= second <= MAX_TREE_SIZE:
        raise ProofRangeError(
            N_("a consistency proof needs 0 <= first <= second, not %(first)s and %(second)s"),
            params={"first": first, "second": second},
        )
    for value in (first_root, second_root):
        _check_hash(value, N_("the root hash is %(actual)s bytes, not 32"), ConsistencyProofInvalid)
    for position, value in enumerate(proof):
        _check_hash(
            value, N_("proof hash %(index)s is %(actual)s bytes, not 32"), ConsistencyProofInvalid, index=position
        )
    params = {"first": first, "second": second}
    refused = N_("the log of %(second)s entries is not shown to extend the log of %(first)s entries")
    # The two cases RFC 9162 leaves out: an empty tree is a prefix of every tree, and a tree of the same
    # size must be the same tree. Neither has anything to prove, so a non-empty path is refused.
    if first == 0 or first == second:
        if proof or (first == 0 and first_root != EMPTY_ROOT) or (first == second and first_root != second_root):
            raise ConsistencyProofInvalid(refused, params=params)
        return
    if not proof:
        raise ConsistencyProofInvalid(refused, params=params)
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyProofInvalid(refused, params=params)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ConsistencyProofInvalid(refused, params=params)


def _check_hash(value: Any, message: str, error: type[ProofError] = ProofError, **params: Any) -> None:
    actual = len(value) if isinstance(value, bytes | bytearray) else "?"
    if actual != HASH_SIZE:
        raise error(message, params={**params, "actual": actual})
