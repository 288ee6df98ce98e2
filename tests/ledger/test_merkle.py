"""RFC 9162 Merkle trees: published vectors, an independent recursive oracle, tampering."""

from __future__ import annotations

import json
import os
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import merkle

MAX_SIZE = 300
REPO = Path(__file__).resolve().parents[2]
VECTORS_NAME = "rfc9162-merkle-vectors.json"


def _shared_dir() -> Path:
    return Path(os.environ.get("TRACE_SHARED_DIR") or REPO.parent / "shared")


def _load_vectors() -> dict:
    path = _shared_dir() / "testdata" / VECTORS_NAME
    if not path.is_file():
        pytest.skip(f"{path} is absent: set TRACE_SHARED_DIR to the shared directory")
    return json.loads(path.read_text(encoding="utf-8"))


# --- an independent oracle: RFC 9162 §2.1.1 and §2.1.3.1 written as recursion ----------


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _ref_root(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + leaves[0]).digest()
    k = _split(n)
    return sha256(b"\x01" + _ref_root(leaves[:k]) + _ref_root(leaves[k:])).digest()


def _ref_path(leaves: list[bytes], m: int) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_ref_path(leaves[:k], m), _ref_root(leaves[k:])]
    return [*_ref_path(leaves[k:], m - k), _ref_root(leaves[:k])]


def _ref_sides(m: int, n: int) -> list[str]:
    """Which side each audit-path sibling sits on: the shape of the path, without hashing."""
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_ref_sides(m, k), "right"]
    return [*_ref_sides(m - k, n - k), "left"]


def _digests(n: int, salt: bytes = b"") -> list[bytes]:
    return [sha256(salt + i.to_bytes(4, "big")).digest() for i in range(n)]


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x01]) + value[1:]


unique_leaves = st.lists(st.binary(max_size=40), min_size=MAX_SIZE, max_size=MAX_SIZE, unique=True)


# --- published vectors ----------------------------------------------------------------


def test_roots_match_the_published_vectors_for_every_tree_size() -> None:
    vectors = _load_vectors()
    leaves = [bytes.fromhex(h) for h in vectors["leaf_inputs_hex"]]
    roots = [bytes.fromhex(h) for h in vectors["root_by_tree_size_hex"]]
    assert len(roots) == len(leaves) + 1  # sizes 0..8
    for size, expected in enumerate(roots):
        assert merkle.root(leaves[:size]) == expected, f"tree size {size}"
        hashes = [merkle.leaf_hash(leaf) for leaf in leaves[:size]]
        assert merkle.root_from_leaf_hashes(hashes) == expected, f"tree size {size}"


# --- structure ------------------------------------------------------------------------


def test_empty_tree_root_is_the_hash_of_the_empty_string() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT == sha256(b"").digest()
    assert merkle.root_from_leaf_hashes([]) == merkle.EMPTY_ROOT


def test_leaves_and_nodes_are_domain_separated() -> None:
    a, b = _digests(2)
    assert merkle.leaf_hash(a) == sha256(b"\x00" + a).digest()
    assert merkle.node_hash(a, b) == sha256(b"\x01" + a + b).digest()
    # An interior node presented as a leaf does not reproduce the root.
    assert merkle.root([merkle.node_hash(merkle.leaf_hash(a), merkle.leaf_hash(b))]) != (
        merkle.root([a, b])
    )


def test_an_odd_node_is_never_duplicated() -> None:
    """CVE-2012-2459: [a, b, c] and [a, b, c, c] must not share a root."""
    a, b, c = _digests(3)
    assert merkle.root([a, b, c]) != merkle.root([a, b, c, c])
    assert merkle.root([a, b, c]) == merkle.node_hash(
        merkle.node_hash(merkle.leaf_hash(a), merkle.leaf_hash(b)), merkle.leaf_hash(c)
    )


def test_asking_for_a_proof_outside_the_tree_is_an_error() -> None:
    with pytest.raises(IndexError):
        merkle.inclusion_proof(_digests(3), 3)
    with pytest.raises(IndexError):
        merkle.inclusion_proof([], 0)


# --- properties over tree sizes: every size to 64, then each side of 128 and 256 ------

#: Every shape of path (length, sides) up to depth 6, and the boundaries where a
#: tree gains a level (127/128/129, 255/256/257); sizes between add no new shape.
SIZES = [*range(1, 65), 127, 128, 129, 255, 256, 257, MAX_SIZE]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaves=unique_leaves)
def test_every_leaf_of_every_tree_size_verifies(leaves: list[bytes]) -> None:
    for size in SIZES:
        tree = leaves[:size]
        expected = merkle.root(tree)
        assert merkle.root_from_leaf_hashes([merkle.leaf_hash(x) for x in tree]) == expected
        for index, proof in enumerate(merkle.inclusion_proofs(tree)):
            assert merkle.verify_inclusion(tree[index], index, size, proof, expected), (
                f"leaf {index} of {size}"
            )


