"""``python -m ledger.verify``: a proof bundle checked against the chain, without the database."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ledger.node import ManagedNode
from tests.ledger_fixtures import ANVIL_ONLY
from tests.support.accounts import Actor
from tests.support.floor import Handheld, make_device, new_id
from tests.support.ledger import anchor
from traceability.app import trace_of
from traceability.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def proof(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}/proof", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Content-Disposition"].endswith(f'"{qr_id}-proof.json"')
    return response.get_json()  # type: ignore[no-any-return]


def published_trust(app: Flask, tmp_path: Path) -> Path:
    """The trust file the regulator publishes (``traceability ledger trust``)."""
    done = CliRunner().invoke(main, ["ledger", "trust"], obj=trace_of(app), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    path = tmp_path / "trust.published.json"
    path.write_text(done.output, encoding="utf-8")
    return path


def run_verifier(
    bundle: dict[str, Any],
    rpc_url: str,
    tmp_path: Path,
    name: str = "bundle",
    *,
    trust: Path | None,
    extra: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    trusting = ("--trust", str(trust)) if trust is not None else ()
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", str(path), "--rpc", rpc_url, *trusting, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture
def trust(app: Flask, tmp_path: Path) -> Path:
    return published_trust(app, tmp_path)


@pytest.fixture
def bundle(client: FlaskClient, collector: Actor, plant: Actor) -> dict[str, Any]:
    """An anchored device whose batch holds other devices' events too (non-empty proofs)."""
    qr_id = make_device(client, collector, plant, weight_kg="30.5")
    make_device(client, collector, plant)
    assert anchor(client, plant)["anchored"] == 6 + 2  # and the register's two events
    return proof(client, plant, qr_id)


