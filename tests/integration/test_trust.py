"""Trust anchors come from configuration, never from the plant's database (SPEC §3).

The adversary is the plant's database admin, who also holds the plant's
submitter key: whatever they rewrite in the database — events, batches,
``ledger_meta`` — and whatever they anchor with that key on a registry of
their own, verification must not say "verified".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, delete, select, update
from sqlmodel import Session

from ledger import merkle
from ledger.canonical import digest_hex
from ledger.chain import Web3Ledger
from ledger.node import ANVIL_DEV_KEYS, ManagedNode
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, make_device, new_id
from tests.support.ledger import anchor, event_ids, published_trust, regulator_app, verification
from traceability.anchoring.connection import open_ledger
from traceability.anchoring.models import AnchorBatch, AnchorLeaf, LedgerMeta
from traceability.app import trace_of
from traceability.cli import main
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.verification.completeness import check_and_record
from traceability.verification.services import content_of

pytestmark = pytest.mark.integration

EVENT = Event.__table__  # type: ignore[attr-defined]
LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]
BATCH = AnchorBatch.__table__  # type: ignore[attr-defined]
DEVICE = Device.__table__  # type: ignore[attr-defined]
META = LedgerMeta.__table__  # type: ignore[attr-defined]
OWNER_KEY, PLANT_KEY, OTHER_KEY = ANVIL_DEV_KEYS


@pytest.fixture
def ledger_node(anvil_node: ManagedNode) -> ManagedNode:
    return anvil_node


def invoke(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=trace_of(app), catch_exceptions=False)


def tamper(app: Flask, fn: Callable[[Connection], None]) -> None:
    """The attacker goes around the application, straight to the database."""
    with trace_of(app).engine.begin() as conn:
        fn(conn)


def badge(client: FlaskClient, qr_id: str) -> str:
    page = client.get(f"/d/{qr_id}").get_data(as_text=True)
    return page.split('data-verification="', 1)[1].split('"', 1)[0]


def test_forged_history_on_a_registry_of_the_db_admins_own_never_verifies(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    ledger_node: ManagedNode,
) -> None:
    qr_id = make_device(client, collector, plant, weight_kg="30")
    Handheld(client, plant).post({"id": new_id(), "type": "stored", "qr_id": qr_id, "area": "C"})
    anchor(client, plant)
    assert verification(client, plant, qr_id)["verified"] is True
    received, stored = event_ids(client, plant, qr_id)[2:4]

    # The admin rewrites the weight, recomputes the digests, the prev chain,
    # the batch leaves and root, and the device head ...
    forged_root: list[bytes] = []

    def forge(conn: Connection) -> None:
        rows = {r.id: r for r in conn.execute(select(EVENT).where(EVENT.c.device == qr_id))}
        assert rows[received].payload == {"weight_g": 30000}
        new = {**rows[received]._mapping, "payload": {"weight_g": 60000}}
        new_digest = digest_hex(content_of(SimpleNamespace(**new)))
        after = {**rows[stored]._mapping, "prev": new_digest}
        after_digest = digest_hex(content_of(SimpleNamespace(**after)))
        conn.execute(
            update(EVENT)
            .where(EVENT.c.id == received)
            .values(payload=new["payload"], digest=new_digest)
        )
        conn.execute(
            update(EVENT).where(EVENT.c.id == stored).values(prev=new_digest, digest=after_digest)
        )
        conn.execute(update(DEVICE).where(DEVICE.c.qr_id == qr_id).values(head_digest=after_digest))
        [batch] = conn.execute(select(BATCH)).all()
        leaves = [batch.leaves[i : i + 32] for i in range(0, len(batch.leaves), 32)]
        swap = {rows[received].digest: new_digest, rows[stored].digest: after_digest}
        leaves = [bytes.fromhex(swap.get(leaf.hex(), leaf.hex())) for leaf in leaves]
        forged_root.append(merkle.root(leaves))
        conn.execute(
            update(BATCH)
            .where(BATCH.c.id == batch.id)
            .values(root=forged_root[0].hex(), leaves=b"".join(leaves))
        )

    tamper(app, forge)

    # ... deploys a registry of their own with a fresh owner, grants the
    # plant's key, anchors the forged root there and repoints ledger_meta.
    own = Web3Ledger.from_rpc(ledger_node.url, private_key=OTHER_KEY, contract_address=None)
    registry = own.deploy_registry()
    own.grant_submitter(
        Web3Ledger.from_rpc(ledger_node.url, private_key=PLANT_KEY, contract_address=None).address
    )
    plant_key = Web3Ledger.from_rpc(
        ledger_node.url, private_key=PLANT_KEY, contract_address=registry
    )
    receipt = plant_key.wait_receipt(plant_key.send_anchor(forged_root[0], 4).tx_hash)
    assert receipt.status and plant_key.get_anchor(forged_root[0]) is not None

    def repoint(conn: Connection) -> None:
        conn.execute(update(META).where(META.c.key == "contract").values(value=registry))

    tamper(app, repoint)
    open_ledger(
        trace_of(app).ledger
    ).forget_check()  # no help from a warm cache: a fresh check says the same

    result = verification(client, plant, qr_id)
    assert result["verified"] is False
    assert "registry mismatch" in result["ledger_problem"]
    assert registry in result["ledger_problem"]

    every = invoke(app, "verify", "--all")
    assert every.exit_code == 1, every.output
    assert "registry mismatch" in every.output
    assert every.output.strip().splitlines()[-1] == "NOT VERIFIED"

    assert badge(client, qr_id) == "failed"

    blocked = client.post("/api/v1/anchors", headers=manager_headers(client, plant))
    assert blocked.status_code == 503
    assert "registry mismatch" in blocked.get_json()["error"]["message"]


def test_trust_anchors_are_public_and_match_the_trust_file(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, tmp_path: Path
) -> None:
    make_device(client, collector, plant)
    anchor(client, plant)

    body = client.get("/api/v1/ledger").get_json()  # no credentials

    published = published_trust(app)
    assert body["trust"] == published
    assert json.loads((tmp_path / "trust.json").read_text()) == published
    assert (
        body["submitter"]
        == published["submitters"][0]
        == open_ledger(trace_of(app).ledger).submitter.address
    )
    assert (
        published["owner"]
        == Web3Ledger.from_rpc("http://x", private_key=OWNER_KEY, contract_address=None).address
    )


def test_deleted_newest_event_is_found_without_any_key(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    settings: dict[str, Any],
    tmp_path: Path,
) -> None:
    victim = make_device(client, collector, plant)
    anchor(client, plant)
    bystander = make_device(client, collector, plant)
    anchor(client, plant)
    ids = event_ids(client, plant, victim)

    def forget_newest(conn: Connection) -> None:
        newest = conn.execute(select(EVENT).where(EVENT.c.id == ids[-1])).one()
        conn.execute(delete(LEAF).where(LEAF.c.event_seq == newest.seq))
        conn.execute(delete(EVENT).where(EVENT.c.seq == newest.seq))
        conn.execute(update(DEVICE).where(DEVICE.c.qr_id == victim).values(head_digest=newest.prev))

    tamper(app, forget_newest)

    # The device's own check: its batch holds fewer events than it anchored.
    result = verification(client, plant, victim)
    assert [e["status"] for e in result["events"]] == ["verified", "verified"]
    assert result["verified"] is False
    assert "lacks 1 anchored event(s)" in result["ledger_problem"]

    # A regulator with no key enumerates the plant's anchors on chain.
    plant_address = published_trust(app)["submitters"][0]
    with regulator_app(app, settings, tmp_path / "regulator") as regulator:
        every = invoke(regulator, "verify", "--all", "--submitter", plant_address)
    assert every.exit_code == 1, every.output
    assert f"anchors on chain by {plant_address}: 2" in every.output
    assert "1 anchored event(s) missing from the database" in every.output
    assert every.output.strip().splitlines()[-1] == "NOT VERIFIED"

    # The recorded completeness check fails every device, and /health shows it.
    settings_obj = trace_of(app).settings
    found = check_and_record(trace_of(app).engine, open_ledger(trace_of(app).ledger), settings_obj)
    assert not found.ok and sum(found.missing_events.values()) == 1
    health = client.get("/api/v1/health").get_json()["ledger"]["last_completeness_check"]
    assert health["ok"] is False and health["missing_events"] == 1
    other = verification(client, plant, bystander)
    assert other["verified"] is False
    assert "completeness check" in other["ledger_problem"]


def test_an_anchor_of_the_plants_root_by_another_authorised_key_does_not_count(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, ledger_node: ManagedNode
) -> None:
    qr_id = make_device(client, collector, plant)
    with Session(trace_of(app).engine) as session:
        digests = [d for (d,) in session.execute(select(EVENT.c.digest).order_by(EVENT.c.seq))]
    root = merkle.root([bytes.fromhex(d) for d in digests])
    trust = published_trust(app)  # sets up the registry; the plant has anchored nothing yet
    regulator = Web3Ledger.from_rpc(
        ledger_node.url, private_key=OWNER_KEY, contract_address=trust["registry"]
    )
    other = regulator.with_key(OTHER_KEY)
    regulator.grant_submitter(other.address)
    # Someone else authorised on the same registry anchors the plant's next root first.
    assert other.wait_receipt(other.send_anchor(root, len(digests)).tx_hash).status

    done = anchor(client, plant)  # the plant finds its root already on chain

    assert done["root"] == root.hex()
    result = verification(client, plant, qr_id)
    assert result["verified"] is False
    assert {e["status"] for e in result["events"]} == {"untrusted"}
    assert badge(client, qr_id) == "failed"
