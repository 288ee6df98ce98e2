"""The browser verifier (static/src/portal/verify.js) against the Python it must agree with:
event digests (RFC 8785 + SHA-256, ledger.canonical), RFC 9162 inclusion proofs over the
shared test vectors (ledger.merkle), the registry's getAnchor selector and return (web3)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_abi import encode
from web3 import Web3

from ledger import merkle
from ledger.canonical import digest_hex

ROOT = Path(__file__).parents[2]
VECTORS = Path("/work/shared/testdata/rfc9162-merkle-vectors.json")
CONTENTS = [
    {
        "id": "e1",
        "type": "received",
        "device": "11R6BFBC4JZH1D",
        "org": "DIS-SZ01",
        "actor": "sz.intake",
        "occurred_at": "2026-08-03T10:00:00+08:00",
        "recorded_at": "2026-08-03T02:00:01+00:00",
        "payload": {"weight_kg": "19.5"},
        "prev": None,
    },
    {
        "payload": {
            "reason": '秤重新归零 "scale" \\ \n\t\u0001',
            "zz": [1, -2, 9007199254740991],
            "a": {"b": True, "c": None},
        },
        "id": "e2",
        "prev": "ab" * 32,
    },
    {"é": 1, "e": 2, "\u20ac": 3, "\U0001f600": "emoji", "Z": [], "": {}},
]


def cases(tmp_path: Path) -> Path:
    vectors = json.loads(VECTORS.read_text())
    leaves = [bytes.fromhex(x) for x in vectors["leaf_inputs_hex"]]
    roots = vectors["root_by_tree_size_hex"]
    proofs = []
    for size in range(1, len(leaves) + 1):
        assert merkle.root(leaves[:size]).hex() == roots[size]  # the vectors are the project's
        for index in range(size):
            proofs.append({"leaf": leaves[index].hex(), "index": index, "size": size,
                           "proof": [p.hex() for p in merkle.inclusion_proof(leaves[:size], index)],
                           "root": roots[size]})  # fmt: skip
    submitter = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    result = encode(["uint64", "uint64", "address", "uint32", "uint64", "bytes32"],
                    [1234, 1_780_000_000, submitter, 7, 3, b"\x01" * 32])  # fmt: skip
    data = {
        "digests": [{"content": c, "digest": digest_hex(c)} for c in CONTENTS],
        "proofs": proofs,
        "selector": "0x" + Web3.keccak(text="getAnchor(bytes32)")[:4].hex().removeprefix("0x"),
        "owner_selector": "0x" + Web3.keccak(text="owner()")[:4].hex().removeprefix("0x"),
        "anchor": {"result": "0x" + result.hex(), "block": 1234, "timestamp": 1_780_000_000,
                   "submitter": submitter, "size": 7},
    }  # fmt: skip
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def test_the_browser_verifier_agrees_with_the_python_one(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    done = subprocess.run(
        [node, "--test", "static/test/verify.test.mjs"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"VERIFY_CASES": str(cases(tmp_path)), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "# pass 6" in done.stdout and "# fail 0" in done.stdout
