"""A claim over a generated quarter: every tier, every exclusion reason, on a real anvil node."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.claims.quarter import ELIGIBLE, EXCLUDED, Quarter, at
from tests.helpers import Actor, edit_row, record
from traceability.custody.models import Event
from traceability.db import Database

pytestmark = pytest.mark.integration

EXAMPLE = "example-province-2024-2027"
EXAMPLE_RATES = {
    "tv_crt_14_25": 35,
    "tv_crt_25_up_or_flat": 40,
    "tv_flat": 40,
    "pc_desktop_laptop": 40,
    "washer_single_spin": 20,
    "washer_twin_auto_drum": 25,
    "fridge_50_500": 50,
    "ac_up_to_14000w": 90,
}


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
    q.device("next_quarter", "tv", {"display": "flat", "screen_in": 32}, "10", {"pcb": "1", "lcd_panel": "3"}, "2026-10-01T01:00:00")
    q.ship_and_confirm_lots()
    # Hazardous pcb in a lot that is shipped but never confirmed by the processor.
    q.device("unconfirmed", "tv", {"display": "flat", "screen_in": 40}, "11", FLAT_OUT_, "2026-09-10T10:00:00")
    q.ship_and_confirm_lots(confirm=False)
    q.device("tampered", "tv", {"display": "flat", "screen_in": 50}, "14", FLAT_OUT_, "2026-09-11T10:00:00")
    q.device("pending", "tv", {"display": "flat", "screen_in": 55}, "15", FLAT_OUT_, "2026-09-12T10:00:00")
    q.ship_and_confirm_lots()
    assert q.anchor()["anchored"] > 0
    # After anchoring: a correction leaves one device with an unanchored event...
    record(client, plant, {"type": "corrected", "qr_id": q.devices["pending"], "corrects": _dismantled_event(client, plant, q.devices["pending"]), "reason": "line mistyped", "fields": {"line": "L2"}})
    # ...and a DB administrator edits another device's dismantling after it was anchored.
    _tamper(client.application, q.devices["tampered"])
    # A row edited to put a device of the next quarter into this one.
    edit_row(client.application, q.devices["next_quarter"], dismantled_at=_utc("2026-09-30T12:00:00"))
    return q


FLAT_OUT_ = {"pcb": "1", "lcd_panel": "3", "plastics": "4"}


def _utc(beijing: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromisoformat(at(beijing)).astimezone(dt.UTC)


def _dismantled_event(client: FlaskClient, plant: Actor, qr_id: str) -> str:
    events = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()["events"]
    return next(e["id"] for e in events if e["type"] == "dismantled")


def _tamper(app: Flask, qr_id: str) -> None:
    table = Event.__table__  # type: ignore[attr-defined]
    with Database.engine(app).begin() as conn:
        row = conn.execute(
            table.select().where(table.c.device == qr_id, table.c.type == "dismantled")
        ).one()
        payload = dict(row.payload)
        payload["outputs"] = [{"fraction": "pcb", "weight_g": 2000}, *payload["outputs"][1:]]
        conn.execute(update(table).where(table.c.id == row.id).values(payload=payload))


def test_every_tier_is_claimed_at_the_rate_of_its_schedule(quarter: Quarter) -> None:
    claim = quarter.claim()
    assert claim["state"] == "draft"
    devices = {d["qr_id"]: d for d in quarter.show(claim["id"], per_page=1000)["devices"]}
    for name, (*_, tier) in ELIGIBLE.items():
        got = devices[quarter.devices[name]]
        assert (got["tier"], got["schedule"]) == (tier, EXAMPLE), name
        assert got["rate_yuan"] == EXAMPLE_RATES[tier], name
    assert set(devices) == {quarter.devices[n] for n in ELIGIBLE}
    assert claim["units"] == len(ELIGIBLE)
    assert claim["total_yuan"] == sum(EXAMPLE_RATES[t] for *_, t in ELIGIBLE.values())
    assert {line["tier"] for line in claim["lines"]} == set(EXAMPLE_RATES)
    assert sum(line["amount"] for line in claim["lines"]) == claim["total_yuan"]
    [schedule] = claim["schedules"]
    assert schedule["id"] == EXAMPLE and len(schedule["sha256"]) == 64
    assert "EXAMPLE" in schedule["label"]


def test_every_excluded_device_is_listed_with_its_reason(quarter: Quarter) -> None:
    claim = quarter.claim()
    excluded = {e["qr_id"]: e for e in quarter.show(claim["id"], per_page=1000)["excluded"]}
    expected = {name: reason for name, (*_, reason) in EXCLUDED.items()}
    expected |= {
        "next_quarter": "not_dismantled_here_in_period",
        "unconfirmed": "hazardous_output_unconfirmed",
        "tampered": "not_verified",
        "pending": "not_verified",
    }
    got = {name: excluded[quarter.devices[name]]["reasons"][0]["code"] for name in expected}
    assert got == expected
    assert len(excluded) == len(expected) == claim["page"]["excluded_total"]
    assert "pending" in excluded[quarter.devices["pending"]]["reasons"][0]["detail"]
    assert "tampered" in excluded[quarter.devices["tampered"]]["reasons"][0]["detail"]
    assert "pcb" in excluded[quarter.devices["unconfirmed"]]["reasons"][0]["detail"]
    assert "crt_funnel_glass" in excluded[quarter.devices["crt_no_funnel"]]["reasons"][0]["detail"]
    assert sum(claim["excluded_by_reason"].values()) == len(expected)
