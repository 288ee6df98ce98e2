"""Each audit rule: records that trigger it, and records that do not."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from tests.audit.builders import (
    DAY0,
    GOOD_FLAT_TV,
    Ev,
    Log,
    audit_data,
    day,
    flat_tv,
    org,
    thresholds,
)
from traceability.audit import device_rules, licence_rules, plant_rules
from traceability.audit.dataset import AuditedLot
from traceability.audit.device_rules import normalise_serial
from traceability.audit.findings import Finding
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import RULES, apply_rules
from traceability.verification.logs import Verification

T = thresholds()


def subjects(found: object) -> list[str]:
    return sorted(f.subject for f in found)  # type: ignore[attr-defined]


def test_every_rule_of_the_rule_set_is_implemented_and_explained_in_both_languages() -> None:
    ruleset = load_ruleset()
    assert set(ruleset.ids) == set(RULES)
    for rule in ruleset.rules:
        assert rule.zh and rule.en and rule.explain_zh and rule.explain_en
        assert rule.zh != rule.en


# -- verification ---------------------------------------------------------------


def test_verification_failed_lists_a_device_whose_log_fails_and_not_a_pending_one(
    app: Flask,
) -> None:
    data = audit_data(
        app, flat_tv("BAD"), flat_tv("PENDING"), flat_tv("OK"),
        BAD="failed", PENDING="pending",
    )  # fmt: skip
    found = list(device_rules.verification_failed(data, T))
    assert subjects(found) == ["BAD"]
    assert found[0].org == "DIS-A"


def test_verification_failed_lists_a_lot_whose_log_fails(app: Flask) -> None:
    event = Ev("l1", "lot_shipped", "DIS-A", DAY0, {"to": "PRO"}, DAY0, "d", 1)
    lots = tuple(
        AuditedLot(code, "DIS-A", "pcb", True, (event,), Verification(status, (("l1", status),)))
        for code, status in (("LOT-BAD", "failed"), ("LOT-OK", "verified"))
    )
    assert subjects(device_rules.verification_failed(audit_data(app, lots=lots), T)) == ["LOT-BAD"]


# -- per dismantled device ----------------------------------------------------------


def test_mass_balance_flags_outputs_far_below_or_above_the_intake(app: Flask) -> None:
    low = flat_tv("LOW", weight_g=20_000, outputs={"pcb": 2_000, "lcd_panel": 8_000})  # 50 %
    high = flat_tv("HIGH", weight_g=10_000, outputs={"pcb": 2_000, "lcd_panel": 9_000})  # 110 %
    fine = flat_tv("FINE", weight_g=20_000, outputs=GOOD_FLAT_TV)  # 92.5 %
    found = {f.subject: f for f in device_rules.mass_balance(audit_data(app, low, high, fine), T)}
    assert set(found) == {"LOW", "HIGH"}
    assert found["HIGH"].severity == "high" and found["LOW"].severity is None


def test_mass_balance_tolerance_is_configurable(app: Flask) -> None:
    low = flat_tv("LOW", weight_g=20_000, outputs={"pcb": 2_000, "lcd_panel": 8_000})  # 50 %
    loose = thresholds(mass_balance_loss_max=0.6)
    assert list(device_rules.mass_balance(audit_data(app, low), loose)) == []


def test_resource_rate_below_40_percent_counts_everything_but_other(app: Flask) -> None:
    poor = flat_tv("POOR", outputs={"pcb": 2_000, "lcd_panel": 5_000, "other": 11_000})  # 35 %
    fine = flat_tv("FINE", outputs={"pcb": 2_000, "lcd_panel": 7_000, "other": 9_000})  # 45 %
    found = device_rules.resource_rate(audit_data(app, poor, fine), T)
    assert subjects(found) == ["POOR"]


def test_irregular_dismantling_names_the_missing_required_output(app: Flask) -> None:
    no_lcd = flat_tv("NOLCD", outputs={"pcb": 2_000, "plastics": 16_000})
    found = list(device_rules.irregular_dismantling(audit_data(app, no_lcd, flat_tv("OK")), T))
    assert subjects(found) == ["NOLCD"]
    spec = load_ruleset().rule("irregular_dismantling")
    assert "LCD" in found[0].detail(spec, "en") and "液晶" in found[0].detail(spec, "zh")


# -- custody -----------------------------------------------------------------------


def test_leakage_flags_a_device_shipped_and_never_received_after_the_limit(app: Flask) -> None:
    lost = Log("LOST").collected("COL-A", day(0)).add("shipped", "COL-A", day(1), to="DIS-A")
    recent = Log("RECENT").collected("COL-A", day(0)).add("shipped", "COL-A", day(55), to="DIS-A")
    arrived = flat_tv("ARRIVED")
    found = list(device_rules.leakage(audit_data(app, lost, recent, arrived, as_of=day(60)), T))
    assert subjects(found) == ["LOST"]
    assert found[0].org == "DIS-A"  # the plant it never reached


def test_leakage_flags_a_device_left_at_a_collection_point_not_one_in_plant_stock(
    app: Flask,
) -> None:
    stale = Log("STALE").collected("COL-A", day(0))
    in_plant = Log("INPLANT").collected("DIS-A", day(0))
    found = device_rules.leakage(audit_data(app, stale, in_plant, as_of=day(60)), T)
    assert subjects(found) == ["STALE"]


def test_duplicate_serials_match_after_unicode_normalisation(app: Flask) -> None:
    a = Log("A").collected("DIS-A", day(0), serial="SN-12345AB")
    b = Log("B").collected("DIS-A", day(1), serial="ＳＮ－１２３４５ａｂ")  # full-width, lower
    c = Log("C").collected("DIS-A", day(2), serial="SN-12345AC")
    found = list(device_rules.duplicate_serial(audit_data(app, a, b, c), T))
    assert subjects(found) == ["A", "B"]
    assert all(f.devices == ("A", "B") for f in found)
    assert normalise_serial("ＳＮ－１２３４５ａｂ") == normalise_serial("sn-12345AB ")


def test_backdating_flags_events_recorded_long_after_they_occurred(app: Flask) -> None:
    late = Log("LATE").collected("DIS-A", day(0), recorded=day(10))
    prompt = Log("PROMPT").collected("DIS-A", day(0), recorded=day(0, 18))
    found = list(device_rules.backdating(audit_data(app, late, prompt), T))
    assert subjects(found) == ["LATE"]
    assert found[0].events == (late.events[0].id,)
    # The detail names the step in the reader's words, never the event type's code.
    spec = load_ruleset().rule("backdating")
    assert found[0].detail(spec, "zh-CN").startswith("回收：发生于 ")
    assert found[0].detail(spec, "en").startswith("collected: occurred ")


def test_corrections_weigh_more_for_mass_and_most_after_dismantling(app: Flask) -> None:
    brand = Log("BRAND").collected("DIS-A", day(0), brand="Haeir")
    brand.add("corrected", "DIS-A", day(0, 10), corrects=brand.events[0].id,
              reason="typo", fields={"brand": "Haier"})  # fmt: skip
    mass = flat_tv("MASS")
    received = mass.events[1].id
    mass.add("corrected", "DIS-A", day(3), corrects=received, reason="pallet",
             fields={"weight_g": 18_000}, flag="after_dismantling")  # fmt: skip
    weighed = Log("WEIGHED").collected("DIS-A", day(0)).received("DIS-A", day(0, 10))
    weighed.add("corrected", "DIS-A", day(0, 11), corrects=weighed.events[1].id,
                reason="pallet", fields={"weight_g": 18_000})  # fmt: skip
    clean = flat_tv("CLEAN")
    data = audit_data(app, brand, mass, weighed, clean)
    found = {f.subject: f for f in device_rules.correction(data, T)}
    assert {k: v.severity for k, v in found.items()} == {
        "BRAND": None,  # the rule's own: low
        "MASS": "high",
        "WEIGHED": "medium",
    }


def test_hazardous_lot_without_confirmed_receipt_after_the_limit(app: Flask) -> None:
    def lot(code: str, hazardous: bool, shipped: float, received: float | None) -> AuditedLot:
        return AuditedLot(
            code, "DIS-A", "battery" if hazardous else "plastics", hazardous, (),
            Verification("verified"), shipped_at=day(shipped), shipped_to="PRO",
            received_at=day(received) if received is not None else None,
        )  # fmt: skip

    lots = (
        lot("OLD-UNCONFIRMED", True, 5, None),
        lot("RECENT-UNCONFIRMED", True, 50, None),
        lot("OLD-CONFIRMED", True, 5, 8),
        lot("OLD-NOT-HAZARDOUS", False, 5, None),
    )
    found = device_rules.hazardous_lot_unconfirmed(audit_data(app, lots=lots, as_of=day(60)), T)
    assert subjects(found) == ["OLD-UNCONFIRMED"]


# -- per plant ---------------------------------------------------------------------


def test_stock_reconciliation_compares_the_log_with_the_plants_own_count(app: Flask) -> None:
    in_stock = Log("STOCK").collected("DIS-A", day(0)).received("DIS-A", day(0, 10))
    data = audit_data(app, in_stock, flat_tv("DONE"))
    data.recorded_stock = {"DIS-A": 1}
    assert list(plant_rules.stock_reconciliation(data, T)) == []
    data.recorded_stock = {"DIS-A": 3}  # the plant's table claims two more in stock
    found = list(plant_rules.stock_reconciliation(data, T))
    assert [(f.org, f.params) for f in found] == [("DIS-A", {"log_stock": 1, "recorded_stock": 3})]


def _day_of_dismantlings(prefix: str, plant: str, n: int, start: dt.datetime,
                         minutes: float, line: str = "L1") -> list[Log]:  # fmt: skip
    return [
        flat_tv(f"{prefix}{i}", plant, at=start - dt.timedelta(days=1)).dismantled(
            plant, start + dt.timedelta(minutes=i * minutes), GOOD_FLAT_TV, line=line
        )
        for i in range(n)
    ]


def test_capacity_without_a_licence_reads_the_registers_yearly_figure(app: Flask) -> None:
    """A plant with no licence in the register (before the register, licence checks
    "registered"): its one yearly figure, every category together, pro rata per quarter."""
    # 2026Q3 has 92 days: 400 a year allow 100.8 units, with the 10 % margin 110.9
    small = org("DIS-A", capacity=400)
    busy = _day_of_dismantlings("BUSY", "DIS-A", 111, day(3), 2)
    data = audit_data(app, *busy, orgs=(small,))
    found = list(licence_rules.capacity_exceeded(data, T))
    assert [(f.subject, f.params["count"], f.params["allowed"]) for f in found] == [
        ("DIS-A/*/2026Q3", 111, "100.8")
    ]
    assert found[0].params["basis_en"] == "registered capacity (no licence)"
    within = audit_data(app, *busy[:110], orgs=(small,))
    assert list(licence_rules.capacity_exceeded(within, T)) == []
    assert list(licence_rules.capacity_exceeded(audit_data(app, *busy), T)) == []  # no figure


def test_output_share_outlier_against_the_median_across_plants(app: Flask) -> None:
    plants = [f"DIS-{c}" for c in "ABCDEF"]
    logs = []
    for i, plant in enumerate(plants):  # lcd_panel shares 30 %, 30.5 %, 31 %, ...
        lcd = 6_000 + 100 * i
        logs.append(flat_tv(f"T{i}", plant, outputs={**GOOD_FLAT_TV, "lcd_panel": lcd}))
    odd = {**GOOD_FLAT_TV, "lcd_panel": 1_000}  # 5 %: the panel went somewhere else
    logs.append(flat_tv("ODD", "DIS-G", outputs=odd))
    data = audit_data(app, *logs, orgs=tuple(org(p) for p in [*plants, "DIS-G"]))
    one_each = thresholds(outlier_min_devices=1)  # one device a plant here
    found = [
        f for f in plant_rules.output_share_outlier(data, one_each) if "lcd_panel" in f.subject
    ]
    assert [f.org for f in found] == ["DIS-G"]
    few = audit_data(app, *logs[:3], logs[-1])  # four plants: too few to call an outlier
    assert list(plant_rules.output_share_outlier(few, one_each)) == []
    # a plant with fewer devices of the category than the rule set asks is not compared
    assert list(plant_rules.output_share_outlier(data, T)) == []


def test_output_share_outlier_ignores_a_difference_too_small_to_matter(app: Flask) -> None:
    plants = [f"DIS-{c}" for c in "ABCDEF"]
    logs = [  # lcd_panel 30.0 %, 30.1 %, ...: a robust z far above 3.5, yet 2 points at most
        flat_tv(f"T{i}", plant, outputs={**GOOD_FLAT_TV, "lcd_panel": 6_000 + 20 * i})
        for i, plant in enumerate(plants)
    ]
    logs.append(flat_tv("ODD", "DIS-G", outputs={**GOOD_FLAT_TV, "lcd_panel": 6_400}))
    data = audit_data(app, *logs, orgs=tuple(org(p) for p in [*plants, "DIS-G"]))
    strict = thresholds(outlier_min_devices=1, outlier_min_diff=0)
    assert [f.org for f in plant_rules.output_share_outlier(data, strict) if "lcd" in f.subject]
    loose = thresholds(outlier_min_devices=1)  # 0.03: three percentage points at least
    assert list(plant_rules.output_share_outlier(data, loose)) == []


def test_robust_z_is_zero_when_every_plant_agrees() -> None:
    assert plant_rules.robust_z(0.3, [0.3, 0.3, 0.3, 0.3, 0.3]) == 0.0


# -- the run ------------------------------------------------------------------------


def test_findings_outside_the_period_are_left_out(app: Flask) -> None:
    late = Log("LATE").collected("DIS-A", day(0), recorded=day(10))
    inside = audit_data(app, late, since=day(-1), as_of=day(20))
    outside = audit_data(app, late, since=day(1), as_of=day(20))
    assert [f.rule for f in apply_rules(inside, load_ruleset())] == ["backdating"]
    assert apply_rules(outside, load_ruleset()) == []


def test_a_finding_reads_in_both_languages() -> None:
    spec = load_ruleset().rule("leakage")
    finding = Finding(
        "leakage", "DIS-A", DAY0, "X",
        {"since": "2026-07-06", "days": 20, "org": "DIS-A", "state_zh": "已发运",
         "state_en": "shipped"},
    )  # fmt: skip
    assert "已发运" in finding.detail(spec, "zh-CN") and "shipped" in finding.detail(spec, "en")
