"""What the API takes from a handheld for the regime's attributes and fractions (issue 17)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from traceability.app import trace_of
from traceability.lots.models import Lot


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"category": "tv", "attributes": {"display": "plasma", "screen_in": 50}}, 201, None),
        ({"category": "tv", "attributes": {"display": "lcd", "screen_in": 40}}, 422,
         "attributes.backlight"),
        ({"category": "tv", "attributes": {"display": "flat", "screen_in": 40}}, 422,
         "attributes.display"),
        ({"category": "microcomputer", "attributes": {"form": "desktop"}}, 422,
         "attributes.with_display"),
        ({"category": "microcomputer",
          "attributes": {"form": "desktop", "with_display": True, "display": "oled"}}, 201, None),
        ({"category": "washing_machine", "attributes": {"type": "agitator", "dry_load_kg": 8}},
         201, None),
    ],
)  # fmt: skip
def test_a_device_is_collected_with_the_attributes_its_rule_needs(
    client: FlaskClient, collector: Actor, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = client.post("/api/v1/devices", json=body, headers=collector.headers)
    assert response.status_code == status, response.get_json()
    if field is not None:
        assert response.get_json()["error"]["field"] == field


def test_a_battery_of_no_stated_chemistry_is_refused_naming_the_output(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    [result] = Handheld(client, plant).post(
        {
            "id": new_id(),
            "type": "dismantled",
            "qr_id": qr_id,
            "outputs": [
                {"fraction": "pcb", "weight_kg": "1"},
                {"fraction": "battery", "weight_kg": "0.2"},
            ],
        }
    )
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "outputs[1].fraction"
    assert "name it precisely" in result["error"]["message"]
    Handheld(client, plant).dismantle(
        qr_id, {"pcb": "1", "battery_li_ion": "0.2", "crt_panel_glass": "10"}
    )


def test_a_refrigerant_lot_still_needs_its_receipt_though_it_is_not_listed_waste(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect(
        category="air_conditioner", attributes={"form": "split", "cooling_w": 3500}
    )
    Handheld(client, collector).ship(qr_id, to=plant)
    Handheld(client, plant).receive(qr_id, "40")
    Handheld(client, plant).dismantle(
        qr_id, {"compressor": "10", "refrigerant": "0.8", "copper": "5", "ferrous_metal": "15"}
    )
    with Session(trace_of(client.application).engine) as session:
        lots = {lot.fraction: lot.hazardous for lot in session.exec(select(Lot))}
    assert lots == {
        "compressor": False,
        "refrigerant": True,
        "copper": False,
        "ferrous_metal": False,
    }
