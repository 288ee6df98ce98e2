"""The national rate data as the documents write it (财综〔2012〕34号, 公告2015年第91号,
财税〔2021〕10号, the 2014 catalogue from 2016-03-01), issue 17 items 1 and 6."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from traceability.catalog.models import parse_catalog
from traceability.claims.rates import NotRated, Rated, in_scope, rate_device

ROOT = Path(__file__).parents[2]
NATIONAL = parse_catalog()
WITH_EXAMPLE = parse_catalog(rate_files=(ROOT / "traceability/demo/data/rates-example.toml",))
SUZHOU = "320500"


def rate(device: tuple[str, dict[str, Any]], day: str, catalog: Any = NATIONAL) -> Any:
    return rate_device(catalog, device[0], device[1], dt.date.fromisoformat(day), SUZHOU)


TVS = {
    "crt_29": {"display": "crt", "screen_in": 29},
    "lcd_led": {"display": "lcd", "backlight": "led", "screen_in": 42},
    "lcd_ccfl": {"display": "lcd", "backlight": "ccfl", "screen_in": 32},
    "plasma": {"display": "plasma", "screen_in": 50},
    "oled": {"display": "oled", "screen_in": 55},
    "rear_projection": {"display": "rear_projection", "screen_in": 60},
    "legacy_flat": {"display": "flat", "screen_in": 42},  # recorded before the type was asked
}


@pytest.mark.parametrize("name", list(TVS))
@pytest.mark.parametrize(("day", "expected"), [("2016-01-01", 70), ("2021-04-01", 45)])
def test_crt_from_25_inches_and_every_flat_panel_are_one_official_row(
    name: str, day: str, expected: int
) -> None:
    found = rate(("tv", TVS[name]), day)
    assert isinstance(found, Rated), found
    assert (found.tier.id, found.rate) == ("tv_crt_25_up_or_flat", expected)
    assert "等离子电视机" in found.tier.zh and "25寸及以上阴极射线管" in found.tier.zh


@pytest.mark.parametrize("name", ["plasma", "oled", "lcd_ccfl"])
def test_the_example_schedule_pays_every_flat_panel_too(name: str) -> None:
    found = rate(("tv", TVS[name]), "2026-08-01", WITH_EXAMPLE)
    assert isinstance(found, Rated) and found.tier.id == "tv_crt_25_up_or_flat"


@pytest.mark.parametrize("form", ["tablet", "palmtop"])
@pytest.mark.parametrize("day", ["2016-01-01", "2021-04-01", "2023-12-31"])
def test_tablets_are_to_be_set_separately_not_ineligible(form: str, day: str) -> None:
    found = rate(("microcomputer", {"form": form}), day)
    assert isinstance(found, NotRated)
    assert found.reason == "standard_set_separately"
    assert "另行制定" in found.detail


@pytest.mark.parametrize(
    ("device", "paid"),
    [
        (("refrigerator", {"volume_l": 650}), 80),  # 501–800 L: no tier since 2016
        (("refrigerator", {"volume_l": 45}), 80),
        (("refrigerator", {"volume_l": 900}), 80),  # no 2014 catalogue limit yet
        (("tv", {"display": "crt", "screen_in": 12}), 85),
        (("washing_machine", {"type": "drum", "dry_load_kg": "12"}), 35),
        (("washing_machine", {"type": "agitator", "dry_load_kg": "7"}), 35),
        (("microcomputer", {"form": "tablet"}), 85),
    ],
)
def test_2012_to_2015_paid_one_rate_per_category(device: Any, paid: int) -> None:
    for day in ("2012-07-01", "2014-05-20", "2015-12-31"):
        found = rate(device, day)
        assert isinstance(found, Rated), (day, found)
        assert (found.schedule.id, found.rate) == ("national-fund-2012", paid)
        assert "财综〔2012〕34号" in found.schedule.source
        assert in_scope(NATIONAL, device[0], device[1], dt.date.fromisoformat(day))


def test_a_501_to_800_litre_fridge_has_no_tier_from_2016() -> None:
    found = rate(("refrigerator", {"volume_l": 650}), "2016-01-01")
    assert isinstance(found, NotRated) and found.reason == "no_eligible_tier"


@pytest.mark.parametrize(
    ("day", "inside"), [("2015-12-31", True), ("2016-02-29", True), ("2016-03-01", False)]
)
def test_the_2014_catalogue_limits_hold_from_2016_03_01(day: str, inside: bool) -> None:
    assert NATIONAL.scope_from == dt.date(2016, 3, 1)
    when = dt.date.fromisoformat(day)
    assert in_scope(NATIONAL, "refrigerator", {"volume_l": 900}, when) is inside
    assert in_scope(NATIONAL, "washing_machine", {"type": "drum", "dry_load_kg": "12"}, when) is (
        inside
    )


def test_the_first_catalogue_already_limited_air_conditioners_to_14000_w() -> None:
    found = rate(("air_conditioner", {"form": "multi_split", "cooling_w": 16000}), "2014-01-01")
    assert isinstance(found, NotRated) and found.reason == "no_eligible_tier"


def test_an_agitator_washer_is_named_by_no_tier_since_2016() -> None:
    above = rate(("washing_machine", {"type": "agitator", "dry_load_kg": "7"}), "2017-06-01")
    assert isinstance(above, NotRated) and above.reason == "no_eligible_tier"
    small = rate(("washing_machine", {"type": "agitator", "dry_load_kg": "3"}), "2017-06-01")
    assert isinstance(small, NotRated) and "washer_up_to_3" in small.detail
    top_load = rate(
        ("washing_machine", {"type": "top_load_auto", "dry_load_kg": "7"}), "2017-06-01"
    )
    assert isinstance(top_load, Rated) and top_load.tier.id == "washer_twin_auto_drum"


def test_the_2024_to_2027_fund_is_central_and_sets_no_per_unit_rate() -> None:
    """Item 5: no schedule of ours says a province pays per-unit standards from 2024."""
    assert not any(s.covers(dt.date(2024, 1, 1), SUZHOU) for s in NATIONAL.rate_schedules.values())
    example = WITH_EXAMPLE.rate_schedules["example-province-2024-2027"]
    assert "no per-unit rate" in example.source
    assert "allocated to provinces by formula" in example.source
    for path in ("README.md", "traceability/demo/data/rates-example.toml",
                 "traceability/catalog/data/rates.toml", "traceability/config.py"):  # fmt: skip
        text = (ROOT / path).read_text(encoding="utf-8")
        assert "province's 以奖代补" not in text and "provincial special funds" not in text, path
    assert "废弃电器电子产品处理专项资金" in (
        ROOT / "traceability/catalog/data/rates.toml"
    ).read_text(encoding="utf-8")
