"""A TV recorded as ``display = "flat"`` before the display type was asked is anchored
history: it still reads, verifies, compares on a resend and is claimable; new input
names the type (issue 17, item 1)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id
from tests.support.ledger import anchor, statuses
from traceability.app import trace_of
from traceability.catalog.dismantling import dismantling_gaps
from traceability.catalog.models import DATA_DIR, Catalog, parse_catalog
from traceability.claims.rates import Rated, rate_device
from traceability.custody.facts import replay
from traceability.custody.models import Event


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {**settings, "ledger_mode": "memory"}


FLAT_42 = {"category": "tv", "attributes": {"display": "flat", "screen_in": 42}}


def catalog_before_display_types(tmp_path: Path) -> Catalog:
    """The catalogue as it was: "flat" a display value like any other."""
    data = tmp_path / "before"
    shutil.copytree(DATA_DIR, data)
    path = data / "catalog.toml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('values = ["crt", "lcd",', 'values = ["crt", "flat", "lcd",', 1)
    text = text.replace(', legacy = ["flat"]', "", 1)
    path.write_text(text, encoding="utf-8")
    return parse_catalog(data)


def collect(client: FlaskClient, actor: Actor, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/devices", json=body, headers=actor.headers)


def test_a_flat_tv_recorded_before_the_types_still_verifies_and_is_claimable(
    app: Flask, client: FlaskClient, plant: Actor, tmp_path: Path
) -> None:
    upgraded = trace_of(app)
    app.trace = dataclasses.replace(upgraded, catalog=catalog_before_display_types(tmp_path))
    first = {"id": new_id(), **FLAT_42}
    response = collect(client, plant, first)
    assert response.status_code == 201, response.get_json()
    qr_id = response.get_json()["qr_id"]
    handheld = Handheld(client, plant)
    handheld.record({"type": "received", "qr_id": qr_id, "weight_kg": "28"})
    outputs = {"pcb": "2", "pdp_panel": "12", "plastics": "6", "ferrous_metal": "6"}
    handheld.dismantle(qr_id, outputs)
    assert anchor(client, plant)["anchored"] >= 3

    app.trace = upgraded  # the new version, the same database and chain

    assert set(statuses(client, plant, qr_id)) == {"verified"}
    assert handheld.device(qr_id)["attributes"] == FLAT_42["attributes"]
    resent = collect(client, plant, {**first, "qr_id": qr_id})
    assert resent.status_code == 200, resent.get_json()  # the same event, not a refusal
    again = collect(client, plant, {"id": new_id(), **FLAT_42})
    assert again.status_code == 422
    assert again.get_json()["error"]["field"] == "attributes.display"

    with Session(upgraded.engine) as session:
        rows = session.exec(select(Event).where(Event.device == qr_id).order_by(col(Event.seq)))
        facts = replay(qr_id, list(rows))
    catalog = upgraded.catalog
    assert dismantling_gaps(catalog, "tv", facts.attributes, facts.outputs) == ()
    rated = rate_device(catalog, "tv", facts.attributes, dt.date(2023, 6, 1), "320500")
    assert isinstance(rated, Rated) and rated.tier.id == "tv_crt_25_up_or_flat"
