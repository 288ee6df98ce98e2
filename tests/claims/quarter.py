"""A generated quarter (2026Q3 at one plant) with one device per tier and per exclusion reason.

Every step goes through the API; dismantling times are given in Beijing time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld
from tests.support.ledger import anchor
from tests.support.manifests import lot_receipt, lot_shipment
from traceability.app import trace_of
from traceability.lots.models import Lot

CST = dt.timezone(dt.timedelta(hours=8))
EXAMPLE_RATES = "traceability/demo/data/rates-example.toml"

CRT_OUT = {
    "crt_panel_glass": "8",
    "crt_funnel_glass": "4",
    "crt_phosphor": "0.01",
    "pcb": "1.5",
    "plastics": "3",
}
LCD = {"display": "lcd", "backlight": "led"}
FLAT_OUT = {"pcb": "1", "lcd_panel": "3", "plastics": "4"}
PLASMA_OUT = {"pcb": "2", "pdp_panel": "12", "plastics": "6", "ferrous_metal": "6"}
COLD_OUT = {"compressor": "9", "refrigerant": "0.2", "pu_foam": "2", "ferrous_metal": "8"}
WASHER_OUT = {"motor": "4", "plastics": "8", "ferrous_metal": "8"}
PC_OUT = {"pcb": "1", "plastics": "2", "ferrous_metal": "3"}
DESKTOP = {"form": "desktop", "with_display": True, **LCD}
TABLET_OUT = {"pcb": "0.1", "battery_li_ion": "0.1", "plastics": "0.1"}
PRINTER_OUT = {"plastics": "3", "pcb": "0.5"}

#: name → (category, attributes, intake kg, outputs, expected tier under the example schedule)
ELIGIBLE: dict[str, tuple[str, dict[str, Any], str, dict[str, str], str]] = {
    "crt_21": ("tv", {"display": "crt", "screen_in": 21}, "25", CRT_OUT, "tv_crt_14_25"),
    "crt_14": ("tv", {"display": "crt", "screen_in": 14}, "17", CRT_OUT, "tv_crt_14_25"),
    "crt_29": ("tv", {"display": "crt", "screen_in": 29}, "40", CRT_OUT, "tv_crt_25_up_or_flat"),
    "lcd_42": ("tv", {**LCD, "screen_in": 42}, "12", FLAT_OUT, "tv_crt_25_up_or_flat"),
    "plasma_50": (
        "tv",
        {"display": "plasma", "screen_in": 50},
        "28",
        PLASMA_OUT,
        "tv_crt_25_up_or_flat",
    ),
    "desktop": ("microcomputer", DESKTOP, "12", {**PC_OUT, "lcd_panel": "2"}, "pc_desktop_laptop"),
    "laptop": ("microcomputer", {"form": "laptop"}, "6", PC_OUT, "pc_desktop_laptop"),
    "single_5": (
        "washing_machine",
        {"type": "single_tub", "dry_load_kg": "5"},
        "22",
        WASHER_OUT,
        "washer_single_spin",
    ),
    "drum_10": (
        "washing_machine",
        {"type": "drum", "dry_load_kg": "10"},
        "60",
        WASHER_OUT,
        "washer_twin_auto_drum",
    ),
    "fridge_50": ("refrigerator", {"volume_l": 50}, "25", COLD_OUT, "fridge_50_500"),
    "fridge_500": ("refrigerator", {"volume_l": 500}, "90", COLD_OUT, "fridge_50_500"),
    "ac_14000": (
        "air_conditioner",
        {"form": "multi_split", "cooling_w": 14000},
        "80",
        COLD_OUT,
        "ac_up_to_14000w",
    ),
}

#: name → (category, attributes, intake kg, outputs, expected first reason)
EXCLUDED: dict[str, tuple[str, dict[str, Any], str, dict[str, str], str]] = {
    "crt_13": ("tv", {"display": "crt", "screen_in": 13}, "17", CRT_OUT, "no_eligible_tier"),
    "tablet": ("microcomputer", {"form": "tablet"}, "0.6", TABLET_OUT, "standard_set_separately"),
    "desktop_host": (
        "microcomputer",
        {"form": "desktop", "with_display": False},
        "8",
        PC_OUT,
        "desktop_without_display",
    ),
    "fridge_5_kg": (
        "refrigerator",
        {"volume_l": 200},
        "5",
        {"compressor": "3", "refrigerant": "0.1", "pu_foam": "1", "ferrous_metal": "0.5"},
        "below_minimum_weight",
    ),
    "ac_1_g": (
        "air_conditioner",
        {"form": "split", "cooling_w": 3500},
        "40",
        {"compressor": "10", "refrigerant": "0.001", "ferrous_metal": "20"},
        "irregular_dismantling",
    ),
    "washer_3": (
        "washing_machine",
        {"type": "twin_tub", "dry_load_kg": "3"},
        "22",
        WASHER_OUT,
        "no_eligible_tier",
    ),
    "fridge_45": ("refrigerator", {"volume_l": 45}, "20", COLD_OUT, "no_eligible_tier"),
    "fridge_600": ("refrigerator", {"volume_l": 600}, "110", COLD_OUT, "no_eligible_tier"),
    "fridge_900": ("refrigerator", {"volume_l": 900}, "150", COLD_OUT, "outside_catalogue_scope"),
    "washer_12": (
        "washing_machine",
        {"type": "drum", "dry_load_kg": "12"},
        "70",
        WASHER_OUT,
        "outside_catalogue_scope",
    ),
    "ac_16000": (
        "air_conditioner",
        {"form": "multi_split", "cooling_w": 16000},
        "90",
        COLD_OUT,
        "outside_catalogue_scope",
    ),
    "printer": ("printer", {}, "8", PRINTER_OUT, "not_subsidised"),
    "crt_no_funnel": (
        "tv",
        {"display": "crt", "screen_in": 21},
        "25",
        {"crt_panel_glass": "8", "pcb": "1.5"},
        "irregular_dismantling",
    ),
}


def at(text: str) -> str:
    """An ISO timestamp in Beijing time, as a handheld sends it."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST).isoformat()


