"""The floor's steps through the API: collect, ship, receive, dismantle, and reading back."""

from __future__ import annotations

import json
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.support.accounts import Actor
from traceability.db import Database
from traceability.labels.ids import mint_id
from traceability.labels.models import MintedId


def new_id() -> str:
    return str(uuid.uuid4())


CATALOG_DATA = Path(__file__).parents[2] / "traceability" / "catalog" / "data"


CRT_TV: dict[str, Any] = {"category": "tv", "attributes": {"display": "crt", "screen_in": 21}}


OUTPUTS = {"pcb": "1.5", "plastics": "3"}  # what a CRT TV set is usually dismantled into


def catalog_toml() -> dict[str, Any]:
    with (CATALOG_DATA / "catalog.toml").open("rb") as f:
        return tomllib.load(f)


def factors_toml() -> dict[str, Any]:
    with (CATALOG_DATA / "factors.toml").open("rb") as f:
        return tomllib.load(f, parse_float=Decimal)


def post_events(client: FlaskClient, actor: Actor, *events: dict[str, Any]) -> list[dict]:
    """POST /events and return the per-item results (the request itself must succeed)."""
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]  # type: ignore[no-any-return]


def record(client: FlaskClient, actor: Actor, *events: dict[str, Any]) -> list[str]:
    """Like post_events, but every item must be created; returns the digests."""
    events = tuple({"id": new_id(), **e} for e in events)
    results = post_events(client, actor, *events)
    assert [r["status"] for r in results] == ["created"] * len(events), results
    return [r["digest"] for r in results]


def collect(client: FlaskClient, actor: Actor, **fields: Any) -> str:
    """A CRT TV set (unless ``fields`` say otherwise) collected by ``actor``; its QR ID."""
    response = client.post("/api/v1/devices", json={**CRT_TV, **fields}, headers=actor.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["qr_id"]  # type: ignore[no-any-return]


def receive(client: FlaskClient, collector: Actor, plant: Actor, weight_kg: Any = "30.5") -> str:
    """A device collected by ``collector``, shipped to ``plant`` and received there."""
    qr_id = collect(client, collector)
    record(client, collector, {"type": "shipped", "qr_id": qr_id, "to": plant.org})
    record(client, plant, {"type": "received", "qr_id": qr_id, "weight_kg": weight_kg})
    return qr_id


def dismantle(
    client: FlaskClient, plant: Actor, qr_id: str, outputs: dict[str, Any], **extra: Any
) -> str:
    [digest] = record(
        client,
        plant,
        {
            "type": "dismantled",
            "qr_id": qr_id,
            **extra,
            "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
        },
    )
    return digest


def device(client: FlaskClient, actor: Actor, qr_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/devices/{qr_id}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def batch(client: FlaskClient, actor: Actor, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{code}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    return json.loads(response.get_data(), parse_float=Decimal)  # type: ignore[no-any-return]


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


def premint(app: Flask, org: str, count: int = 1) -> list[str]:
    """Pre-printed label IDs issued to ``org`` (what a label sheet holds)."""
    ids = [mint_id() for _ in range(count)]
    with Session(Database.engine(app)) as session:
        session.add_all(MintedId(qr_id=qr_id, org=org, sheet_id=None) for qr_id in ids)
        session.commit()
    return ids
