"""The forgery a plant's database admin can actually attempt: rewrite history and
re-anchor it on the trusted registry with the plant's own submitter key.

Every digest, chain link and Merkle proof of the rewritten records then checks
out and the new root is on chain. What cannot be rewritten is the chain's
list of every root the plant ever anchored: the original root is still there,
and the database no longer accounts for it. A regulator with no key finds
that, and once the worker's completeness check has run, no device verifies.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from ledger import merkle
from ledger.canonical import digest_hex
from ledger.node import ManagedNode, NodeKind
from tests.support.accounts import Actor
from tests.support.floor import make_device
from tests.support.ledger import anchor, event_ids, published_trust, regulator_app, verification
from traceability.anchoring.connection import open_ledger
from traceability.anchoring.models import AnchorBatch
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.verification.completeness import check_and_record
from traceability.verification.services import content_of

pytestmark = pytest.mark.integration

EVENT = Event.__table__  # type: ignore[attr-defined]
BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]
DEVICE = Device.__table__  # type: ignore[attr-defined]


@pytest.fixture
def node_kind() -> NodeKind:
    return "anvil"


def _rewrite_intake_weight(app: Flask, qr_id: str, received_id: str) -> str:
    """30 kg → 60 kg, with digest, device head, batch leaves and root recomputed.

    The batch goes back to ``pending`` so the worker anchors the forged root
    with the plant's key. Returns the root the chain still holds.
    """
    with trace_of(app).engine.begin() as conn:
        row = conn.execute(select(EVENT).where(EVENT.c.id == received_id)).one()
        assert row.payload == {"weight_g": 30_000}
        forged = {**row._mapping, "payload": {"weight_g": 60_000}}
        digest = digest_hex(content_of(SimpleNamespace(**forged)))
        conn.execute(
            update(EVENT)
            .where(EVENT.c.id == received_id)
            .values(payload=forged["payload"], digest=digest)
        )
        conn.execute(update(DEVICE).where(DEVICE.c.qr_id == qr_id).values(head_digest=digest))
        [batch] = conn.execute(select(BATCH)).all()
        leaves = [batch.leaves[i : i + 32] for i in range(0, len(batch.leaves), 32)]
        leaves = [bytes.fromhex(digest) if leaf.hex() == row.digest else leaf for leaf in leaves]
        conn.execute(
            update(BATCH)
            .where(BATCH.c.id == batch.id)
            .values(
                root=merkle.root(leaves).hex(),
                leaves=b"".join(leaves),
                state="pending",
                tx_hash=None,
                block_number=None,
                block_hash=None,
            )
        )
        return str(batch.root)


def test_history_rewritten_and_reanchored_with_the_plants_key_is_found(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    settings: dict[str, Any],
    tmp_path: Path,
    ledger_node: ManagedNode,
) -> None:
    qr_id = make_device(client, collector, plant, weight_kg="30")
    bystander = make_device(client, collector, plant, weight_kg="12")
    anchor(client, plant)
    received_id = event_ids(client, plant, qr_id)[2]

    original_root = _rewrite_intake_weight(app, qr_id, received_id)
    anchor(client, plant)  # the worker anchors the forged root: the key is the plant's

    detail = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    assert detail["received_weight_kg"] == 60  # the forged figure, cryptographically sound

    # A regulator, holding no key and trusting only the published trust file,
    # enumerates every anchor the plant ever made: the original root is there.
    plant_address = published_trust(app)["submitters"][0]
    with regulator_app(app, settings, tmp_path / "regulator") as regulator:
        found = CliRunner().invoke(
            main, ["verify", "--all", "--submitter", plant_address], obj=trace_of(regulator)
        )
    assert found.exit_code == 1, found.output
    assert f"batch {original_root} is anchored on chain but missing from the database" in (
        found.output
    )

    # The worker's scheduled check finds the same, and from then on nothing verifies.
    check = check_and_record(
        trace_of(app).engine, open_ledger(trace_of(app).ledger), trace_of(app).settings
    )
    assert check.missing_batches == [original_root]
    for device in (qr_id, bystander):
        result = verification(client, plant, device)
        assert result["verified"] is False
        assert "completeness check" in result["ledger_problem"]
    assert (
        client.get("/api/v1/health").get_json()["ledger"]["last_completeness_check"]["ok"] is False
    )