def test_anchored_bundle_verifies_against_the_node(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    assert all(e["anchor"] and e["anchor"]["proof"] for e in bundle["events"])

    done = run_verifier(bundle, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 0, done.stdout + done.stderr
    assert last_line(done) == "VERIFIED"
    assert done.stdout.count(" verified ") == 3
    head = bundle["events"][-1]["digest"]
    assert f"proved: events 1–3 of {bundle['subject']['device']}'s history" in done.stdout
    assert f"whose head at event 3 is {head}" in done.stdout


@ANVIL_ONLY
def test_a_truncated_bundle_says_what_it_proves_and_fails_if_it_claims_to_be_whole(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    claims_whole = copy.deepcopy(bundle)
    del claims_whole["events"][-1]  # the latest event (the receipt) dropped

    done = run_verifier(claims_whole, ledger_node.url, tmp_path, "whole", trust=trust)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "claims the whole history (3 events" in done.stdout
    assert "holds 2 event(s)" in done.stdout
    assert last_line(done) == "NOT VERIFIED"

    # Without the claim, the same two events verify, and the verifier says they are
    # a prefix of the history, not the history.
    prefix = copy.deepcopy(claims_whole)
    del prefix["history"]
    done = run_verifier(prefix, ledger_node.url, tmp_path, "prefix", trust=trust)
    assert done.returncode == 0, done.stdout + done.stderr
    head = prefix["events"][-1]["digest"]
    assert (
        f"events 1–2 of {prefix['subject']['device']}'s history, whose head at event 2 is {head}"
        in done.stdout
    )
    assert "does not claim to be the whole history: later events may exist" in done.stdout


@ANVIL_ONLY
def test_one_changed_digit_of_content_is_tampered(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    forged = copy.deepcopy(bundle)
    received = forged["events"][2]["content"]
    assert received["payload"] == {"weight_g": 30500}
    received["payload"]["weight_g"] = 30509

    done = run_verifier(forged, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"tampered          {received['id']}" in done.stdout
    assert last_line(done) == "NOT VERIFIED"


@ANVIL_ONLY
def test_changed_proof_element_fails(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    forged = copy.deepcopy(bundle)
    proof_path = forged["events"][0]["anchor"]["proof"]
    element = proof_path[0]
    proof_path[0] = ("1" if element[0] != "1" else "2") + element[1:]

    done = run_verifier(forged, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "tampered" in done.stdout and "Merkle proof" in done.stdout
    assert last_line(done) == "NOT VERIFIED"


def test_a_different_fresh_chain_does_not_verify(
    bundle: dict[str, Any], node_kind: str, tmp_path: Path, trust: Path
) -> None:
    other = ManagedNode(node_kind, data_dir=tmp_path / "elsewhere").start()  # type: ignore[arg-type]
    try:
        done = run_verifier(bundle, other.url, tmp_path, trust=trust)
    finally:
        other.stop()

    # Another chain is not the trusted one (its genesis differs): refused (exit 2).
    assert done.returncode == 2, done.stdout + done.stderr
    assert "verification refused" in done.stderr and "genesis" in done.stderr
    assert "Traceback" not in done.stderr


@ANVIL_ONLY
def test_a_pending_event_does_not_verify(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    ledger_node: ManagedNode,
    tmp_path: Path,
    trust: Path,
) -> None:
    qr_id = make_device(client, collector, plant)
    anchor(client, plant)
    Handheld(client, plant).post({"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "C"})
    bundle = proof(client, plant, qr_id)
    assert bundle["events"][-1]["anchor"] is None

    done = run_verifier(bundle, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "pending" in done.stdout
    assert done.stdout.count(" verified ") == 3
    assert last_line(done) == "NOT VERIFIED"


# -- what the verifier trusts comes from its arguments, never from the bundle ----


@ANVIL_ONLY
def test_without_trust_arguments_it_refuses(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path
) -> None:
    done = run_verifier(bundle, ledger_node.url, tmp_path, trust=None)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to verify" in done.stderr and "--trust" in done.stderr
    assert "VERIFIED" not in done.stdout


@ANVIL_ONLY
def test_a_bundle_relabelled_to_another_device_is_refused(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    bundle: dict[str, Any],
    ledger_node: ManagedNode,
    tmp_path: Path,
    trust: Path,
) -> None:
    other = make_device(client, collector, plant)
    relabelled = copy.deepcopy(bundle)
    relabelled["subject"] = {"device": other}  # device Y's anchored events shown as X's

    done = run_verifier(relabelled, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "verification refused" in done.stderr
    assert f"not to the bundle's subject '{other}'" in done.stderr


@ANVIL_ONLY
def test_a_bundle_naming_a_foreign_registry_is_refused(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    foreign = copy.deepcopy(bundle)
    foreign["chain"]["contract"] = "0x" + "ab" * 20

    done = run_verifier(foreign, ledger_node.url, tmp_path, trust=trust)

    assert done.returncode == 2, done.stdout + done.stderr
    assert "the bundle names registry" in done.stderr
    assert last_line(done) == "NOT VERIFIED"


@ANVIL_ONLY
def test_an_anchor_by_an_unlisted_submitter_does_not_verify(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    someone_else = "0x" + "12" * 20

    done = run_verifier(
        bundle, ledger_node.url, tmp_path, trust=trust, extra=("--submitter", someone_else)
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("untrusted ") == 3
    assert "not an accepted submitter" in done.stdout
    assert last_line(done) == "NOT VERIFIED"


@ANVIL_ONLY
def test_contract_and_submitter_arguments_replace_a_trust_file(
    bundle: dict[str, Any], ledger_node: ManagedNode, tmp_path: Path, trust: Path
) -> None:
    published = json.loads(trust.read_text(encoding="utf-8"))
    args = ("--contract", published["registry"], "--submitter", published["submitters"][0])

    done = run_verifier(bundle, ledger_node.url, tmp_path, trust=None, extra=args)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "not checked (not given): chain id, genesis hash, owner" in done.stdout
    assert last_line(done) == "VERIFIED"
