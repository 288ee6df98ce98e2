"""The committed artifact is what the pinned compiler makes of the committed source."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ledger.chain import Web3Ledger, default_artifact_path, load_artifact

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None or not (CONTRACTS / "node_modules" / "solc").is_dir():
        pytest.skip("node or contracts/node_modules/solc missing; `make test` installs them")
    return node


def run_check(node: str, contracts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(contracts / "compile.js"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_artifact_matches_a_fresh_compile() -> None:
    result = run_check(node_or_skip(), CONTRACTS)
    assert result.returncode == 0, result.stderr


def test_check_fails_when_the_artifact_is_stale(tmp_path: Path) -> None:
    """Guards the guard: --check must notice a bytecode that no longer matches."""
    node = node_or_skip()
    copy = tmp_path / "contracts"
    (copy / "build").mkdir(parents=True)
    for name in ("compile.js", "AnchorRegistry.sol", "package.json"):
        shutil.copy(CONTRACTS / name, copy / name)
    (copy / "node_modules").symlink_to(CONTRACTS / "node_modules")
    artifact = load_artifact()
    artifact["deployedBytecode"] = artifact["deployedBytecode"][:-2] + "00"
    (copy / "build" / "AnchorRegistry.json").write_text(json.dumps(artifact))

    result = run_check(node, copy)

    assert result.returncode == 1
    assert "deployedBytecode" in result.stderr


def test_artifact_records_the_pinned_compiler_and_source() -> None:
    artifact = load_artifact()
    source = (CONTRACTS / "AnchorRegistry.sol").read_bytes()
    pinned = json.loads((CONTRACTS / "package.json").read_text())["devDependencies"]["solc"]

    assert artifact["sourceSha256"] == hashlib.sha256(source).hexdigest()
    assert artifact["compiler"]["version"].startswith(pinned + "+")
    assert artifact["settings"] == {
        "optimizer": {"enabled": True, "runs": 200},
        "evmVersion": "shanghai",
    }
    assert default_artifact_path().is_file()


def test_deployed_code_equals_the_artifact_runtime_bytecode() -> None:
    ledger = Web3Ledger.in_process()
    ledger.deploy_registry()
    assert ledger.contract_code_matches()


def test_code_from_another_build_does_not_match() -> None:
    artifact = load_artifact()
    altered = dict(artifact, deployedBytecode=artifact["deployedBytecode"][:-2] + "00")
    ledger = Web3Ledger.in_process(artifact=altered)
    ledger.deploy_registry()  # the real creation code, compared with a wrong runtime code
    assert ledger.contract_code_matches() is False
