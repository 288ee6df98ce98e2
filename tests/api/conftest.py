"""Fixtures for the API tests: a small world of organisations and devices built through the API.

Everything here goes through HTTP (the Flask test client) except creating
organisations, users and tokens, which the API does not expose.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from tests.conftest import Actor, new_id
from traceability.accounts.services import revoke_token
from traceability.db import Database
from traceability.lots.models import Lot
from traceability.models import metadata

CATALOG_DATA = Path(__file__).parents[2] / "traceability" / "catalog" / "data"
CRT_TV: dict[str, Any] = {"category": "tv", "attributes": {"display": "crt", "screen_in": 21}}


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
    return response.get_json()["results"]


def record(client: FlaskClient, actor: Actor, *events: dict[str, Any]) -> list[str]:
    """Like post_events, but every item must be created; returns the digests."""
    events = tuple({"id": new_id(), **e} for e in events)
    results = post_events(client, actor, *events)
    assert [r["status"] for r in results] == ["created"] * len(events), results
    return [r["digest"] for r in results]


def collect(client: FlaskClient, actor: Actor, **fields: Any) -> str:
    response = client.post("/api/v1/devices", json={**CRT_TV, **fields}, headers=actor.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["qr_id"]


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
    return response.get_json()


@dataclass
class World:
    """Organisations (Suzhou unless said otherwise), their users and devices in every state."""

    collector: Actor  # COL-SZ operator
    plant: Actor  # DIS-SZ operator
    plant_manager: Actor  # DIS-SZ manager
    plant_bj: Actor  # DIS-BJ operator, Beijing (110000)
    processor: Actor  # PRO-SZ operator
    auditor: Actor  # REG-JS auditor, Jiangsu (320000)
    auditor_bj: Actor  # REG-BJ auditor, Beijing (110000)
    admin: Actor  # SYS admin, Jiangsu (320000): reads Suzhou, not Beijing
    at_collector: str  # collected by COL-SZ
    in_transit: str  # collected by COL-SZ, shipped to DIS-SZ
    plant_collected: str  # collected by DIS-SZ itself, not yet received
    received: str  # received at DIS-SZ
    dismantled: str  # dismantled at DIS-SZ into open lots (pcb, plastics)
    bj_device: str  # received at DIS-BJ
    collected_event: str  # id of COL-SZ's `collected` event of at_collector
    shipped_event: str  # id of COL-SZ's `shipped` event of in_transit
    pcb_lot: str  # DIS-SZ's open pcb lot
    shipped_lot: str  # DIS-SZ's plastics lot, shipped to PRO-SZ
    received_lot: str  # DIS-SZ's copper lot, received by PRO-SZ
    # Ids of DIS-SZ's received/stored/dismantled events of `dismantled`, its
    # lot_shipped of shipped_lot and PRO-SZ's lot_received of received_lot.
    event_ids: dict[str, str]
    revoked: Actor  # DIS-SZ operator whose token has been revoked
    max_content_length: int  # the app's request body limit
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(client: FlaskClient, make_actor: Callable[..., Actor], session: Session) -> World:
    collector = make_actor("COL-SZ", "collector")
    plant = make_actor("DIS-SZ", "dismantler")
    plant_bj = make_actor("DIS-BJ", "dismantler", region="110000")
    processor = make_actor("PRO-SZ", "processor")
    at_collector = collect(client, collector)
    detail = device(client, collector, at_collector)
    in_transit = collect(client, collector)
    shipped_event = new_id()
    record(
        client,
        collector,
        {"id": shipped_event, "type": "shipped", "qr_id": in_transit, "to": plant.org},
    )
    plant_collected = collect(client, plant)
    dismantled = collect(client, plant)
    event_ids = {t: new_id() for t in ("received", "stored", "dismantled")}
    event_ids |= {"lot_shipped": new_id(), "lot_received": new_id()}
    record(
        client,
        plant,
        {"id": event_ids["received"], "type": "received", "qr_id": dismantled, "weight_kg": 31},
        {"id": event_ids["stored"], "type": "stored", "qr_id": dismantled, "area": "A-1"},
    )
    outputs = {"pcb": 2, "plastics": 5, "copper": 1}
    dismantle(client, plant, dismantled, outputs, id=event_ids["dismantled"])
    revoked = make_actor("DIS-SZ", "dismantler")
    with Session(Database.engine(client.application)) as s:
        revoke_token(session=s, token=revoked.token)
        s.commit()
    bj_device = collect(client, plant_bj)
    record(client, plant_bj, {"type": "received", "qr_id": bj_device, "weight_kg": 20})
    lot_codes = dict(session.exec(select(Lot.fraction, Lot.code).where(Lot.org == plant.org)).all())
    session.rollback()  # end the read, so the test's session sees later commits
    for fraction, event_id in (("plastics", event_ids["lot_shipped"]), ("copper", new_id())):
        lot = {"id": event_id, "type": "lot_shipped", "lot": lot_codes[fraction]}
        record(client, plant, {**lot, "to": processor.org, "manifest_no": f"M-{fraction}"})
    lot = {"id": event_ids["lot_received"], "type": "lot_received", "lot": lot_codes["copper"]}
    record(client, processor, {**lot, "weight_kg": 1})
    return World(
        collector=collector,
        plant=plant,
        plant_manager=make_actor("DIS-SZ", "dismantler", role="manager"),
        plant_bj=plant_bj,
        processor=processor,
        auditor=make_actor("REG-JS", "regulator", role="auditor", region="320000"),
        auditor_bj=make_actor("REG-BJ", "regulator", role="auditor", region="110000"),
        admin=make_actor("SYS", "regulator", role="admin", region="320000"),  # Jiangsu
        at_collector=at_collector,
        in_transit=in_transit,
        plant_collected=plant_collected,
        received=receive(client, collector, plant),
        dismantled=dismantled,
        bj_device=bj_device,
        collected_event=detail["events"][0]["id"],
        shipped_event=shipped_event,
        pcb_lot=lot_codes["pcb"],
        shipped_lot=lot_codes["plastics"],
        received_lot=lot_codes["copper"],
        event_ids=event_ids,
        revoked=revoked,
        max_content_length=client.application.config["MAX_CONTENT_LENGTH"],
    )


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table and the full content of the event log and devices."""
    with engine.connect() as conn:
        state: dict[str, Any] = {
            f"count:{t.name}": conn.execute(sa_select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
        for table in (metadata.tables["event"], metadata.tables["device"]):
            state[table.name] = [
                tuple(row)
                for row in conn.execute(sa_select(table).order_by(*table.primary_key.columns))
            ]
    return state


@pytest.fixture
def db_state(app: Flask) -> Callable[[], dict[str, Any]]:
    engine = Database.engine(app)
    return lambda: snapshot(engine)
