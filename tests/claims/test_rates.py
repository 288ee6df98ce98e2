"""The rate engine: the rate in force on the dismantling date in Beijing, one schedule per date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from traceability.catalog.models import parse_catalog
from traceability.claims.rates import NotRated, Rated, rate_device
from traceability.errors import ValidationFailed
from traceability.periods import CHINA, beijing_date, parse_period

ROOT = Path(__file__).parents[2]
NATIONAL = parse_catalog()
WITH_EXAMPLE = parse_catalog(rate_files=(ROOT / "traceability/demo/data/rates-example.toml",))
SUZHOU = "320500"

CRT_21 = ("tv", {"display": "crt", "screen_in": 21})
FLAT = ("tv", {"display": "lcd", "backlight": "led", "screen_in": 42})
#: Before 2016 the fund paid one rate per category (财综〔2012〕34号); after, by tier.
NATIONAL_2012, NATIONAL_2016 = "national-fund-2012", "national-fund-2012-2021"


def rate(catalog: Any, device: tuple[str, dict[str, Any]], day: str, region: str = SUZHOU) -> Any:
    return rate_device(catalog, device[0], device[1], dt.date.fromisoformat(day), region)


@pytest.mark.parametrize(
    ("device", "day", "expected"),
    [
        (CRT_21, "2012-07-01", 85),
        (CRT_21, "2015-12-31", 85),
        (CRT_21, "2016-01-01", 60),
        (CRT_21, "2021-03-31", 60),
        (CRT_21, "2021-04-01", 40),
        (FLAT, "2021-03-31", 70),
        (FLAT, "2021-04-01", 45),
        (FLAT, "2023-12-31", 45),
        (("air_conditioner", {"form": "split", "cooling_w": 3500}), "2015-12-31", 35),
        (("air_conditioner", {"form": "split", "cooling_w": 3500}), "2016-01-01", 130),
        (("washing_machine", {"type": "single_tub", "dry_load_kg": "5"}), "2021-04-01", 25),
        (("washing_machine", {"type": "drum", "dry_load_kg": "10"}), "2021-04-01", 30),
        (("refrigerator", {"volume_l": 50}), "2021-04-01", 55),
        (("refrigerator", {"volume_l": 500}), "2021-04-01", 55),
        (("microcomputer", {"form": "tablet"}), "2015-12-31", 85),
    ],
)
def test_national_rate_in_force_on_the_day(device: Any, day: str, expected: int) -> None:
    found = rate(NATIONAL, device, day)
    assert isinstance(found, Rated), found
    schedule = NATIONAL_2012 if day < "2016-01-01" else NATIONAL_2016
    assert (found.rate, found.schedule.id) == (expected, schedule)


@pytest.mark.parametrize(
    ("device", "day", "tier"),
    [
        (("tv", {"display": "crt", "screen_in": 13}), "2021-04-01", "tv_crt_below_14"),
        (("washing_machine", {"type": "drum", "dry_load_kg": "3"}), "2021-04-01", "washer_up_to_3"),
        (("refrigerator", {"volume_l": 45}), "2021-04-01", "fridge_below_50"),
    ],
)
def test_tiers_not_eligible_since_2016(device: Any, day: str, tier: str) -> None:
    found = rate(NATIONAL, device, day)
    assert isinstance(found, NotRated) and found.reason == "no_eligible_tier"
    assert tier in found.detail
    assert isinstance(rate(NATIONAL, device, "2015-12-31"), Rated)


def test_the_national_schedule_ends_with_2023_and_nothing_covers_2024_by_default() -> None:
    assert isinstance(rate(NATIONAL, FLAT, "2023-12-31"), Rated)
    found = rate(NATIONAL, FLAT, "2024-01-01")
    assert isinstance(found, NotRated) and found.reason == "no_rate_schedule"


def test_a_deployment_schedule_takes_over_from_2024() -> None:
    old, new = rate(WITH_EXAMPLE, FLAT, "2023-12-31"), rate(WITH_EXAMPLE, FLAT, "2024-01-01")
    assert isinstance(old, Rated) and isinstance(new, Rated)
    assert (old.schedule.id, old.rate) == (NATIONAL_2016, 45)
    assert (new.schedule.id, new.rate) == ("example-province-2024-2027", 40)
    assert new.schedule.label and "EXAMPLE" in new.schedule.label
    assert old.schedule.sha256 != new.schedule.sha256


def test_a_region_outside_every_schedule_has_none() -> None:
    found = rate(WITH_EXAMPLE, FLAT, "2026-08-01", region="510100")
    assert isinstance(found, NotRated) and found.reason == "no_rate_schedule"


def test_two_schedules_covering_one_date_is_no_schedule(tmp_path: Path) -> None:
    overlap = (ROOT / "traceability/demo/data/rates-example.toml").read_text(encoding="utf-8")
    (tmp_path / "two.toml").write_text(
        overlap.replace("example-province-2024-2027", "second-2024"), encoding="utf-8"
    )
    catalog = parse_catalog(
        rate_files=(ROOT / "traceability/demo/data/rates-example.toml", tmp_path / "two.toml")
    )
    found = rate(catalog, FLAT, "2026-08-01")
    assert isinstance(found, NotRated) and found.reason == "no_rate_schedule"
    assert "2 rate schedules" in found.detail


@pytest.mark.parametrize(
    ("when", "day"),
    [
        ("2021-03-31T15:59:59+00:00", "2021-03-31"),  # 23:59:59 in Beijing
        ("2021-03-31T16:00:00+00:00", "2021-04-01"),  # midnight in Beijing, still the 31st in UTC
        ("2023-12-31T16:30:00+00:00", "2024-01-01"),
    ],
)
def test_dates_are_beijing_dates(when: str, day: str) -> None:
    assert beijing_date(dt.datetime.fromisoformat(when)) == dt.date.fromisoformat(day)


def test_periods_are_beijing_quarters() -> None:
    q = parse_period("2021q1")
    assert q.name == "2021Q1"
    assert q.start == dt.datetime(2021, 1, 1, tzinfo=CHINA)
    assert q.end == dt.datetime(2021, 4, 1, tzinfo=CHINA)
    assert q.contains(dt.datetime(2021, 3, 31, 15, 59, tzinfo=dt.UTC))
    assert not q.contains(dt.datetime(2021, 3, 31, 16, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize("bad", ["2026Q5", "2026", "Q3", "", None, 2026, "1999Q1", "2026Q3 "])
def test_bad_periods_are_refused_naming_the_field(bad: Any) -> None:
    if bad == "2026Q3 ":
        assert parse_period(bad).name == "2026Q3"  # surrounding spaces are forgiven
        return
    with pytest.raises(ValidationFailed) as raised:
        parse_period(bad)
    assert raised.value.field == "period"


def test_a_claim_is_per_quarter_while_the_audit_also_takes_months() -> None:
    assert parse_period("2026-09").end == dt.datetime(2026, 10, 1, tzinfo=CHINA)
    with pytest.raises(ValidationFailed, match="quarter such as 2026Q3"):
        parse_period("2026-09", months=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("screen_in = { min = 14, below = 25 }", "screen_inches = { min = 14 }"), "no attribute"),
        (('display = "crt", screen_in = { min = 25 }', 'display = "hologram"'), "no value"),
        (("rates = [40]", "rates = [40, 45]"), "one rate per effective date"),
    ],
)
def test_schedules_are_checked_against_the_catalogue_when_loaded(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = (ROOT / "traceability/demo/data/rates-example.toml").read_text(encoding="utf-8")
    assert change[0] in text
    (tmp_path / "bad.toml").write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        parse_catalog(rate_files=(tmp_path / "bad.toml",))
