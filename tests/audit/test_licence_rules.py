"""The rules over what a plant's 处理资格证书 allows (SPEC §2.7, §2.8): capacity per licensed
category and quarter, and dismantlings its licence did not cover (issue 17)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from flask import Flask

from tests.audit.builders import GOOD_FLAT_TV, Log, audit_data, thresholds
from traceability.accounts.licences import LicenceBook, replay_licences
from traceability.app import trace_of
from traceability.audit import licence_rules
from traceability.audit.dataset import AuditData, AuditLogs
from traceability.audit.dataset import audit_data as replayed
from traceability.audit.findings import Finding
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import apply_rules
from traceability.periods import CHINA, parse_period

T = thresholds()
Q3 = parse_period("2026Q3")
#: A licence event as the register records it: (type, organisation, payload).
Entry = tuple[str, str, dict[str, Any]]


def register(*events: Entry) -> tuple[SimpleNamespace, ...]:
    """Licence events as the register records them: (type, org, payload), in order."""
    return tuple(
        SimpleNamespace(id=f"L{n}", type=kind, organisation=code, payload=payload)
        for n, (kind, code, payload) in enumerate(events)
    )


def issued(scope: dict[str, int], valid_from: str = "2024-01-01", valid_to: str = "2028-12-31",
           code: str = "DIS-A", number: str = "JSFD-0001") -> Entry:  # fmt: skip
    return ("licence_issued", code, {
        "licence": "dismantling", "number": number, "uscc": "91320500MA1P3KQ7X8",
        "valid_from": valid_from, "valid_to": valid_to, "categories": scope,
    })  # fmt: skip


def amended(scope: dict[str, int], effective: str, valid_to: str = "2028-12-31",
            code: str = "DIS-A", number: str = "JSFD-0001") -> Entry:  # fmt: skip
    return ("licence_amended", code, {
        "licence": "dismantling", "number": number, "uscc": "91320500MA1P3KQ7X8",
        "effective": effective, "valid_to": valid_to, "categories": scope,
    })  # fmt: skip


def book(*events: Entry) -> LicenceBook:
    return replay_licences(register(*events))


def beijing(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CHINA)


def dismantled(qr_id: str, when: dt.datetime, category: str = "tv",
               plant: str = "DIS-A") -> Log:  # fmt: skip
    attributes = {"tv": {"display": "lcd", "backlight": "led", "screen_in": 42},
                  "air_conditioner": {"form": "split", "cooling_w": 2600}}  # fmt: skip
    log = Log(qr_id).collected(plant, when - dt.timedelta(hours=2), category,
                               attributes.get(category, {}))  # fmt: skip
    log.received(plant, when - dt.timedelta(hours=1), 20_000)
    return log.dismantled(plant, when, GOOD_FLAT_TV)


def many(prefix: str, n: int, start: dt.datetime, category: str = "tv") -> list[Log]:
    """``n`` units dismantled from ``start``, one every 2 hours (across days)."""
    return [dismantled(f"{prefix}{i}", start + dt.timedelta(hours=2 * i), category)
            for i in range(n)]  # fmt: skip


def quarter_data(app: Flask, logs: list[Log], licences: LicenceBook,
                 period: str = "2026Q3") -> AuditData:  # fmt: skip
    window = parse_period(period)
    data = audit_data(app, *logs, as_of=window.end, since=window.start)
    data.licences = licences
    return data


# -- capacity_exceeded ------------------------------------------------------------------


def test_capacity_is_the_licences_yearly_figure_for_the_category_pro_rata_over_the_quarter(
    app: Flask,
) -> None:
    # 365 TVs a year: 92 in the 92 days of 2026Q3, with the 10 % margin 101.2
    licences = book(issued({"tv": 365, "refrigerator": 100_000}))
    busy = many("TV", 102, beijing("2026-07-02 09:00"))
    found = list(licence_rules.capacity_exceeded(quarter_data(app, busy, licences), T))
    assert [(f.subject, f.params["count"], f.params["allowed"], f.params["days"])
            for f in found] == [("DIS-A/tv/2026Q3", 102, "92.0", 92)]  # fmt: skip
    assert (found[0].params["yearly"], found[0].params["basis_en"]) == ("365", "licence JSFD-0001")
    spec = load_ruleset().rule("capacity_exceeded")
    assert "2026Q3" in found[0].detail(spec, "en") and "许可证 JSFD-0001" in found[0].detail(
        spec, "zh-CN")  # fmt: skip
    normal = busy[:101]
    assert list(licence_rules.capacity_exceeded(quarter_data(app, normal, licences), T)) == []


def test_capacity_is_counted_per_category(app: Flask) -> None:
    """102 units of two categories licensed at 365 a year each: neither is above its own."""
    licences = book(issued({"tv": 365, "refrigerator": 365}))
    logs = many("TV", 60, beijing("2026-07-02 09:00"))
    logs += many("FR", 42, beijing("2026-07-02 10:00"), "refrigerator")
    assert list(licence_rules.capacity_exceeded(quarter_data(app, logs, licences), T)) == []


def test_only_the_days_a_licence_covers_the_category_count(app: Flask) -> None:
    """A licence from 1 September: 30 days of 365 a year allow 30 (33 with the margin)."""
    licences = book(issued({"tv": 365}, valid_from="2026-09-01"))
    september = many("TV", 34, beijing("2026-09-01 09:00"))
    [found] = licence_rules.capacity_exceeded(quarter_data(app, september, licences), T)
    assert (found.params["days"], found.params["allowed"]) == (30, "30.0")
    # an amendment raising the capacity from 15 September: 14 days at 365, 16 at 3,650
    raised = book(issued({"tv": 365}, valid_from="2026-09-01"),
                  amended({"tv": 3_650}, effective="2026-09-15"))  # fmt: skip
    assert list(licence_rules.capacity_exceeded(quarter_data(app, september, raised), T)) == []


def test_a_quarter_is_counted_whole_whatever_the_window(app: Flask) -> None:
    """Audited by month, August's finding counts July's units of the quarter too; July's
    own audit sees only July's (and August's are not yet dismantled by its end)."""
    licences = book(issued({"tv": 365}))
    logs = many("JUL", 51, beijing("2026-07-02 09:00"))
    logs += many("AUG", 51, beijing("2026-08-03 09:00"))
    august = quarter_data(app, logs, licences, "2026-08")
    [found] = [f for f in apply_rules(august, load_ruleset()) if f.rule == "capacity_exceeded"]
    assert (found.params["count"], found.params["quarter"]) == (102, "2026Q3")
    july = quarter_data(app, logs, licences, "2026-07")
    assert list(licence_rules.capacity_exceeded(july, T)) == []


def test_a_category_the_licence_does_not_cover_is_not_a_capacity_finding(app: Flask) -> None:
    licences = book(issued({"tv": 365}))
    acs = many("AC", 5, beijing("2026-07-02 09:00"), "air_conditioner")
    data = quarter_data(app, acs, licences)
    assert list(licence_rules.capacity_exceeded(data, T)) == []
    assert len(list(licence_rules.unlicensed_category(data, T))) == 5  # that rule's instead


# -- unlicensed_category ----------------------------------------------------------------


def unlicensed(app: Flask, logs: list[Log], licences: LicenceBook) -> list[Finding]:
    return list(licence_rules.unlicensed_category(quarter_data(app, logs, licences), T))


def test_a_category_the_licence_does_not_cover_is_a_finding(app: Flask) -> None:
    licences = book(issued({"tv": 365_000}))
    ac = dismantled("AC", beijing("2026-08-03 10:00"), "air_conditioner")
    tv = dismantled("TV", beijing("2026-08-03 11:00"))
    [found] = unlicensed(app, [ac, tv], licences)
    assert (found.subject, found.org, found.params["valid"], found.events) == (
        "AC", "DIS-A", True, (ac.events[-1].id,),
    )  # fmt: skip
    spec = load_ruleset().rule("unlicensed_category")
    assert found.detail(spec, "en") == (
        "Air conditioner dismantled 2026-08-03 10:00 (UTC+8): the dismantling licence valid "
        "that day, JSFD-0001 (2024-01-01–2028-12-31), does not cover it (licensed: Television)"
    )
    assert found.detail(spec, "zh-CN").startswith("2026-08-03 10:00 (UTC+8) 拆解空气调节器：")


def test_a_dismantling_outside_the_licences_validity_is_a_finding(app: Flask) -> None:
    licences = book(issued({"tv": 365_000}, valid_from="2026-08-01", valid_to="2026-08-31"))
    before = dismantled("JULY", beijing("2026-07-31 16:00"))
    during = dismantled("AUGUST", beijing("2026-08-31 16:00"))
    after = dismantled("SEPTEMBER", beijing("2026-09-01 08:30"))
    found = unlicensed(app, [before, during, after], licences)
    assert sorted((f.subject, f.params["valid"]) for f in found) == [
        ("JULY", False), ("SEPTEMBER", False),
    ]  # fmt: skip
    spec = load_ruleset().rule("unlicensed_category")
    assert "no dismantling licence of the plant was valid that day" in found[0].detail(spec, "en")


def test_the_licences_day_is_the_beijing_date(app: Flask) -> None:
    """Valid from 1 September: 00:30 on 1 September in Beijing is 16:30 UTC on 31 August."""
    licences = book(issued({"tv": 365_000}, valid_from="2026-09-01"))
    late_evening = dismantled("AUG31", beijing("2026-08-31 23:30"))
    past_midnight = dismantled("SEP01", beijing("2026-09-01 00:30"))
    assert past_midnight.events[-1].occurred_at.astimezone(dt.UTC).day == 31
    assert [f.subject for f in unlicensed(app, [late_evening, past_midnight], licences)] == [
        "AUG31"
    ]


def test_a_licence_amended_afterwards_with_an_earlier_effect(app: Flask) -> None:
    """Microcomputers withdrawn from 1 September, recorded in October: the September
    dismantlings were allowed when recorded and are findings now; August's are not."""
    licences = book(issued({"tv": 365_000, "microcomputer": 10_000}),
                    amended({"tv": 365_000}, effective="2026-09-01"))  # fmt: skip
    august = dismantled("AUG", beijing("2026-08-28 10:00"), "microcomputer")
    september = dismantled("SEP", beijing("2026-09-02 10:00"), "microcomputer")
    [found] = unlicensed(app, [august, september], licences)
    assert found.subject == "SEP"
    assert "as amended from 2026-09-01" in found.params["why_en"]
    assert "2026-09-01 起按变更" in found.params["why_zh"]