@dataclass
class Quarter:
    client: FlaskClient
    collector: Actor
    plant: Actor
    processor: Actor
    devices: dict[str, str] = field(default_factory=dict)  # name → qr_id

    @property
    def manager(self) -> dict[str, str]:
        return manager_headers(self.client, self.plant)

    def device(
        self,
        name: str,
        category: str,
        attributes: dict[str, Any],
        weight_kg: str,
        outputs: dict[str, str],
        dismantled: str,
        *,
        plant: Actor | None = None,
    ) -> str:
        """Collected, shipped, received and dismantled at ``dismantled`` (Beijing time)."""
        plant = plant or self.plant
        day = dt.datetime.fromisoformat(dismantled) - dt.timedelta(days=2)
        qr_id = Handheld(self.client, self.collector).collect(
            category=category,
            attributes=attributes,
            occurred_at=at(day.isoformat()),
        )
        Handheld(self.client, self.collector).record(
            {
                "type": "shipped",
                "qr_id": qr_id,
                "to": plant.org,
                "occurred_at": at((day + dt.timedelta(hours=2)).isoformat()),
            },
        )
        Handheld(self.client, plant).record(
            {
                "type": "received",
                "qr_id": qr_id,
                "weight_kg": weight_kg,
                "occurred_at": at((day + dt.timedelta(days=1)).isoformat()),
            },
        )
        Handheld(self.client, plant).record(
            {
                "type": "dismantled",
                "qr_id": qr_id,
                "occurred_at": at(dismantled),
                "outputs": [{"fraction": f, "weight_kg": w} for f, w in outputs.items()],
            },
        )
        self.devices[name] = qr_id
        return qr_id

    def ship_and_confirm_lots(
        self, plant: Actor | None = None, *, confirm: bool = True
    ) -> list[str]:
        """Ship every open lot of the plant to the processor; the processor confirms receipt."""
        plant = plant or self.plant
        with Session(trace_of(self.client.application).engine) as s:
            lots = [
                (lot.code, lot.weight_g)
                for lot in s.exec(select(Lot).where(Lot.org == plant.org, Lot.state == "open"))
            ]
        for code, grams in lots:
            app = self.client.application
            Handheld(self.client, plant).record(
                {"type": "lot_shipped", "lot": code, "to": self.processor.org,
                 **lot_shipment(app, code)},
            )  # fmt: skip
            if confirm:
                Handheld(self.client, self.processor).record(
                    {"type": "lot_received", "lot": code,
                     **lot_receipt(app, code, str(grams / 1000))},
                )  # fmt: skip
        return [c for c, _ in lots]

    def anchor(self) -> dict[str, Any]:
        return anchor(self.client, self.plant)

    def claim(
        self,
        period: str = "2026Q3",
        headers: dict[str, str] | None = None,
        **asked: Any,
    ) -> Any:
        """Create (or recompute) the plant's claim of ``period``; ``asked``: supplementary, mode."""
        response = self.client.post(
            "/api/v1/claims", json={"period": period, **asked}, headers=headers or self.manager
        )
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def show(self, claim_id: int, **params: Any) -> Any:
        response = self.client.get(
            f"/api/v1/claims/{claim_id}", query_string=params, headers=self.manager
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()
