"""Per-category bands of fraction shares (issue 17): a plant's outputs judged against what a
unit of the category holds (catalog/data/bands.toml), not against the other plants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask

from tests.audit.builders import Log, audit_data, day, thresholds
from traceability.audit import plant_rules
from traceability.audit.ruleset import load_ruleset
from traceability.catalog.files import CatalogDataError
from traceability.catalog.models import DATA_DIR, parse_catalog

T = thresholds()
CRT = {"display": "crt", "screen_in": 21}
#: A 25 kg CRT set dismantled as a CRT set is: glass 56 %, funnel 19 %, panel 37 % of it.
CRT_OUTPUTS = {"crt_panel_glass": 9_250, "crt_funnel_glass": 4_750, "crt_phosphor": 15,
               "pcb": 1_750, "plastics": 5_000, "ferrous_metal": 1_250, "copper": 750}  # fmt: skip


def crt_sets(prefix: str, plant: str, n: int, outputs: dict[str, int] | None = None) -> list[Log]:
    logs = []
    for i in range(n):
        log = Log(f"{prefix}{i}").collected(plant, day(i), "tv", CRT)
        log.received(plant, day(i, 10), 25_000)
        logs.append(log.dismantled(plant, day(i + 1), outputs or CRT_OUTPUTS))
    return logs


def booked_as_panel(share: float) -> dict[str, int]:
    """The funnel glass but ``share`` of it booked as panel glass (it costs less to dispose)."""
    kept = round(CRT_OUTPUTS["crt_funnel_glass"] * share)
    moved = CRT_OUTPUTS["crt_funnel_glass"] - kept
    return {**CRT_OUTPUTS, "crt_funnel_glass": kept,
            "crt_panel_glass": CRT_OUTPUTS["crt_panel_glass"] + moved}  # fmt: skip


def test_funnel_glass_booked_as_panel_glass_is_outside_both_bands(app: Flask) -> None:
    odd = crt_sets("NJ", "DIS-NJ", 6, booked_as_panel(0.1))
    normal = crt_sets("SZ", "DIS-SZ", 6)
    found = list(plant_rules.fraction_share_band(audit_data(app, *odd, *normal), T))
    assert sorted((f.org, f.subject, f.params["share_pct"], f.params["band"]) for f in found) == [
        ("DIS-NJ", "DIS-NJ/tv[display = crt]/crt_funnel_glass", "1.9", "10.0–35.0 %"),
        ("DIS-NJ", "DIS-NJ/tv[display = crt]/crt_panel_glass", "54.1", "20.0–50.0 %"),
    ]
    assert all(set(f.devices) == {f"NJ{i}" for i in range(6)} for f in found)
    assert all(f.params["source"].startswith("practice default") for f in found)
    spec = load_ruleset().rule("fraction_share_band")
    funnel = next(f for f in found if "funnel" in f.subject)
    assert funnel.detail(spec, "en") == (
        "Television (display = crt): CRT funnel glass (leaded) 1.9 % of the intake of 6 units "
        "(150.000 kg), band 10.0–35.0 %"
    )
    assert funnel.detail(spec, "zh-CN").startswith(
        "电视机（display = crt）：CRT锥玻璃（含铅） 占 6 台"
    )


def test_crt_glass_far_below_what_a_crt_set_holds(app: Flask) -> None:
    """Half the tube's glass not reported (left with the residue): the glass together is
    below its band though each kind alone may still look plausible."""
    short = {**CRT_OUTPUTS, "crt_panel_glass": 5_100, "crt_funnel_glass": 2_700, "other": 6_200}
    data = audit_data(app, *crt_sets("X", "DIS-X", 5, short))
    found = list(plant_rules.fraction_share_band(data, T))
    assert [(f.subject, f.params["share_pct"]) for f in found] == [
        ("DIS-X/tv[display = crt]/crt_panel_glass+crt_funnel_glass", "31.2")
    ]
    assert found[0].params["fractions_en"] == "CRT panel glass + CRT funnel glass (leaded)"


def test_a_plant_with_too_few_units_of_the_band_is_not_judged(app: Flask) -> None:
    few = crt_sets("NJ", "DIS-NJ", T.share_band_min_devices - 1, booked_as_panel(0.1))
    assert list(plant_rules.fraction_share_band(audit_data(app, *few), T)) == []


def test_one_plant_is_enough_no_other_plants_needed(app: Flask) -> None:
    """Unlike output_share_outlier (which needs five plants reporting the category)."""
    odd = crt_sets("NJ", "DIS-NJ", 10, booked_as_panel(0.1))
    data = audit_data(app, *odd)
    assert list(plant_rules.output_share_outlier(data, thresholds(outlier_min_devices=1))) == []
    assert len(list(plant_rules.fraction_share_band(data, T))) == 2


def test_devices_dismantled_outside_the_period_are_not_counted(app: Flask) -> None:
    odd = crt_sets("NJ", "DIS-NJ", 6, booked_as_panel(0.1))
    later = audit_data(app, *odd, since=day(30))
    assert list(plant_rules.fraction_share_band(later, T)) == []


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('fractions = ["crt_funnel_glass"], min = "0.10"', 'fractions = ["crt_funel_glass"], '
         'min = "0.10"', "bands[0].shares[1].fractions", "unknown fraction 'crt_funel_glass'"),
        ('min = "0.10", max = "0.35"', 'min = "0.40", max = "0.35"', "bands[0].shares[1]",
         "min must be below max"),
        ('min = "0.10", max = "0.35"', 'min = "10", max = "35"', "bands[0].shares[1].min",
         "less than or equal to 1"),
    ],
    ids=["unknown-fraction", "min-above-max", "percent-not-share"],
)  # fmt: skip
def test_a_malformed_share_band_fails_at_start_naming_the_file_and_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    bands = data / "bands.toml"
    text = bands.read_text(encoding="utf-8")
    assert old in text
    bands.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogDataError) as caught:
        parse_catalog(data)
    assert "bands.toml" in str(caught.value) and key in str(caught.value)
    assert words in str(caught.value)


def test_every_band_names_its_source_and_every_category_has_a_least_unit_weight() -> None:
    """One table for the least weight of a unit (what claims and underweight_unit read)."""
    catalog = parse_catalog()
    assert all(s.source and "practice default" in s.source
               for b in catalog.bands.bands for s in b.shares)  # fmt: skip
    weighed = {b.category for b in catalog.bands.bands if b.unit_kg.min is not None}
    assert weighed == set(catalog.categories)
