"""Licences in the register (SPEC §2.8): what they allow is checked before a step is recorded.

A plant dismantles only the categories its 处理资格证书 licenses, on the
days (Beijing calendar) it is valid; a hazardous lot goes only to a
processor whose 危险废物经营许可证 covers its waste code. A refusal names the
field and records nothing; an organisation the register holds no licence for
is not checked unless the deployment is strict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id
from tests.support.manifests import amend, license_org, number, shipped
from traceability.accounts.licences import DISMANTLING, HAZARDOUS_WASTE
from traceability.app import trace_of
from traceability.clock import FixedClock
from traceability.custody.models import Event
from traceability.devices.models import Device
from traceability.lots.models import Lot
from traceability.register.licensing import read_licences

BEIJING = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 1, 2, 10, 0, tzinfo=BEIJING)
TV_FRIDGE = {"tv": 300_000, "refrigerator": 100_000}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2025) -> str:
    """An instant given in Beijing time, as the handheld sends it."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BEIJING).isoformat()


def received(client: FlaskClient, collector: Actor, plant: Actor, category: str = "tv",
             attributes: dict[str, Any] | None = None) -> str:  # fmt: skip
    """A device collected, shipped and received at ``plant`` on 2025-12-30."""
    attributes = {"display": "crt", "screen_in": 21} if attributes is None else attributes
    response = client.post(
        "/api/v1/devices",
        json={"category": category, "attributes": attributes, "occurred_at": at(30, 9)},
        headers=collector.headers,
    )
    qr_id: str = response.get_json()["qr_id"]
    Handheld(client, collector).record(
        {"type": "shipped", "qr_id": qr_id, "to": plant.org, "occurred_at": at(30, 10)}
    )
    weight = "30" if category == "tv" else "0.2"
    Handheld(client, plant).record(
        {"type": "received", "qr_id": qr_id, "weight_kg": weight, "occurred_at": at(30, 14)}
    )
    return qr_id


