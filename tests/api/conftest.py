"""Fixtures for the API tests: a small world of organisations and devices built through the API.

Everything here goes through HTTP (the Flask test client) except creating
organisations, users and tokens, which the API does not expose. The world is
built once (per xdist worker) into a template database; each test that uses it gets
a copy of that database of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, SQLModel, select

from tests.support.accounts import add_actor
from tests.support.databases import DatabaseTemplate, default_settings, snapshot, template_database
from tests.support.floor import Handheld, new_id, receive
from tests.support.manifests import shipped
from tests.support.world import World
from traceability import create_app
from traceability.accounts.services import revoke_token
from traceability.app import trace_of
from traceability.lots.models import Lot


def build_world(app: Flask) -> World:
    """Organisations, users and devices in every state, recorded through the API."""
    client, make_actor = app.test_client(), partial(add_actor, app)
    collector = make_actor("COL-SZ", "collector")
    plant = make_actor("DIS-SZ", "dismantler")
    plant_bj = make_actor("DIS-BJ", "dismantler", region="110000")
    processor = make_actor("PRO-SZ", "processor")
    at_collector = Handheld(client, collector).collect()
    detail = Handheld(client, collector).device(at_collector)
    in_transit = Handheld(client, collector).collect()
    shipped_event = new_id()
    Handheld(client, collector).record(
        {"id": shipped_event, "type": "shipped", "qr_id": in_transit, "to": plant.org},
    )
    plant_collected = Handheld(client, plant).collect()
    dismantled = Handheld(client, plant).collect()
    event_ids = {t: new_id() for t in ("received", "stored", "dismantled")}
    event_ids |= {"lot_shipped": new_id(), "lot_received": new_id()}
    Handheld(client, plant).record(
        {"id": event_ids["received"], "type": "received", "qr_id": dismantled, "weight_kg": 31},
        {"id": event_ids["stored"], "type": "stored", "qr_id": dismantled, "area": "A-1"},
    )
    outputs = {"pcb": 2, "plastics": 5, "copper": 1}
    Handheld(client, plant).dismantle(dismantled, outputs, id=event_ids["dismantled"])
    revoked = make_actor("DIS-SZ", "dismantler")
    with Session(trace_of(app).engine) as session:
        revoke_token(session=session, token=revoked.token)
        session.commit()
    bj_device = Handheld(client, plant_bj).collect()
    Handheld(client, plant_bj).record({"type": "received", "qr_id": bj_device, "weight_kg": 20})
    with Session(trace_of(app).engine) as session:
        lot_codes = dict(
            session.exec(select(Lot.fraction, Lot.code).where(Lot.org == plant.org)).all()
        )
    for fraction, event_id in (("plastics", event_ids["lot_shipped"]), ("copper", new_id())):
        lot = {"id": event_id, "type": "lot_shipped", "lot": lot_codes[fraction]}
        document = shipped(f"YD-{fraction.upper()}-0001", outputs[fraction], hw_code=None)
        Handheld(client, plant).record({**lot, "to": processor.org, "manifests": [document]})
    lot = {"id": event_ids["lot_received"], "type": "lot_received", "lot": lot_codes["copper"]}
    weighed = [{"number": "YD-COPPER-0001", "weight_kg": 1}]
    Handheld(client, processor).record({**lot, "manifests": weighed})
    plant_manager = make_actor("DIS-SZ", "dismantler", role="manager")
    claim = client.post("/api/v1/claims", json={"period": "2025Q4"}, headers=plant_manager.headers)
    assert claim.status_code == 201, claim.get_json()
    return World(
        collector=collector,
        plant=plant,
        plant_manager=plant_manager,
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
        max_content_length=app.config["MAX_CONTENT_LENGTH"],
        extra={"claim": claim.get_json()["id"]},  # DIS-SZ's (empty) claim for 2025Q4
    )


@dataclass(frozen=True)
class WorldTemplate:
    database: DatabaseTemplate  # holds the world; tests get copies
    world: World


@pytest.fixture(scope="session")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorldTemplate]:
    """The world, built once per xdist worker (with the suite's default settings).

    Read-only: each test that uses it gets a copy of its database and of ``World``.
    """
    directory = tmp_path_factory.mktemp("world")
    with template_database(directory) as template:
        app = create_app(default_settings(template.url, directory))
        engine = trace_of(app).engine
        SQLModel.metadata.create_all(engine)
        try:
            world = build_world(app)
        finally:
            engine.dispose()  # a PostgreSQL template must have no connection left
        yield WorldTemplate(template, world)


@pytest.fixture
def database_template(request: pytest.FixtureRequest) -> DatabaseTemplate | None:
    """Tests that use ``world`` start from a copy of its database; the others from empty."""
    if "world" in request.fixturenames:
        return request.getfixturevalue("world_template").database  # type: ignore[no-any-return]
    return None


@pytest.fixture
def world(world_template: WorldTemplate, app: Flask) -> World:
    """The world, in this test's own copy of its database."""
    return copy.deepcopy(world_template.world)


@pytest.fixture
def db_state(app: Flask) -> Callable[[], dict[str, Any]]:
    engine = trace_of(app).engine
    return lambda: snapshot(engine)
