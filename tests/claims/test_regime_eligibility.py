"""Whether a device is the subsidised unit, whole, and regularly dismantled (issue 17,
items 1–3): the display types' rules, the desktop with its display, the least weights."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from traceability.catalog.models import parse_catalog
from traceability.claims.eligibility import REASONS, Assessment, assess
from traceability.claims.schemas import ReasonCode
from traceability.custody.facts import DeviceFacts, Output
from traceability.periods import CHINA, parse_period
from traceability.verification.logs import Verification

CATALOG = parse_catalog()
PERIOD = parse_period("2023Q3")
PLANT = "DIS-SZ01"


def judged(
    category: str, attributes: dict[str, Any], kg: str, outputs: dict[str, str]
) -> Assessment:
    facts = DeviceFacts(
        qr_id="Q1",
        category=category,
        attributes=attributes,
        received_weight_g=int(float(kg) * 1000),
        dismantled_by=PLANT,
        dismantled_at=dt.datetime(2023, 8, 1, 10, tzinfo=CHINA),
        outputs=tuple(Output(f, round(float(w) * 1000)) for f, w in outputs.items()),
    )
    return assess(
        CATALOG,
        plant=PLANT,
        region="320500",
        period=PERIOD,
        facts=facts,
        verification=Verification("verified"),
        hazards={},
        prior=None,
    )


def codes(assessment: Assessment) -> list[str]:
    return [code for code, _ in assessment.reasons]


PLASMA_OUT = {"pcb": "2", "pdp_panel": "12", "plastics": "6", "ferrous_metal": "6"}
OLED_OUT = {"pcb": "1.5", "oled_panel": "4", "plastics": "3", "aluminium": "2"}
LCD_OUT = {"pcb": "1", "lcd_panel": "3", "plastics": "4"}
CRT_OUT = {"crt_panel_glass": "8", "crt_funnel_glass": "4", "crt_phosphor": "0.01", "pcb": "1.5"}
FRIDGE_OUT = {"compressor": "9", "refrigerant": "0.1", "pu_foam": "6", "ferrous_metal": "20"}


@pytest.mark.parametrize(
    ("attributes", "kg", "outputs"),
    [
        ({"display": "plasma", "screen_in": 50}, "30", PLASMA_OUT),
        ({"display": "oled", "screen_in": 55}, "14", OLED_OUT),
        ({"display": "lcd", "backlight": "led", "screen_in": 42}, "10", LCD_OUT),
        ({"display": "lcd", "backlight": "ccfl", "screen_in": 32}, "10",
         {**LCD_OUT, "ccfl_backlight": "0.05"}),
        ({"display": "crt", "screen_in": 29}, "40", CRT_OUT),
        ({"display": "flat", "screen_in": 42}, "30", PLASMA_OUT),  # a record from before the type
    ],
)  # fmt: skip
def test_every_display_type_dismantled_by_its_rule_is_claimed(
    attributes: dict[str, Any], kg: str, outputs: dict[str, str]
) -> None:
    found = judged("tv", attributes, kg, outputs)
    assert found.eligible, found.reasons
    assert found.rated is not None and found.rated.tier.id == "tv_crt_25_up_or_flat"


@pytest.mark.parametrize(
    ("attributes", "outputs", "missing"),
    [
        ({"display": "plasma", "screen_in": 50}, {"pcb": "2", "lcd_panel": "12"}, "pdp_panel"),
        ({"display": "oled", "screen_in": 55}, {"pcb": "2", "lcd_panel": "4"}, "oled_panel"),
        ({"display": "lcd", "backlight": "ccfl", "screen_in": 32}, LCD_OUT, "ccfl_backlight"),
        ({"display": "crt", "screen_in": 29}, {**CRT_OUT, "crt_phosphor": "0"}, "crt_phosphor"),
        ({"display": "flat", "screen_in": 42}, {"pcb": "1", "plastics": "4"},
         "one of lcd_panel / pdp_panel / oled_panel"),
    ],
)  # fmt: skip
def test_each_display_type_has_its_own_required_fractions(
    attributes: dict[str, Any], outputs: dict[str, str], missing: str
) -> None:
    found = judged("tv", attributes, "30", outputs)
    assert codes(found) == ["irregular_dismantling"]
    assert found.reasons[0][1] == f"missing {missing}"


DESKTOP_LCD = {"form": "desktop", "with_display": True, "display": "lcd", "backlight": "led"}
TOWER_OUT = {"pcb": "1", "ferrous_metal": "5", "plastics": "1"}


def test_a_desktop_host_without_its_display_is_not_the_subsidised_unit() -> None:
    found = judged("microcomputer", {"form": "desktop", "with_display": False}, "7", TOWER_OUT)
    assert codes(found) == ["desktop_without_display"]
    assert "台式微型计算机（含主机和显示器）" in found.reasons[0][1]
    assert REASONS["desktop_without_display"][0].startswith("台式机主机未含显示器")


def test_a_desktop_with_its_display_is_paid_when_the_display_was_dismantled() -> None:
    whole = judged("microcomputer", DESKTOP_LCD, "12", {**TOWER_OUT, "lcd_panel": "2"})
    assert whole.eligible and whole.rated is not None and whole.rated.rate == 45
    no_panel = judged("microcomputer", DESKTOP_LCD, "12", TOWER_OUT)
    assert no_panel.reasons == (("irregular_dismantling", "missing lcd_panel"),)
    crt = {"form": "desktop", "with_display": True, "display": "crt"}
    tube = judged("microcomputer", crt, "20", TOWER_OUT)
    assert tube.reasons == (
        ("irregular_dismantling", "missing crt_funnel_glass, crt_panel_glass, crt_phosphor"),
    )


def test_a_5_kg_refrigerator_is_not_a_whole_unit() -> None:
    found = judged(
        "refrigerator",
        {"volume_l": 200},
        "5",
        {"compressor": "3", "refrigerant": "0.1", "pu_foam": "1", "ferrous_metal": "0.5"},
    )
    assert codes(found) == ["below_minimum_weight"]
    assert "weighed 5 kg at intake" in found.reasons[0][1]
    assert "at least 12 kg" in found.reasons[0][1]


def test_a_1_g_refrigerant_air_conditioner_is_irregular() -> None:
    found = judged(
        "air_conditioner",
        {"form": "split", "cooling_w": 3500},
        "40",
        {"compressor": "10", "refrigerant": "0.001", "copper": "5", "ferrous_metal": "15"},
    )
    assert found.reasons == (
        ("irregular_dismantling", "refrigerant 0.001 kg (below the minimum 0.1 kg)"),
    )


def test_a_refrigerator_must_report_its_insulation_foam() -> None:
    without = {k: v for k, v in FRIDGE_OUT.items() if k != "pu_foam"}
    found = judged("refrigerator", {"volume_l": 200}, "45", without)
    assert found.reasons == (("irregular_dismantling", "missing pu_foam"),)
    assert judged("refrigerator", {"volume_l": 200}, "45", FRIDGE_OUT).eligible


def test_every_reason_code_has_words_in_both_languages_and_is_in_the_api() -> None:
    assert set(REASONS) == set(ReasonCode.__args__)  # type: ignore[attr-defined]
    assert all(zh and en for zh, en in REASONS.values())
