"""The floor's steps through the API: a ``Handheld`` per person, and scenes of several steps."""

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
from traceability.app import trace_of
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


class Handheld:
    """One person's handheld on the floor: each method is a step through the API.

    ``Handheld(client, plant).receive(qr_id)`` is what the plant's operator's
    scan of a delivered device sends; each step asserts that the API took it.
    """

    def __init__(self, client: FlaskClient, actor: Actor) -> None:
        self.client = client
        self.actor = actor

    def post(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        """POST /events and return the per-item results (the request itself must succeed)."""
        response = self.client.post(
            "/api/v1/events", json={"events": list(events)}, headers=self.actor.headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["results"]  # type: ignore[no-any-return]

    def record(self, *events: dict[str, Any]) -> list[str]:
        """Like ``post``, but every item must be created; returns the digests."""
        events = tuple({"id": new_id(), **e} for e in events)
        results = self.post(*events)
        assert [r["status"] for r in results] == ["created"] * len(events), results
        return [r["digest"] for r in results]

    def collect(self, **fields: Any) -> str:
        """A CRT TV set (unless ``fields`` say otherwise) collected here; its QR ID."""
        response = self.client.post(
            "/api/v1/devices", json={**CRT_TV, **fields}, headers=self.actor.headers
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["qr_id"]  # type: ignore[no-any-return]

    def ship(self, qr_id: str, to: Actor) -> str:
        [digest] = self.record({"type": "shipped", "qr_id": qr_id, "to": to.org})
        return digest

    def receive(self, qr_id: str, weight_kg: Any = "30.5") -> str:
        [digest] = self.record({"type": "received", "qr_id": qr_id, "weight_kg": weight_kg})
        return digest

    def dismantle(self, qr_id: str, outputs: dict[str, Any], **extra: Any) -> str:
        [digest] = self.record(
            {
                "type": "dismantled",
                "qr_id": qr_id,
                **extra,
                "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
            }
        )
        return digest

    def device(self, qr_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/devices/{qr_id}", headers=self.actor.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def batch(self, code: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/batches/{code}", headers=self.actor.headers)
        assert response.status_code == 200, response.get_json()
        return json.loads(response.get_data(), parse_float=Decimal)  # type: ignore[no-any-return]


def receive(client: FlaskClient, collector: Actor, plant: Actor, weight_kg: Any = "30.5") -> str:
    """A device collected by ``collector``, shipped to ``plant`` and received there."""
    at_collector, at_plant = Handheld(client, collector), Handheld(client, plant)
    qr_id = at_collector.collect()
    at_collector.ship(qr_id, to=plant)
    at_plant.receive(qr_id, weight_kg)
    return qr_id


def make_device(
    client: FlaskClient, collector: Actor, plant: Actor, weight_kg: str = "30.5"
) -> str:
    """A device collected, shipped to ``plant`` and received there: three events."""
    qr_id = Handheld(client, collector).collect()
    [shipped] = Handheld(client, collector).post(
        {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
    )
    [received] = Handheld(client, plant).post(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": weight_kg}
    )
    assert shipped["status"] == received["status"] == "created"
    return qr_id


def premint(app: Flask, org: str, count: int = 1) -> list[str]:
    """Pre-printed label IDs issued to ``org`` (what a label sheet holds)."""
    ids = [mint_id() for _ in range(count)]
    with Session(trace_of(app).engine) as session:
        session.add_all(MintedId(qr_id=qr_id, org=org, sheet_id=None) for qr_id in ids)
        session.commit()
    return ids