def test_a_plant_without_a_licence_in_the_register_is_not_judged(app: Flask) -> None:
    elsewhere = book(issued({"tv": 365_000}, code="DIS-B"))
    ac = dismantled("AC", beijing("2026-08-03 10:00"), "air_conditioner")
    assert unlicensed(app, [ac], elsewhere) == []


def test_the_finding_names_the_dismantling_quarter_and_is_listed_in_it(app: Flask) -> None:
    licences = book(issued({"tv": 365_000}))
    ac = dismantled("AC", beijing("2026-08-03 10:00"), "air_conditioner")
    data = quarter_data(app, [ac], licences)
    data.claims = {"AC": ("CLM-DIS-A-2026Q3",)}
    [found] = [f for f in apply_rules(data, load_ruleset()) if f.rule == "unlicensed_category"]
    assert (found.dismantled_in, found.claims) == ("2026Q3", ("CLM-DIS-A-2026Q3",))


def test_the_audit_reads_the_register_as_it_stands_not_as_of_the_period_end(app: Flask) -> None:
    """An amendment recorded after the quarter closed, with effect inside it, is what the
    closed quarter's audit reads (like a correction recorded after the close)."""
    licence_events = register(issued({"tv": 365_000, "microcomputer": 10_000}),
                              amended({"tv": 365_000}, effective="2026-09-01"))  # fmt: skip
    logs = AuditLogs(orgs={}, devices={}, verification={}, lots={}, recorded_stock={},
                     licence_events=licence_events)  # fmt: skip
    data = replayed(logs, trace_of(app).catalog, as_of=Q3.end, since=Q3.start)
    assert "microcomputer" in data.licences.licensed_categories("DIS-A", dt.date(2026, 8, 31))
    assert "microcomputer" not in data.licences.licensed_categories("DIS-A", dt.date(2026, 9, 1))
