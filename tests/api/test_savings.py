"""Batches and environmental savings (SPEC §2.5): mass in tonnes × the factor set's factors."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from ledger.canonical import digest_hex
from tests.support.accounts import Actor
from tests.support.floor import CATALOG_DATA, Handheld, factors_toml, new_id, receive

SAVINGS = ("co2_t", "so2_t", "standard_coal_t", "wastewater_t", "solid_waste_t")
WEIGHTS = ("31.5", "4.625", "48.07", "12")  # kg, as weighed at intake
OUTPUTS = {"pcb": "1.5", "plastics": "3"}


def get_batch(client: FlaskClient, actor: Actor, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/batches/{code}", headers=actor.headers)
    assert response.status_code == 200, response.get_json()
    # Exact numbers: read the JSON as decimals, as the figures were written.
    return json.loads(response.get_data(), parse_float=Decimal)


def default_factor_set() -> dict[str, Any]:
    [default] = [s for s in factors_toml()["sets"] if s.get("default")]
    return default


def test_batch_reports_its_mass_and_savings_from_the_default_factor_set(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    devices = []
    for weight in WEIGHTS:
        qr_id = receive(client, collector, plant, weight_kg=weight)
        Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="2026-11-25-L1")
        devices.append(qr_id)

    batch = get_batch(client, plant, "2026-11-25-L1")

    mass_kg = sum((Decimal(w) for w in WEIGHTS), Decimal(0))
    mass_t = mass_kg / 1000
    factors = default_factor_set()
    assert batch["mass_kg"] == mass_kg
    assert batch["device_count"] == len(WEIGHTS)
    assert sorted(d["qr_id"] for d in batch["devices"]) == sorted(devices)
    savings = batch["savings"]
    assert savings["mass_t"] == mass_t
    for name in SAVINGS:
        assert savings[name] == mass_t * Decimal(factors[name]), name
    assert savings["factor_set"]["id"] == factors["id"]


def test_batch_holds_only_the_devices_dismantled_into_it(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    in_b1 = receive(client, collector, plant, weight_kg="20.5")
    Handheld(client, plant).dismantle(in_b1, OUTPUTS, batch="B1")
    in_b2 = receive(client, collector, plant, weight_kg="7")
    Handheld(client, plant).dismantle(in_b2, OUTPUTS, batch="B2")
    no_batch = receive(client, collector, plant, weight_kg="9")
    Handheld(client, plant).dismantle(no_batch, OUTPUTS)
    receive(client, collector, plant, weight_kg="11")  # received, not yet dismantled

    b1 = get_batch(client, plant, "B1")

    assert [d["qr_id"] for d in b1["devices"]] == [in_b1]
    assert b1["mass_kg"] == Decimal("20.5")
    assert b1["savings"]["co2_t"] == Decimal("0.0205") * Decimal(default_factor_set()["co2_t"])


def test_batch_codes_are_per_plant(
    client: FlaskClient, collector: Actor, plant: Actor, make_actor: Callable[..., Actor]
) -> None:
    other_plant = make_actor("DIS-WX", "dismantler", region="320200")
    ours = receive(client, collector, plant, weight_kg="10")
    Handheld(client, plant).dismantle(ours, OUTPUTS, batch="B1")
    theirs = receive(client, collector, other_plant, weight_kg="25")
    Handheld(client, other_plant).dismantle(theirs, OUTPUTS, batch="B1")

    our_batch = get_batch(client, plant, "B1")
    their_batch = get_batch(client, other_plant, "B1")

    assert ([d["qr_id"] for d in our_batch["devices"]], our_batch["mass_kg"]) == ([ours], 10)
    assert ([d["qr_id"] for d in their_batch["devices"]], their_batch["mass_kg"]) == ([theirs], 25)
    assert (our_batch["org"], their_batch["org"]) == (plant.org, other_plant.org)


def test_a_corrected_intake_weight_changes_the_batch_mass(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    detail = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    [received] = [e for e in detail["events"] if e["type"] == "received"]
    response = client.post(
        "/api/v1/events",
        headers=plant.headers,
        json={
            "events": [
                {
                    "id": new_id(),
                    "type": "corrected",
                    "corrects": received["id"],
                    "reason": "scale tare not subtracted",
                    "fields": {"weight_kg": "28.4"},
                }
            ]
        },
    )
    assert response.get_json()["results"][0]["status"] == "created"

    batch = get_batch(client, plant, "B1")

    assert batch["mass_kg"] == Decimal("28.4")
    assert batch["savings"]["so2_t"] == Decimal("0.0284") * Decimal(default_factor_set()["so2_t"])


def test_savings_name_the_hash_of_the_factor_set_the_catalogue_publishes(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    catalog = client.get("/api/v1/catalog").get_json()
    published = {s["id"]: s["sha256"] for s in catalog["factor_sets"]}

    named = get_batch(client, plant, "B1")["savings"]["factor_set"]

    assert named["sha256"] == published[named["id"]]
    assert named["sha256"] == digest_hex(raw_factor_set(named["id"]))
    assert all(len(s["sha256"]) == 64 for s in catalog["rate_schedules"])


def raw_factor_set(set_id: str) -> dict[str, Any]:
    """The set as written in factors.toml (decimals kept as their strings)."""
    with (CATALOG_DATA / "factors.toml").open("rb") as f:
        [table] = [s for s in tomllib.load(f)["sets"] if s["id"] == set_id]
    return table