@settings(max_examples=25, deadline=None)
@given(leaves=st.lists(st.binary(max_size=40), min_size=0, max_size=MAX_SIZE))
def test_roots_and_proofs_agree_with_the_recursive_definition(leaves: list[bytes]) -> None:
    assert merkle.root(leaves) == _ref_root(leaves)
    proofs = merkle.inclusion_proofs(leaves)
    assert len(proofs) == len(leaves)
    for index in {0, len(leaves) // 2, len(leaves) - 1} if leaves else set():
        assert proofs[index] == merkle.inclusion_proof(leaves, index) == _ref_path(leaves, index)


def test_all_proofs_at_once_equal_proofs_one_by_one_for_small_trees() -> None:
    for size in range(1, 65):
        leaves = _digests(size)
        expected = [merkle.inclusion_proof(leaves, i) for i in range(size)]
        assert merkle.inclusion_proofs(leaves) == expected, f"tree size {size}"


#: Every size up to 64, then the sizes around the larger powers of two and the largest:
#: each leaf of each is tampered with in every way (the cost grows with size squared).


def test_tampering_with_leaf_proof_or_index_fails_for_every_tree_size() -> None:
    for size in SIZES:
        leaves = _digests(size, salt=b"tamper")
        expected = merkle.root(leaves)
        for index, proof in enumerate(merkle.inclusion_proofs(leaves)):
            leaf = leaves[index]
            where = f"leaf {index} of {size}"
            assert not merkle.verify_inclusion(_flip(leaf), index, size, proof, expected), where
            for j in range(len(proof)):
                forged = [*proof[:j], _flip(proof[j]), *proof[j + 1 :]]
                assert not merkle.verify_inclusion(leaf, index, size, forged, expected), where
            for other in (index - 1, index + 1, size, -1):
                assert not merkle.verify_inclusion(leaf, other, size, proof, expected), where
            assert not merkle.verify_inclusion(leaf, index, size, [*proof, leaf], expected), where
            if proof:
                assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], expected), where


def test_a_wrong_size_fails_unless_the_path_has_the_same_shape() -> None:
    """The size is not authenticated by the path alone.

    RFC 9162 binds size to root in a signed tree head; for us the contract
    stores the batch size with its root, and verifiers must take it from
    there. Here: a different size verifies exactly when the path would have
    the same shape (same length, siblings on the same sides).
    """
    for size in SIZES:
        leaves = _digests(size, salt=b"size")
        expected = merkle.root(leaves)
        for index, proof in enumerate(merkle.inclusion_proofs(leaves)):
            for other in {size - 1, size + 1, size * 2, max(1, size // 2)} - {size}:
                same_shape = index < other and _ref_sides(index, other) == _ref_sides(index, size)
                result = merkle.verify_inclusion(leaves[index], index, other, proof, expected)
                assert result is same_shape, f"leaf {index} of {size} claimed as size {other}"


def test_the_size_is_bound_to_the_root_by_the_caller() -> None:
    leaves = _digests(5)
    proof = merkle.inclusion_proof(leaves, 0)
    expected = merkle.root(leaves)
    # Same shape for leaf 0 in trees of 5 and 6 leaves: the path alone cannot tell them apart.
    assert merkle.verify_inclusion(leaves[0], 0, 6, proof, expected)
    assert not merkle.verify_inclusion(leaves[4], 4, 6, merkle.inclusion_proof(leaves, 4), expected)


@pytest.mark.parametrize(
    ("index", "size", "proof", "root"),
    [
        pytest.param(5, 5, "ok", "ok", id="index equal to size"),
        pytest.param(-1, 5, "ok", "ok", id="negative index"),
        pytest.param(0, 0, [], "ok", id="empty tree"),
        pytest.param(True, 5, "ok", "ok", id="bool index"),
        pytest.param("0", 5, "ok", "ok", id="text index"),
        pytest.param(0, 5, [b"short"], "ok", id="proof element not 32 bytes"),
        pytest.param(0, 5, ["ab" * 32], "ok", id="hex text in proof"),
        pytest.param(0, 5, b"\x00" * 32, "ok", id="proof is bytes"),
        pytest.param(0, 5, "ok", b"\x00" * 31, id="root not 32 bytes"),
        pytest.param(0, 5, "ok", None, id="root missing"),
        pytest.param(0, 5, [], "ok", id="empty proof"),
    ],
)
def test_malformed_input_is_rejected_without_raising(index, size, proof, root) -> None:
    leaves = _digests(5)
    proof = merkle.inclusion_proof(leaves, 0) if proof == "ok" else proof
    root = merkle.root(leaves) if root == "ok" else root
    assert merkle.verify_inclusion(leaves[0], index, size, proof, root) is False


def test_paths_read_off_one_tree_equal_proofs_one_by_one_and_verify() -> None:
    for size in range(1, 40):
        leaves = [sha256(f"leaf {i} of {size}".encode()).digest() for i in range(size)]
        levels = merkle.tree_levels(leaves)
        root = merkle.root(leaves)
        for index in range(size):
            path = merkle.path_in(levels, index)
            assert path == merkle.inclusion_proof(leaves, index)
            assert merkle.verify_inclusion(leaves[index], index, size, path, root)
        with pytest.raises(IndexError):
            merkle.path_in(levels, size)
