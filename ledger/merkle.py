"""RFC 9162 §2.1 Merkle trees over SHA-256: roots and inclusion proofs.

Event digests are anchored in batches: only the root goes on-chain, and each
event keeps an audit path to it. The tree is exactly the one of RFC 9162 (the
Certificate Transparency tree), so any independent implementation can check
our proofs:

* leaves and interior nodes are domain-separated (``0x00`` / ``0x01``
  prefixes), so an interior node can never be passed off as a leaf
  (second-preimage attack);
* a tree of ``n`` leaves splits at the largest power of two below ``n`` and
  an odd node is *promoted*, never duplicated, so two different leaf lists
  can never share a root (CVE-2012-2459).

The functions are pure and depend on nothing but :mod:`hashlib`: the verifier
(``python -m ledger.verify``) uses them without the application.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "inclusion_proof",
    "inclusion_proofs",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_leaf_hashes",
    "verify_inclusion",
]

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

#: Root of the empty tree: the hash of the empty string (RFC 9162 §2.1.1).
EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """Hash a leaf input: SHA-256(0x00 ‖ leaf)."""
    return sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: SHA-256(0x01 ‖ left ‖ right)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) of raw leaf inputs, e.g. 32-byte event digests."""
    return root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves])


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash from already-hashed leaves, in O(n) time.

    Pairing nodes level by level from the left and carrying a lone last node
    up unchanged builds exactly the RFC 9162 tree (split at the largest power
    of two), without recursion: verification recomputes roots of batches of
    100,000+ events, so this loop is the hot path.
    """
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for ``leaves[index]`` (RFC 9162 §2.1.3.1), leaf level first.

    Raises :class:`IndexError` for an index outside the tree: asking for a
    proof that cannot exist is a programming error, unlike *checking* one.
    """
    size = len(leaves)
    if not 0 <= index < size:
        raise IndexError(f"leaf index {index} outside a tree of {size} leaves")
    levels = _levels([leaf_hash(leaf) for leaf in leaves])
    return _path(levels, index)


def inclusion_proofs(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Audit paths for every leaf, in O(n log n).

    Builds the tree once and reads each path off the stored levels, instead of
    rebuilding the tree per leaf (O(n²)) when a batch's proof bundle is made.
    """
    levels = _levels([leaf_hash(leaf) for leaf in leaves])
    return [_path(levels, index) for index in range(len(leaves))]


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree over ``leaves``, built once (O(n)): an EPCIS page names a few
    hundred leaves of a batch of thousands, each path read off it with ``path_in``."""
    return _levels([leaf_hash(leaf) for leaf in leaves])


def path_in(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` (RFC 9162 §2.1.3.1) in a tree from ``tree_levels``."""
    if not 0 <= index < len(levels[0]):
        raise IndexError(f"leaf index {index} outside a tree of {len(levels[0])} leaves")
    return _path(levels, index)


def verify_inclusion(
    leaf: bytes,
    index: int,
    size: int,
    proof: Sequence[bytes],
    expected_root: bytes,
) -> bool:
    """Check that ``leaf`` is leaf ``index`` of a ``size``-leaf tree with root ``expected_root``.

    The algorithm of RFC 9162 §2.1.3.2. Proofs come from outside (bundles,
    other parties), so anything malformed — an index outside the tree, a path
    of the wrong length, elements that are not 32-byte hashes — yields
    ``False`` rather than an exception.
    """
    if not _is_count(index) or not _is_count(size) or index >= size:
        return False
    if not _is_hash(expected_root) or not isinstance(leaf, bytes | bytearray | memoryview):
        return False
    if isinstance(proof, str | bytes | bytearray):
        return False
    try:
        path = list(proof)
    except TypeError:
        return False
    if not all(_is_hash(p) for p in path):
        return False

    fn, sn = index, size - 1
    r = leaf_hash(bytes(leaf))
    for p in path:
        if sn == 0:
            return False  # the path is longer than the tree is deep
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            if not fn & 1:
                # A right-edge node promoted past levels where it had no sibling.
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(expected_root)


def _next_level(level: list[bytes]) -> list[bytes]:
    """Parents of one level; an odd last node moves up as it is (never duplicated)."""
    prefix = _NODE_PREFIX
    pairs = [sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
    if len(level) & 1:
        pairs.append(level[-1])
    return pairs


def _levels(hashes: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaf hashes first and the root level last."""
    levels = [hashes]
    while len(levels[-1]) > 1:
        levels.append(_next_level(levels[-1]))
    return levels


def _path(levels: list[list[bytes]], index: int) -> list[bytes]:
    """Siblings of ``index`` from leaf to root, skipping levels where it was promoted."""
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index >>= 1
    return path


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) and len(value) == HASH_SIZE
