"""The audit rules of issue 17: each fires on its case and stays silent on a normal one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask

from tests.audit.builders import (
    DAY0,
    GOOD_FLAT_TV,
    Ev,
    Log,
    audit_data,
    day,
    flat_tv,
    thresholds,
)
from traceability import create_app
from traceability.app import trace_of
from traceability.audit import floor_rules, intake_rules
from traceability.audit.datafiles import DataFileError
from traceability.audit.dataset import AuditedLot
from traceability.audit.findings import Finding
from traceability.audit.operations import load_operations
from traceability.audit.ruleset import TierBound, load_ruleset
from traceability.audit.services import apply_rules, named
from traceability.catalog.dismantling import unit_weight
from traceability.periods import CHINA
from traceability.verification.logs import Verification

T = thresholds()
DEMO_OPERATIONS = Path(__file__).parents[2] / "traceability/demo/data/operations.toml"


def subjects(found: object) -> list[str]:
    return sorted(f.subject for f in found)  # type: ignore[attr-defined]


def at(n: float, hour: int, minute: float = 0) -> dt.datetime:
    return day(n, hour) + dt.timedelta(minutes=minute)


def tv_at(qr_id: str, when: dt.datetime, plant: str = "DIS-A", line: str = "L1",
          actor: str = "op") -> Log:  # fmt: skip
    """A flat TV received the day before and dismantled at ``when``."""
    log = Log(qr_id).collected(plant, when - dt.timedelta(days=1))
    log.received(plant, when - dt.timedelta(hours=20))
    return log.dismantled(plant, when, GOOD_FLAT_TV, line=line, actor=actor)


def fridge_at(qr_id: str, when: dt.datetime, actor: str, line: str = "L2") -> Log:
    log = Log(qr_id).collected("DIS-A", when - dt.timedelta(days=1), "refrigerator",
                               {"volume_l": 200})  # fmt: skip
    log.received("DIS-A", when - dt.timedelta(hours=20), 48_000)
    outputs = {"compressor": 8_000, "refrigerant": 150, "pu_foam": 6_000, "ferrous_metal": 25_000}
    return log.dismantled("DIS-A", when, outputs, line=line, actor=actor)


# -- fast_dismantling -------------------------------------------------------------------


def test_a_line_dismantling_beyond_its_design_throughput_is_flagged(app: Flask) -> None:
    # default design throughput: 9 TVs an hour; 20 in an hour (two operators) is 2.2 line-hours
    rush = [tv_at(f"R{i}", at(3, 9, 3 * i), actor=f"op{i % 2}") for i in range(20)]
    calm = [tv_at(f"C{i}", at(4, 9, 8 * i)) for i in range(8)]  # one every 8 minutes
    found = list(floor_rules.fast_dismantling(audit_data(app, *rush, *calm), T))
    assert [(f.params["kind"], f.params["count"]) for f in found] == [("line", 20)]
    assert set(found[0].devices) == {f"R{i}" for i in range(20)}
    assert float(found[0].params["load"]) > 1.5
    assert list(floor_rules.fast_dismantling(audit_data(app, *calm), T)) == []


def test_the_throughput_a_plant_declares_for_its_line_is_the_measure(app: Flask) -> None:
    rush = [tv_at(f"R{i}", at(3, 9, 4 * i), "DIS-SZ01") for i in range(14)]  # 14 an hour
    # 14 TVs in an hour on one line: beyond the default 9 an hour (× 1.5) ...
    assert list(floor_rules.fast_dismantling(audit_data(app, *rush), T))
    # ... within the 12 an hour (× 1.5 = 18) the demo's Suzhou plant declares for its L1
    declared = load_operations(DEMO_OPERATIONS)
    assert declared.units_per_hour("DIS-SZ01", "L1", "tv")[0] == 12
    assert list(floor_rules.fast_dismantling(audit_data(app, *rush, operations=declared), T)) == []


def test_one_operator_recording_two_lines_at_once_is_flagged(app: Flask) -> None:
    # 5 fridges on L2 (4.5 an hour) and 5 TVs on L1 (9 an hour) in one hour, one operator:
    # each line within its throughput, the operator 1.67 line-hours an hour
    fridges = [fridge_at(f"F{i}", at(3, 14, 12 * i), "busy") for i in range(5)]
    tvs = [tv_at(f"T{i}", at(3, 14, 12 * i + 6), actor="busy") for i in range(5)]
    found = list(floor_rules.fast_dismantling(audit_data(app, *fridges, *tvs), T))
    assert [(f.params["kind"], f.subject) for f in found] == [
        ("operator", f"DIS-A/operator:busy/{at(3, 14).date()}")
    ]
    two_people = [tv_at(f"T{i}", at(3, 14, 12 * i + 6), actor="other") for i in range(5)]
    assert list(floor_rules.fast_dismantling(audit_data(app, *fridges, *two_people), T)) == []


def test_fast_dismantling_text_names_the_window_in_beijing_time(app: Flask) -> None:
    rush = [tv_at(f"R{i}", at(3, 9, 3 * i)) for i in range(20)]
    spec = load_ruleset().rule("fast_dismantling")
    found = list(floor_rules.fast_dismantling(audit_data(app, *rush), T))
    assert "(UTC+8)" in found[0].detail(spec, "en") and "拆解线 L1" in found[0].detail(spec, "zh")


# -- outside_working_hours ----------------------------------------------------------


def test_dismantling_outside_the_declared_hours_is_flagged_per_plant_day(app: Flask) -> None:
    night = [tv_at(f"N{i}", at(3, 22, 10 * i), "DIS-SZ01") for i in range(3)]  # 22:00–22:20
    daytime = [tv_at(f"D{i}", at(4, 10, 10 * i), "DIS-SZ01") for i in range(3)]
    declared = load_operations(DEMO_OPERATIONS)  # DIS-SZ01: 08:00–18:00, Monday to Friday
    data = audit_data(app, *night, *daytime, operations=declared)
    found = list(floor_rules.outside_working_hours(data, T))
    assert [(f.subject, f.params["count"]) for f in found] == [(f"DIS-SZ01/{at(3, 22).date()}", 3)]
    # the practice default (06:00–22:00, every day) flags only what is past 22:00 too
    assert [f.params["count"] for f in floor_rules.outside_working_hours(
        audit_data(app, *night, *daytime), T)] == [3]  # fmt: skip
    assert list(floor_rules.outside_working_hours(audit_data(app, *daytime), T)) == []


# -- tier_upcoding ------------------------------------------------------------------


def crt_tv(qr_id: str, plant: str, size: int) -> Log:
    log = Log(qr_id).collected(plant, DAY0, "tv", {"display": "crt", "screen_in": size})
    log.received(plant, DAY0 + dt.timedelta(minutes=10), 30_000)
    outputs = {"crt_panel_glass": 10_000, "crt_funnel_glass": 5_000, "pcb": 2_000}
    return log.dismantled(plant, DAY0 + dt.timedelta(days=1), outputs)


def plants_of_crts(piling: int) -> list[Log]:
    """Four plants of 20 CRT sets, 4 of them at 25″ (20 %); DIS-E with ``piling`` at 25″."""
    logs = []
    for plant in ("DIS-A", "DIS-B", "DIS-C", "DIS-D", "DIS-E"):
        at_25 = piling if plant == "DIS-E" else 4
        logs += [crt_tv(f"{plant}-{i}", plant, 25 if i < at_25 else 21) for i in range(20)]
    return logs


def test_crt_sets_piling_at_25_inch_at_one_plant_are_flagged(app: Flask) -> None:
    data = audit_data(app, *plants_of_crts(piling=12))  # 60 % against 20 % elsewhere
    found = list(floor_rules.tier_upcoding(data, T))
    assert [(f.org, f.params["bound"], f.params["band"]) for f in found] == [
        ("DIS-E", "CRT ≥ 25″", 12)
    ]
    assert found[0].params["median_pct"] == "20.0"
    usual = audit_data(app, *plants_of_crts(piling=5))  # 25 %: within the others' spread
    assert list(floor_rules.tier_upcoding(usual, T)) == []


def test_a_tier_bound_reads_decimal_attributes_and_its_conditions() -> None:
    washer = TierBound(category="washing_machine", attribute="dry_load_kg", low=Decimal("3.1"),
                       high=Decimal("3.6"), text="> 3 kg", source="test")  # fmt: skip
    assert washer.holds({"dry_load_kg": "3.5"}) and not washer.holds({"dry_load_kg": "3.0"})
    assert not washer.holds({"dry_load_kg": "x"}) and not washer.holds({})
    [crt] = [b for b in load_ruleset().tier_bounds if b.category == "tv"]
    assert crt.applies("tv", {"display": "crt"}) and not crt.applies("tv", {"display": "flat"})


# -- hazardous_not_shipped -----------------------------------------------------------


def test_a_hazardous_output_never_shipped_is_flagged_after_the_limit(app: Flask) -> None:
    old = flat_tv("OLD", at=day(0))  # its pcb (hazardous) waits from day 1
    shipped_pcb = Ev("s1", "lot_shipped", "DIS-A", day(50), {"to": "PRO"}, day(50), "d", 10**6)
    lot = AuditedLot("DIS-A-pcb-00001", "DIS-A", "pcb", True, (shipped_pcb,),
                     Verification("verified"))  # fmt: skip
    as_of = day(70)
    unshipped = audit_data(app, old, as_of=as_of)
    found = list(floor_rules.hazardous_not_shipped(unshipped, T))
    assert [(f.subject, f.params["days"]) for f in found] == [("DIS-A/pcb", 69)]
    assert found[0].at < as_of  # listed in the period it is audited in
    assert list(floor_rules.hazardous_not_shipped(audit_data(app, old, lots=(lot,),
                                                             as_of=as_of), T)) == []  # fmt: skip
    recent = audit_data(app, old, as_of=day(30))  # 29 days: within the 60 of the rule set
    assert list(floor_rules.hazardous_not_shipped(recent, T)) == []


# -- weight_drop, underweight_unit ------------------------------------------------------


def test_a_unit_weighed_in_far_lighter_than_collected_is_flagged(app: Flask) -> None:
    def delivered(qr_id: str, collected_g: int, received_g: int) -> Log:
        log = Log(qr_id).collected("COL-A", day(0), "refrigerator", {"volume_l": 200},
                                   weight_g=collected_g)  # fmt: skip
        log.add("shipped", "COL-A", day(1), to="DIS-A")
        return log.received("DIS-A", day(2), received_g)

    stripped = delivered("STRIPPED", 48_000, 30_000)  # 37.5 % lighter: a compressor gone
    rounded = delivered("ROUNDED", 48_500, 47_200)  # the collection point's coarse scale
    small = delivered("SMALL", 2_500, 1_800)  # 28 %, but only 0.7 kg
    data = audit_data(app, stripped, rounded, small, since=day(-1))
    found = list(intake_rules.weight_drop(data, T))
    assert [(f.subject, f.org, f.params["drop_pct"]) for f in found] == [
        ("STRIPPED", "DIS-A", "37.5")
    ]


def test_a_unit_below_its_categorys_minimum_weight_is_a_shell(app: Flask) -> None:
    shell = Log("SHELL").collected("DIS-A", day(0), "air_conditioner",
                                   {"form": "split", "cooling_w": 2600})  # fmt: skip
    shell.received("DIS-A", day(0, 10), 12_000)  # an outdoor unit without its compressor
    whole = Log("WHOLE").collected("DIS-A", day(0), "air_conditioner",
                                   {"form": "split", "cooling_w": 2600})  # fmt: skip
    whole.received("DIS-A", day(0, 10), 41_000)
    found = list(intake_rules.underweight_unit(audit_data(app, shell, whole), T))
    assert [(f.subject, f.params["minimum_kg"]) for f in found] == [("SHELL", "15.000")]
    # the catalogue's unit-weight band, the one claims read (catalog/data/bands.toml)
    catalog = trace_of(app).catalog
    assert unit_weight(catalog, "air_conditioner", {"form": "split"}).min_g == 15_000
    assert unit_weight(catalog, "no such category", {}).min_g is None


def test_the_least_weight_of_a_unit_depends_on_its_kind(app: Flask) -> None:
    """A 5 kg LCD TV is a whole one, a 5 kg plasma TV is not (their bands differ)."""
    lcd = Log("LCD").collected("DIS-A", day(0), "tv", {"display": "lcd", "backlight": "led",
                                                       "screen_in": 32})  # fmt: skip
    lcd.received("DIS-A", day(0, 10), 5_000)
    plasma = Log("PDP").collected("DIS-A", day(0), "tv", {"display": "plasma", "screen_in": 42})
    plasma.received("DIS-A", day(0, 10), 5_000)
    copier = Log("COPIER").collected("DIS-A", day(0), "copier", {})
    copier.received("DIS-A", day(0, 10), 12_000)  # a copier's shell: every category has a band
    found = list(intake_rules.underweight_unit(audit_data(app, lcd, plasma, copier), T))
    assert subjects(found) == ["COPIER", "PDP"]
    assert {f.subject: f.params["minimum_kg"] for f in found} == {
        "PDP": "10.000", "COPIER": "20.000",
    }  # fmt: skip


# -- refusals -------------------------------------------------------------------------


def refused(qr_id: str, sender: str, plant: str, then: str | None = None) -> Log:
    log = Log(qr_id).collected(sender, day(0))
    log.add("shipped", sender, day(1), to=plant)
    log.add("refused", plant, day(2), reason="空壳机：压缩机缺失")
    if then is not None:
        log.add("shipped", sender, day(5), to=then)
        log.received(then, day(6))
    return log


def test_one_collector_refused_repeatedly_is_flagged(app: Flask) -> None:
    three = [refused(f"R{i}", "COL-A", "DIS-A") for i in range(3)]
    two = [refused(f"S{i}", "COL-B", "DIS-A") for i in range(2)]
    found = list(intake_rules.repeated_refusals(audit_data(app, *three, *two), T))
    assert [(f.subject, f.org, f.params["count"]) for f in found] == [("COL-A", "COL-A", 3)]
    assert "压缩机缺失" in found[0].params["reasons"]


def test_a_refused_device_received_at_another_plant_is_flagged(app: Flask) -> None:
    elsewhere = refused("ELSEWHERE", "COL-A", "DIS-A", then="DIS-B")
    back = refused("BACK", "COL-A", "DIS-A", then="DIS-A")  # the same plant takes it after all
    found = list(intake_rules.refused_elsewhere(audit_data(app, elsewhere, back), T))
    assert [(f.subject, f.org, f.params["refused_by"]) for f in found] == [
        ("ELSEWHERE", "DIS-B", "DIS-A")
    ]


# -- the period a finding belongs to ------------------------------------------------------


def test_a_finding_names_the_dismantling_and_the_claims_holding_its_device(app: Flask) -> None:
    data = audit_data(app, flat_tv("X"))
    data.claims = {"X": ("DIS-A-2026Q3-1",)}
    finding = named(Finding("mass_balance", "DIS-A", DAY0, "X", devices=("X",)), data)
    assert finding.dismantled_in == "2026Q3" and finding.claims == ("DIS-A-2026Q3-1",)


def test_a_correction_after_the_close_belongs_to_the_quarter_dismantled_in(app: Flask) -> None:
    log = flat_tv("FIXED", at=dt.datetime(2026, 9, 20, 9, tzinfo=CHINA))
    received = log.events[1].id
    log.add("corrected", "DIS-A", dt.datetime(2026, 10, 9, 10, tzinfo=CHINA),
            corrects=received, reason="地磅复核", fields={"weight_g": 21_000},
            flag="after_dismantling")  # fmt: skip
    q3_start, q3_end = (dt.datetime(2026, m, 1, tzinfo=CHINA) for m in (7, 10))
    data = audit_data(app, log, since=q3_start, as_of=q3_end)
    record = data.devices["FIXED"]
    assert record.facts.received_weight_g == 20_000  # as recorded by the close
    assert record.late_weight_g == 1_000 and len(record.late) == 1
    found = [f for f in apply_rules(data, load_ruleset()) if f.rule == "correction"]
    assert [(f.subject, f.dismantled_in, f.severity) for f in found] == [
        ("FIXED", "2026Q3", "high")
    ]
    assert "2026Q3" in found[0].detail(load_ruleset().rule("correction"), "en")


# -- the data ----------------------------------------------------------------------------


def test_every_rule_names_its_source_and_the_new_rules_are_in_the_rule_set() -> None:
    ruleset = load_ruleset()
    assert all(r.source for r in ruleset.rules)
    new = {"weight_drop", "underweight_unit", "repeated_refusals", "refused_elsewhere",
           "tier_upcoding", "hazardous_not_shipped", "outside_working_hours"}  # fmt: skip
    assert new <= set(ruleset.ids)
    assert all(b.source for b in ruleset.tier_bounds)
    assert load_operations().defaults.source.startswith("practice default")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('source = "x"\n[[plants]]\ncode = "DIS-X"\nsource = "y"\n'
         '[[plants.lines]]\nid = "L1"\nunits_per_hour = { tv = -1 }\n', "plants.0.lines.0"),
        ('source = "x"\n[[plants]]\ncode = "DIS-X"\n', "plants.0.source"),
        ("source = \n", "not valid TOML"),
    ],
)  # fmt: skip
def test_a_malformed_operations_file_stops_the_start_naming_the_file_and_key(
    tmp_path: Path, settings: dict[str, object], text: str, named: str
) -> None:
    path = tmp_path / "operations.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        create_app({**settings, "plant_operations": path})
    assert str(path) in str(raised.value) and named in str(raised.value)
