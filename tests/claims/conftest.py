"""Claims run against a real anvil node (the app in rpc mode), with the demo's EXAMPLE
deployment schedule so that 2024-and-later dates have a schedule in force."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import SQLModel

from ledger.node import ManagedNode, node_rpc, set_chain_time
from tests.claims.quarter import ELIGIBLE, EXAMPLE_RATES, EXCLUDED, FLAT_OUT, Quarter, at
from tests.ledger_fixtures import require_node_binary
from tests.support.accounts import Actor, add_actor
from tests.support.databases import (
    DatabaseTemplate,
    default_settings,
    edit_row,
    template_database,
)
from tests.support.floor import Handheld
from tests.support.ledger import rpc_settings
from traceability import create_app
from traceability.anchoring.connection import TRUST_FILE
from traceability.app import trace_of
from traceability.custody.models import Event

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def claims_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNode]:
    """An anvil of the claims tests' own (per xdist worker): the quarter's chain, which
    each test that uses the quarter reverts to the state the quarter left it in."""
    require_node_binary("anvil")
    with ManagedNode("anvil", data_dir=tmp_path_factory.mktemp("claims-node")) as node:
        yield node


@dataclass
class QuarterTemplate:
    database: DatabaseTemplate  # the quarter, anchored; tests get copies
    collector: Actor
    plant: Actor
    processor: Actor
    devices: dict[str, str]
    chain_snapshot: str  # the claims node's state once the quarter was anchored
    data_dir: Path  # where the app wrote the registry's trust file when it deployed it


@pytest.fixture(scope="session")
def quarter_template(
    tmp_path_factory: pytest.TempPathFactory, claims_node: ManagedNode
) -> Iterator[QuarterTemplate]:
    """The quarter, built once per xdist worker through the API and anchored."""
    directory = tmp_path_factory.mktemp("quarter")
    with template_database(directory) as template:
        base = {**default_settings(template.url, directory), "rate_schedules": ROOT / EXAMPLE_RATES}
        app = create_app(rpc_settings(base, claims_node))
        engine = trace_of(app).engine
        SQLModel.metadata.create_all(engine)
        try:
            actors = (
                add_actor(app, "COL-SZ", "collector"),
                add_actor(app, "DIS-SZ", "dismantler"),
                add_actor(app, "PRO-SZ", "processor"),
            )
            q = build_quarter(app.test_client(), *actors)
        finally:
            engine.dispose()  # a PostgreSQL template must have no connection left
        snapshot = node_rpc(claims_node.url, "evm_snapshot")
        yield QuarterTemplate(template, *actors, dict(q.devices), snapshot, directory)


@pytest.fixture
def database_template(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseTemplate | None:
    """Tests that use the quarter start from a copy of its database and its trust file,
    on its chain as it was (reverted: what earlier tests anchored is gone)."""
    if "quarter" not in request.fixturenames:
        return None
    template: QuarterTemplate = request.getfixturevalue("quarter_template")
    shutil.copy(template.data_dir / TRUST_FILE, tmp_path / TRUST_FILE)
    node: ManagedNode = request.getfixturevalue("claims_node")
    assert node_rpc(node.url, "evm_revert", template.chain_snapshot) is True
    template.chain_snapshot = node_rpc(node.url, "evm_snapshot")  # a revert uses its snapshot up
    # A revert takes the node's clock back to the snapshot's: blocks would then be timed
    # before the events the test records now (the app lives in the machine's time), and a
    # block timed before an event's recording makes it `late`. Its next blocks start now.
    set_chain_time(node.url, int(time.time()))
    return template.database


@pytest.fixture
def settings(settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    base = {**settings, "rate_schedules": ROOT / EXAMPLE_RATES}
    if request.node.get_closest_marker("integration") is None:
        return base
    require_node_binary("anvil")
    if "quarter" in request.fixturenames:
        return rpc_settings(base, request.getfixturevalue("claims_node"))
    node: ManagedNode = request.getfixturevalue("anvil_node")
    return rpc_settings(base, node)


def _template_actor(name: str) -> Callable[..., Actor]:
    """``collector``, ``plant``, ``processor``: the quarter's own in a test that uses it."""

    def actor(request: pytest.FixtureRequest, make_actor: Callable[..., Actor]) -> Actor:
        if "quarter" in request.fixturenames:
            return getattr(request.getfixturevalue("quarter_template"), name)  # type: ignore[no-any-return]
        return make_actor(*ACTORS[name])

    return actor