def dismantle(client: FlaskClient, plant: Actor, qr_id: str, when: str,
              outputs: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    outputs = outputs or {"pcb": "2", "plastics": "10"}
    [result] = Handheld(client, plant).post({
        "id": new_id(), "type": "dismantled", "qr_id": qr_id, "occurred_at": when,
        "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
    })  # fmt: skip
    return result


def state_of(app: Flask, qr_id: str) -> tuple[str, int]:
    with Session(trace_of(app).engine) as session:
        device = session.get(Device, qr_id)
        events = session.exec(select(Event).where(Event.device == qr_id)).all()
        assert device is not None
        return device.state, len(events)


def test_a_category_the_plant_is_not_licensed_for_is_refused_and_nothing_recorded(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    license_org(app, plant.org, DISMANTLING, TV_FRIDGE)
    phone = received(client, collector, plant, "mobile_phone", {})
    tv = received(client, collector, plant)

    refused = dismantle(client, plant, phone, at(31, 9), {"battery_li_ion": "0.05", "pcb": "0.04"})
    accepted = dismantle(client, plant, tv, at(31, 9))

    assert (refused["status"], refused["error"]["code"], refused["error"]["field"]) == (
        "rejected", "unlicensed", "qr_id",
    )  # fmt: skip
    assert "mobile_phone" in refused["error"]["message"]
    assert state_of(app, phone) == ("received", 3)  # collected, shipped, received: no more
    assert accepted["status"] == "created", accepted


def test_the_licence_ends_at_midnight_beijing_time(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    license_org(app, plant.org, DISMANTLING, TV_FRIDGE, valid_to=dt.date(2025, 12, 31))
    last_day, next_day = received(client, collector, plant), received(client, collector, plant)

    in_time = dismantle(client, plant, last_day, at(31, 23, 50))  # 15:50 UTC, Dec 31
    too_late = dismantle(client, plant, next_day, at(1, 0, 10, month=1, year=2026))

    assert in_time["status"] == "created", in_time
    assert (too_late["status"], too_late["error"]["code"], too_late["error"]["field"]) == (
        "rejected", "licence_not_valid", "occurred_at",
    )  # fmt: skip
    assert "2026-01-01" in too_late["error"]["message"]
    assert state_of(app, next_day) == ("received", 3)


def test_an_amendment_licenses_a_category_from_its_effective_day(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    licence = license_org(app, plant.org, DISMANTLING, TV_FRIDGE)
    amend(app, plant.org, licence, effective=dt.date(2025, 12, 31),
          scope={**TV_FRIDGE, "mobile_phone": 50_000})  # fmt: skip
    before, after = (received(client, collector, plant, "mobile_phone", {}) for _ in range(2))

    early = dismantle(client, plant, before, at(30, 23), {"battery_li_ion": "0.05"})
    late = dismantle(client, plant, after, at(31, 8), {"battery_li_ion": "0.05"})

    assert (early["status"], early["error"]["field"]) == ("rejected", "qr_id")
    assert late["status"] == "created", late
    with Session(trace_of(app).engine) as session:
        book = read_licences(session, [plant.org])
    assert book.licensed_categories(plant.org, dt.date(2025, 12, 30)) == TV_FRIDGE
    assert book.licensed_categories(plant.org, dt.date(2025, 12, 31))["mobile_phone"] == 50_000


def test_a_revoked_licence_covers_nothing_after_its_new_end(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    licence = license_org(app, plant.org, DISMANTLING, TV_FRIDGE)
    amend(app, plant.org, licence, effective=dt.date(2025, 12, 31), valid_to=dt.date(2025, 12, 30))
    tv = received(client, collector, plant)

    result = dismantle(client, plant, tv, at(31, 9))

    assert (result["status"], result["error"]["code"]) == ("rejected", "licence_not_valid")


@pytest.mark.parametrize("mode", ["registered", "strict", "off"])
def test_a_plant_without_a_registered_licence_is_checked_as_the_deployment_says(
    settings: dict[str, Any], mode: str, make_app: Callable[..., Flask]
) -> None:
    app = make_app({**settings, "licence_checks": mode})
    client = app.test_client()
    collector, plant = (
        add(app, "COL-SZ", "collector"), add(app, "DIS-SZ", "dismantler")
    )  # fmt: skip
    tv = received(client, collector, plant)

    result = dismantle(client, plant, tv, at(31, 9))

    if mode == "strict":
        assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
            "rejected", "unlicensed", "type",
        )  # fmt: skip
    else:
        assert result["status"] == "created", result


def test_strict_mode_still_dismantles_what_the_licence_covers(
    settings: dict[str, Any], make_app: Callable[..., Flask]
) -> None:
    app = make_app({**settings, "licence_checks": "strict"})
    client = app.test_client()
    collector, plant = add(app, "COL-SZ", "collector"), add(app, "DIS-SZ", "dismantler")
    license_org(app, plant.org, DISMANTLING, TV_FRIDGE)

    assert dismantle(client, plant, received(client, collector, plant), at(31, 9))["status"] == (
        "created"
    )


@pytest.fixture
def make_app(clock: FixedClock) -> Iterator[Callable[..., Flask]]:
    """Apps with settings of their own; their engines closed after the test (a PostgreSQL
    connection left open is a ResourceWarning, an error in this suite)."""
    from traceability import create_app
    from traceability.models import metadata

    built: list[Flask] = []

    def build(settings: dict[str, Any]) -> Flask:
        app = create_app(settings, clock=clock)
        metadata.create_all(trace_of(app).engine)
        built.append(app)
        return app

    yield build
    for app in built:
        trace_of(app).engine.dispose()


def add(app: Flask, org: str, kind: str) -> Actor:
    from tests.support.accounts import add_actor

    return add_actor(app, org, kind)


# -- processors ------------------------------------------------------------------------


def pcb_lot(app: Flask, client: FlaskClient, collector: Actor, plant: Actor) -> str:
    qr_id = received(client, collector, plant)
    assert dismantle(client, plant, qr_id, at(31, 9))["status"] == "created"
    with Session(trace_of(app).engine) as session:
        return session.exec(
            select(Lot.code).where(Lot.org == plant.org, Lot.fraction == "pcb")
        ).one()


def ship_to(client: FlaskClient, plant: Actor, lot: str, to: str, manifest: str,
            when: str) -> dict[str, Any]:  # fmt: skip
    [result] = Handheld(client, plant).post({
        "id": new_id(), "type": "lot_shipped", "lot": lot, "to": to, "occurred_at": when,
        "manifests": [shipped(manifest, "2")],
    })  # fmt: skip
    return result


@pytest.mark.parametrize(
    ("scope", "valid_to", "refused"),
    [
        ({"900-044-49": 5_000}, dt.date(2099, 12, 31), "unlicensed"),  # lead glass only
        ({"HW29": 200}, dt.date(2099, 12, 31), "unlicensed"),
        ({"HW49": 8_000}, dt.date(2025, 12, 30), "licence_not_valid"),  # expired
        ({"HW49": 8_000}, dt.date(2099, 12, 31), None),  # the whole category
        ({"900-045-49": 3_000, "HW29": 200}, dt.date(2099, 12, 31), None),
    ],
    ids=["lead-glass-only", "mercury-only", "expired", "category", "code"],
)
def test_a_hazardous_lot_goes_only_to_a_processor_licensed_for_its_code(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    scope: dict[str, int], valid_to: dt.date, refused: str | None,
) -> None:  # fmt: skip
    license_org(app, processor.org, HAZARDOUS_WASTE, scope, valid_to=valid_to)
    lot = pcb_lot(app, client, collector, plant)

    result = ship_to(client, plant, lot, processor.org, number(app, 1, year=2025), at(31, 16))

    if refused is None:
        assert result["status"] == "created", result
    else:
        assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
            "rejected", refused, "to",
        )  # fmt: skip
        with Session(trace_of(app).engine) as session:
            lot_row = session.get(Lot, lot)
            assert lot_row is not None and lot_row.state == "open"
            assert not session.exec(select(Event).where(col(Event.lot) == lot)).all()
