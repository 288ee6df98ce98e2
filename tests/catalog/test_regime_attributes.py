"""The attributes the regime needs (issue 17, items 1, 2 and 4): the display type and
backlight of a TV, the desktop with its display, and the fractions' hazard codes."""

from __future__ import annotations

from typing import Any

import pytest

from traceability.catalog import load_catalog
from traceability.catalog.hw import is_hw_code
from traceability.catalog.services import validate_attributes
from traceability.errors import ValidationFailed

CATALOG = load_catalog()
TV = CATALOG.categories["tv"]
PC = CATALOG.categories["microcomputer"]


@pytest.mark.parametrize(
    "attributes",
    [
        {"display": "crt", "screen_in": 21},
        {"display": "lcd", "backlight": "ccfl", "screen_in": 32},
        {"display": "lcd", "backlight": "led", "screen_in": 55},
        {"display": "plasma", "screen_in": 50},
        {"display": "oled", "screen_in": 65},
        {"display": "rear_projection", "screen_in": 60},
    ],
)
def test_every_display_type_is_recorded(attributes: dict[str, Any]) -> None:
    assert validate_attributes(TV, attributes) == attributes


@pytest.mark.parametrize(
    ("attributes", "field", "words"),
    [
        ({"display": "lcd", "screen_in": 32}, "attributes.backlight", "when display = lcd"),
        ({"display": "plasma", "backlight": "ccfl", "screen_in": 50}, "attributes.backlight",
         "applies only when display = lcd"),
        ({"display": "flat", "screen_in": 42}, "attributes.display", "old records only"),
        ({"display": "lcd", "backlight": "cold", "screen_in": 42}, "attributes.backlight",
         "one of ccfl, led"),
    ],
)  # fmt: skip
def test_tv_attributes_are_refused_naming_the_field(
    attributes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_attributes(TV, attributes)
    assert caught.value.field == field
    assert words in caught.value.message


def test_old_flat_records_still_read_when_comparing_what_was_recorded() -> None:
    old = {"display": "flat", "screen_in": 42}
    assert validate_attributes(TV, old, legacy=True) == old


@pytest.mark.parametrize(
    "attributes",
    [
        {"form": "desktop", "with_display": False},
        {"form": "desktop", "with_display": True, "display": "crt"},
        {"form": "desktop", "with_display": True, "display": "lcd", "backlight": "ccfl"},
        {"form": "desktop", "with_display": True, "display": "oled"},
        {"form": "laptop"},
    ],
)
def test_a_desktop_says_whether_its_display_came_and_what_it_is(
    attributes: dict[str, Any],
) -> None:
    assert validate_attributes(PC, attributes) == attributes


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"form": "desktop"}, "attributes.with_display"),
        ({"form": "desktop", "with_display": True}, "attributes.display"),
        ({"form": "desktop", "with_display": "yes"}, "attributes.with_display"),
        ({"form": "desktop", "with_display": False, "display": "lcd"}, "attributes.display"),
        ({"form": "laptop", "with_display": True}, "attributes.with_display"),
        ({"form": "desktop", "with_display": True, "display": "lcd"}, "attributes.backlight"),
    ],
)
def test_desktop_attributes_are_refused_naming_the_field(
    attributes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_attributes(PC, attributes)
    assert caught.value.field == field


def test_the_agitator_washer_type_is_recorded() -> None:
    washer = CATALOG.categories["washing_machine"]
    assert validate_attributes(washer, {"type": "agitator", "dry_load_kg": 8}) == {
        "type": "agitator",
        "dry_load_kg": "8",
    }


@pytest.mark.parametrize(
    ("fraction", "code"),
    [
        ("crt_phosphor", "900-044-49"),
        ("crt_funnel_glass", "900-044-49"),
        ("compressor_oil", "900-219-08"),
        ("pcb", "900-045-49"),
        ("ccfl_backlight", "900-023-29"),
        ("battery_nicd", "900-044-49"),
        ("battery_lead_acid", "900-052-31"),
    ],
)
def test_hazardous_fractions_carry_their_waste_list_code(fraction: str, code: str) -> None:
    assert CATALOG.fractions[fraction].hazardous
    assert CATALOG.fractions[fraction].hw_code == code


def test_every_current_hazardous_fraction_has_a_well_formed_code() -> None:
    for fraction in CATALOG.fractions.values():
        if fraction.hazardous and not fraction.legacy:
            assert fraction.hw_code and is_hw_code(fraction.hw_code), fraction.code
        if not fraction.hazardous:
            assert fraction.hw_code is None, fraction.code


def test_refrigerant_is_controlled_not_listed_waste_and_still_needs_its_receipt() -> None:
    refrigerant = CATALOG.fractions["refrigerant"]
    assert (refrigerant.hazardous, refrigerant.controlled) == (False, "ODS/HFC")
    assert refrigerant.receipt_required


def test_the_new_fractions_exist_and_hard_disks_hold_data() -> None:
    for code in ("toner_cartridge", "hard_disk", "pdp_panel", "oled_panel", "battery_li_ion"):
        assert code in CATALOG.fractions
    assert CATALOG.fractions["hard_disk"].data_bearing
    assert CATALOG.fractions["battery"].legacy  # chemistry not recorded: old records only
