"""Claims run against a real anvil node (the app in rpc mode), with the demo's EXAMPLE
deployment schedule so that 2024-and-later dates have a schedule in force."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from ledger.node import ManagedNode
from tests.claims.quarter import ELIGIBLE, EXAMPLE_RATES, EXCLUDED, FLAT_OUT, Quarter, at
from tests.ledger_fixtures import require_node_binary
from tests.support.accounts import Actor
from tests.support.databases import edit_row
from tests.support.floor import Handheld
from tests.support.ledger import rpc_settings
from traceability.app import trace_of
from traceability.custody.models import Event

ROOT = Path(__file__).parents[2]


@pytest.fixture
def settings(settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    base = {**settings, "rate_schedules": ROOT / EXAMPLE_RATES}
    if request.node.get_closest_marker("integration") is None:
        return base
    require_node_binary("anvil")
    node: ManagedNode = request.getfixturevalue("anvil_node")
    return rpc_settings(base, node)


@pytest.fixture
def quarter(
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    processor: Actor,
    make_actor: Callable[..., Actor],
) -> Quarter:
    """The plant's 2026Q3: eligible devices, excluded ones, lots shipped and confirmed, anchored."""
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