ACTORS = {
    "collector": ("COL-SZ", "collector"),
    "plant": ("DIS-SZ", "dismantler"),
    "processor": ("PRO-SZ", "processor"),
}
collector = pytest.fixture(_template_actor("collector"), name="collector")
plant = pytest.fixture(_template_actor("plant"), name="plant")
processor = pytest.fixture(_template_actor("processor"), name="processor")


@pytest.fixture
def quarter(
    quarter_template: QuarterTemplate,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    processor: Actor,
) -> Quarter:
    """The plant's 2026Q3: eligible devices, excluded ones, lots shipped and confirmed,
    anchored (a copy of the quarter built once per worker: see ``build_quarter``)."""
    return Quarter(client, collector, plant, processor, dict(quarter_template.devices))


def build_quarter(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    """The plant's 2026Q3 through the API: eligible devices, excluded ones, lots shipped
    and confirmed, anchored; then a pending correction, a tampered and an edited row."""
    q = Quarter(client, collector, plant, processor)
    for n, (name, (category, attrs, kg, outputs, _)) in enumerate({**ELIGIBLE, **EXCLUDED}.items()):
        q.device(name, category, attrs, kg, outputs, f"2026-08-{3 + n % 20:02d}T10:00:00")
    # Dismantled in the first minutes of the next quarter in Beijing (still 2026-09-30 in UTC).
    q.device(
        "next_quarter",
        "tv",
        {"display": "lcd", "backlight": "led", "screen_in": 32},
        "10",
        {"pcb": "1", "lcd_panel": "3"},
        "2026-10-01T01:00:00",
    )
    q.ship_and_confirm_lots()
    # Hazardous pcb in a lot that is shipped but never confirmed by the processor.
    q.device(
        "unconfirmed",
        "tv",
        {"display": "lcd", "backlight": "led", "screen_in": 40},
        "11",
        FLAT_OUT,
        "2026-09-10T10:00:00",
    )
    q.ship_and_confirm_lots(confirm=False)
    q.device(
        "tampered",
        "tv",
        {"display": "lcd", "backlight": "led", "screen_in": 50},
        "14",
        FLAT_OUT,
        "2026-09-11T10:00:00",
    )
    q.device(
        "pending",
        "tv",
        {"display": "lcd", "backlight": "led", "screen_in": 55},
        "15",
        FLAT_OUT,
        "2026-09-12T10:00:00",
    )
    q.ship_and_confirm_lots()
    assert q.anchor()["anchored"] > 0
    # After anchoring: a correction leaves one device with an unanchored event...
    Handheld(client, plant).record(
        {
            "type": "corrected",
            "qr_id": q.devices["pending"],
            "corrects": _dismantled_event(client, plant, q.devices["pending"]),
            "reason": "line mistyped",
            "fields": {"line": "L2"},
        },
    )
    # ...and a DB administrator edits another device's dismantling after it was anchored.
    _tamper(client.application, q.devices["tampered"])
    # A row edited to put a device of the next quarter into this one.
    edit_row(
        client.application, q.devices["next_quarter"], dismantled_at=_utc("2026-09-30T12:00:00")
    )
    return q


def _utc(beijing: str) -> dt.datetime:
    return dt.datetime.fromisoformat(at(beijing)).astimezone(dt.UTC)


def _dismantled_event(client: FlaskClient, plant: Actor, qr_id: str) -> str:
    events = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()["events"]
    return next(e["id"] for e in events if e["type"] == "dismantled")


def _tamper(app: Flask, qr_id: str) -> None:
    table = Event.__table__  # type: ignore[attr-defined]
    with trace_of(app).engine.begin() as conn:
        row = conn.execute(
            table.select().where(table.c.device == qr_id, table.c.type == "dismantled")
        ).one()
        payload = dict(row.payload)
        payload["outputs"] = [{"fraction": "pcb", "weight_g": 2000}, *payload["outputs"][1:]]
        conn.execute(update(table).where(table.c.id == row.id).values(payload=payload))
