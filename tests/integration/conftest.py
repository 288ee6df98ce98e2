"""The app against a real JSON-RPC node: anvil and ganache, as a deployment would run it.

``settings`` switches the app to ``ledger_mode="rpc"`` with the node's dev keys
(owner ``[0]`` deploys the registry on first use, submitter ``[1]`` anchors).
Tests share the session-scoped nodes — every test's fresh database deploys a
registry of its own — except where a test stops, kills or resets its node:
those override ``ledger_node`` with ``private_node``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session

from ledger.chain import Web3Ledger
from ledger.node import DEV_KEYS, ManagedNode, NodeKind
from tests.conftest import Actor, manager_headers, new_id
from tests.custody.test_lifecycle import collect, post_events
from tests.ledger_fixtures import NODE_KINDS, require_node_binary
from traceability.anchoring.connection import open_ledger, read_meta
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.custody.models import Event
from traceability.db import Database


@pytest.fixture(params=NODE_KINDS)
def node_kind(request: pytest.FixtureRequest) -> NodeKind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def ledger_node(node_kind: NodeKind, request: pytest.FixtureRequest) -> ManagedNode:
    """The node the app talks to: the shared session node of this kind."""
    return request.getfixturevalue(f"{node_kind}_node")  # type: ignore[no-any-return]


@pytest.fixture
def private_node(node_kind: NodeKind, tmp_path: Path) -> Iterator[ManagedNode]:
    """A node of this test's own, for tests that kill, restart or reset it."""
    require_node_binary(node_kind)
    node = ManagedNode(node_kind, data_dir=tmp_path / "node").start()
    try:
        yield node
    finally:
        node.stop()


def rpc_settings(base: dict[str, Any], node: ManagedNode) -> dict[str, Any]:
    keys = DEV_KEYS[node.kind]
    return {
        **base,
        "ledger_mode": "rpc",
        "ledger_url": node.url,
        "ledger_owner_key": keys[0],
        "ledger_key": keys[1],
    }


@pytest.fixture
def settings(settings: dict[str, Any], ledger_node: ManagedNode) -> dict[str, Any]:
    return rpc_settings(settings, ledger_node)


# -- helpers ------------------------------------------------------------------


def make_device(
    client: FlaskClient, collector: Actor, plant: Actor, weight_kg: str = "30.5"
) -> str:
    """A device collected, shipped to ``plant`` and received there: three events."""
    qr_id = collect(client, collector)
    [shipped] = post_events(
        client, collector, {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    )
    [received] = post_events(
        client, plant, {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": weight_kg}
    )
    assert shipped["status"] == received["status"] == "created"
    return qr_id


def anchor(client: FlaskClient, actor: Actor) -> dict[str, Any]:
    """Anchor now, as a manager of ``actor``'s organisation."""
    response = client.post("/api/v1/anchors", headers=manager_headers(client, actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def verification(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}/verify", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def statuses(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    return [e["status"] for e in verification(client, actor, qr_id)["events"]]


def event_ids(client: FlaskClient, actor: Actor, qr_id: str) -> list[str]:
    response = client.get(f"/api/v1/devices/{qr_id}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return [e["id"] for e in response.get_json()["events"]]


def submitter(app: Flask) -> Web3Ledger:
    """The app's own submitter client, pointed at the registry it recorded."""
    with Session(Database.engine(app)) as session:
        contract = read_meta(session)["contract"]
    return open_ledger(app).submitter.at_address(contract)


@dataclass(frozen=True)
class Tally:
    events: int
    leaves: int
    distinct_leaves: int
    batches: int
    batch_sizes: int
    distinct_roots: int


def tally(app: Flask) -> Tally:
    """Counts that show whether every event sits in exactly one batch."""
    with Session(Database.engine(app)) as s:

        def one(query: Any) -> int:
            return int(s.execute(query).scalar_one())

        return Tally(
            events=one(select(func.count()).select_from(Event)),
            leaves=one(select(func.count()).select_from(AnchorLeaf)),
            distinct_leaves=one(select(func.count(func.distinct(AnchorLeaf.event_seq)))),
            batches=one(select(func.count()).select_from(AnchorBatch)),
            batch_sizes=one(select(func.coalesce(func.sum(AnchorBatch.size), 0))),
            distinct_roots=one(select(func.count(func.distinct(AnchorBatch.root)))),
        )
