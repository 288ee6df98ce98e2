"""``python -m ledger.verify``: a proof bundle checked against the chain, without the database."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from ledger.node import ManagedNode
from tests.conftest import Actor, new_id
from tests.custody.test_lifecycle import post_events
from tests.integration.conftest import anchor, make_device

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def proof(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}/proof", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Content-Disposition"].endswith(f'"{qr_id}-proof.json"')
    return response.get_json()  # type: ignore[no-any-return]


def run_verifier(
    bundle: dict[str, Any], rpc_url: str, tmp_path: Path, name: str = "bundle"
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", str(path), "--rpc", rpc_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture
def bundle(client: FlaskClient, collector: Actor, plant: Actor) -> dict[str, Any]:
    """An anchored device whose batch holds other devices' events too (non-empty proofs)."""
    qr_id = make_device(client, collector, plant, weight_kg="30.5")
    make_device(client, collector, plant)
    assert anchor(client, plant)["anchored"] == 6
    return proof(client, plant, qr_id)


def test_anchored_bundle_verifies_against_the_node(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path
) -> None:
    assert all(e["anchor"] and e["anchor"]["proof"] for e in bundle["events"])

    done = run_verifier(bundle, ledger_node.url, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert last_line(done) == "VERIFIED"
    assert done.stdout.count(" verified ") == 3


def test_one_changed_digit_of_content_is_tampered(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path
) -> None:
    forged = copy.deepcopy(bundle)
    received = forged["events"][2]["content"]
    assert received["payload"] == {"weight_g": 30500}
    received["payload"]["weight_g"] = 30509

    done = run_verifier(forged, ledger_node.url, tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"tampered          {received['id']}" in done.stdout
    assert last_line(done) == "NOT VERIFIED"


def test_changed_proof_element_fails(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path
) -> None:
    forged = copy.deepcopy(bundle)
    proof_path = forged["events"][0]["anchor"]["proof"]
    element = proof_path[0]
    proof_path[0] = ("1" if element[0] != "1" else "2") + element[1:]

    done = run_verifier(forged, ledger_node.url, tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "tampered" in done.stdout and "Merkle proof" in done.stdout
    assert last_line(done) == "NOT VERIFIED"


def test_a_different_fresh_chain_does_not_verify(
    bundle: dict[str, Any], node_kind: str, tmp_path: Path
) -> None:
    other = ManagedNode(node_kind, data_dir=tmp_path / "elsewhere").start()  # type: ignore[arg-type]
    try:
        done = run_verifier(bundle, other.url, tmp_path)
    finally:
        other.stop()

    # A fresh chain holds no registry at all: the verifier says so and fails (exit 2).
    assert done.returncode == 2, done.stdout + done.stderr
    assert "verification failed" in done.stderr and "no registry" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pending_event_does_not_verify(
    client: FlaskClient, collector: Actor, plant: Actor, ledger_node: ManagedNode, tmp_path: Path
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)
    post_events(client, plant, {"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "C"})
    bundle = proof(client, plant, qr_id)
    assert bundle["events"][-1]["anchor"] is None

    done = run_verifier(bundle, ledger_node.url, tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "pending" in done.stdout
    assert done.stdout.count(" verified ") == 3
    assert last_line(done) == "NOT VERIFIED"
