"""The public device page tells the device's story (issue 20 item 8): its journey in plain
words, the licensed plant's registered name, its share of the savings, why a check failed,
where to report a problem, and a printed label no device was registered under yet."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld
from traceability.app import trace_of
from traceability.custody.models import Event


def page_of(client: FlaskClient, qr_id: str, lang: str = "en") -> str:
    response = client.get(f"/d/{qr_id}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def journey(html: str) -> list[str]:
    return re.findall(r'<li data-step="(\w+)"', html)


def dismantled(client: FlaskClient, collector: Actor, plant: Actor) -> str:
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).ship(qr_id, plant)
    Handheld(client, plant).receive(qr_id, weight_kg="20")
    Handheld(client, plant).dismantle(qr_id, {"pcb": "2", "crt_panel_glass": "12", "plastics": "5"})
    return qr_id


def test_the_journey_names_the_licensed_plant_and_the_device_s_share_of_the_savings(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = dismantled(client, collector, plant)
    html = page_of(client, qr_id)
    assert journey(html) == ["collected", "shipped", "received", "dismantled"]
    # The plant by its registered name; a collection point is never named.
    assert f"Arrived at {plant.org} Co. and weighed 20 kg." in html
    assert collector.org not in html
    factors = trace_of(app).catalog.default_factor_set
    tonnes = Decimal("0.020")  # its intake weight at the plant
    co2_kg = f"{tonnes * factors.co2_t * 1000:.1f}"
    coal_kg = f"{tonnes * factors.standard_coal_t * 1000:.1f}"
    assert f"saved about {co2_kg} kg of CO₂" in html and f"{coal_kg} kg of standard coal" in html
    assert factors.source in html
    assert 'href="tel:12369"' in html  # report a problem: the national complaint line
    chinese = page_of(client, qr_id, "zh-CN")
    assert "拆解" in chinese and "Arrived" not in chinese and "12369" in chinese


def test_a_device_not_yet_dismantled_has_no_benefit_yet(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()
    html = page_of(client, qr_id)
    assert journey(html) == ["collected"] and "data-benefit" not in html
    assert "data-plant" not in html  # no plant on its path yet


class TestOnALedger:
    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "ledger_mode": "memory", "badge_cache_s": 0}

    def test_a_failed_check_names_the_step_whose_record_changed(
        self, app: Flask, client: FlaskClient, collector: Actor, plant: Actor
    ) -> None:
        qr_id = dismantled(client, collector, plant)
        assert (
            client.post("/api/v1/anchors", headers=manager_headers(client, plant)).status_code
            == 200
        )
        assert 'data-verification="verified"' in page_of(client, qr_id)
        table = Event.__table__  # type: ignore[attr-defined]
        with trace_of(app).engine.begin() as conn:  # the plant's DB admin lightens the receipt
            where = (table.c.device == qr_id) & (table.c.type == "received")
            payload = conn.execute(select(table.c.payload).where(where)).scalar_one()
            assert payload["weight_g"] == 20000
            conn.execute(update(table).where(where).values(payload={**payload, "weight_g": 19000}))
        html = page_of(client, qr_id)
        assert 'data-verification="failed"' in html
        cause = re.search(r"<p class=\"cause\" data-cause>(.*?)</p>", html, re.S)
        assert (
            cause is not None
            and "arrival" in cause.group(1)
            and "dismantling" not in cause.group(1)
        )
        checks = dict(re.findall(r'<li data-step="(\w+)" data-check="(\w+)"', html))
        assert checks["received"] == "tampered" and checks["collected"] == "verified"
        assert "data-benefit" not in html  # no benefit claimed on records that do not verify


def test_a_printed_label_no_device_was_registered_under_says_so(
    client: FlaskClient, collector: Actor
) -> None:
    minted = client.post("/api/v1/labels", json={"count": 2}, headers=collector.headers)
    assert minted.status_code == 201
    unused = minted.get_json()["ids"][0]
    # typed in lower case: still found
    response = client.get(f"/d/{unused.lower()}", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-label="unused"' in html
    assert "not yet registered" in html
    # An ID this system never issued is still "not found".
    Handheld(client, collector).collect(qr_id=minted.get_json()["ids"][1])
    never = client.get("/d/7KQ2M9XD4TZPAZ", headers={"Accept-Language": "en"})
    assert never.status_code in (404, 422) and 'data-label="unused"' not in never.get_data(
        as_text=True
    )
