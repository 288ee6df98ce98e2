"""Every anomaly the demo data set plants is found, by the rules and through the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlmodel import Session

from tests.audit.conftest import DEMO_DEVICES, add_user, stored_snapshot, token_for
from tests.support.web import sign_in
from traceability import demo
from traceability.accounts import services as accounts
from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import Audit
from traceability.audit.snapshots import Snapshot
from traceability.cli import demo as demo_command
from traceability.custody.models import Event
from traceability.demo import tampering
from traceability.demo.cases import LABELS
from traceability.demo.figures import load_figures
from traceability.demo.licence_cases import LABELS as LICENCE_LABELS
from traceability.demo.regime import SHELL
from traceability.periods import parse_period

Q3 = parse_period("2026Q3")


def planted(summary: str) -> tuple[Counter[str], str]:
    """The planted anomalies the demo's summary lists: label → count, and the unconfirmed lot."""
    counts, lots = planted_lots(summary)
    return counts, lots["hazardous lot shipped in August, receipt never confirmed"]


def planted_lots(summary: str) -> tuple[Counter[str], dict[str, str]]:
    """The planted anomalies: label → count, and label → lot for those naming a lot."""
    section = summary.split("Planted anomalies", 1)[1].split("\n\n", 1)[0]
    counts: Counter[str] = Counter()
    lots: dict[str, str] = {}
    for label, value in re.findall(r"^  - (.+): (\S+)$", section, re.M):
        if value.isdigit():
            counts[label] = int(value)
        else:
            lots[label] = value
    return counts, lots


def claim_cases(summary: str) -> Counter[str]:
    """The claim cases the demo's summary lists (demo/regime.py): label → count."""
    section = summary.split("Planted claim cases", 1)[1].split("\n\n", 1)[0]
    return Counter({label: int(n) for label, n in re.findall(r"^  - (.+): (\d+)$", section, re.M)})


def severity_counts(findings: list, rule: str) -> Counter[str]:  # type: ignore[type-arg]
    spec = load_ruleset().rule(rule)
    return Counter(f.severity_of(spec) for f in findings if f.rule == rule)


#: The audit cases of issue 17 the demo plants (demo/cases.py, demo/licence_cases.py):
#: summary label → the rules that find it.
CASES = {
    LABELS["line_rush"]: ("fast_dismantling",),
    LABELS["two_lines"]: ("fast_dismantling",),
    LABELS["night_shift"]: ("outside_working_hours",),
    LABELS["upcoding"]: ("tier_upcoding",),
    # both the cross-plant outlier and the category's band (funnel low, panel high)
    LABELS["share_outlier"]: ("output_share_outlier", "fraction_share_band"),
    LABELS["hazardous_held"]: ("hazardous_not_shipped",),
    LABELS["refusals"]: ("repeated_refusals",),
    LABELS["refused_elsewhere"]: ("refused_elsewhere",),
    LABELS["weight_drop"]: ("weight_drop",),
    LABELS["shell"]: ("underweight_unit",),
    LABELS["residue"]: ("resource_rate",),
    LICENCE_LABELS["capacity"]: ("capacity_exceeded",),
    LICENCE_LABELS["unlicensed"]: ("unlicensed_category",),
}


def test_every_planted_anomaly_is_found_and_nothing_else_of_its_kind(
    app: Flask, demo_summary: str, demo_audit: Audit
) -> None:
    counts, lot = planted(demo_summary)
    assert len(counts) == 8 + len(CASES) and lot, demo_summary  # it lists what it plants
    findings = list(demo_audit.findings)
    by_rule = Counter(f.rule for f in findings)
    assert by_rule["leakage"] == counts["lost in transit"]
    assert by_rule["duplicate_serial"] == 2 * counts["duplicated serial (pairs)"]
    # A refrigerator shell (空壳机) came without its compressor: irregular too.
    shells = claim_cases(demo_summary)[SHELL]
    assert shells >= 1
    assert (
        by_rule["irregular_dismantling"]
        == counts["irregular dismantling (required output missing)"] + shells
    )
    assert by_rule["mass_balance"] == counts["mass balance below 65 %"]
    assert by_rule["backdating"] == counts["dismantlings entered 15 working days late"]
    corrections = severity_counts(findings, "correction")
    assert corrections["medium"] == counts["re-weighed intake (corrected)"]
    assert corrections["low"] == counts["brand typo (corrected)"]
    # re-weighed after the quarter closed: a finding of the quarter it was dismantled in
    assert corrections["high"] == counts[LABELS["late_correction"]] == 1
    [late] = [f for f in findings if f.rule == "correction" and f.at >= Q3.end]
    assert late.dismantled_in == "2026Q3" and late.org == "DIS-SZ01"
    assert [f.subject for f in findings if f.rule == "hazardous_lot_unconfirmed"] == [lot]
    # The manifest weighed 154.9 kg out and 20.0 kg in (issue 17), and nothing else.
    [short] = [f for f in findings if f.rule == "lot_weight_mismatch"]
    weighed = planted_lots(demo_summary)[1]["lot shipped at 154.9 kg, received at 20.0 kg"]
    assert (short.subject, short.params["shipped_kg"], short.params["received_kg"]) == (
        weighed, "154.900", "20.000",
    )  # fmt: skip
    # Late-September shipments wait for their receipt: normal, not leakage.
    late = [f for f in findings if f.rule == "backdating"]
    assert {f.org for f in late} == {"DIS-BJ01"}
    assert all(f.params["type"] == "dismantled" and f.params["days"] >= 15 for f in late)
    # No ledger in this test: nothing is "verified", nothing failed either.
    assert by_rule["verification_failed"] == 0
    assert not any(f.verified for f in findings)
    # issue 17: each case once, and nothing else of its kind; the refrigerator shells of
    # the claim cases weigh less than a whole refrigerator too
    expected: Counter[str] = Counter({"underweight_unit": shells})
    for label, rules in CASES.items():
        for rule in rules:
            expected[rule] += counts[label]
    assert {rule: by_rule[rule] for rule in expected} == dict(expected)
    # a stocktake far short of the book (demo/licensing.py), and nothing else
    stocktake_lot = planted_lots(demo_summary)[1]["lot stocktake far short of the book"]
    [stock] = [f for f in findings if f.rule == "stocktake_mismatch"]
    assert (stock.subject, stock.org) == (stocktake_lot, "DIS-GZ01")
    assert float(stock.params["share_pct"]) == pytest.approx(70, abs=0.5)
    fast = {f.params["kind"]: f for f in findings if f.rule == "fast_dismantling"}
    assert set(fast) == {"line", "operator"}  # the line rush, the operator on two lines
    [refused] = [f for f in findings if f.rule == "repeated_refusals"]
    elsewhere = {f.subject for f in findings if f.rule == "refused_elsewhere"}
    assert elsewhere == set(refused.devices)  # every refused device went to another plant


#: Rules only a regulator's instance can raise: what its import of a plant refused or found
#: missing (tests/integration/test_federation.py plants each on two served instances).
REGULATOR_ONLY = {"import_refused": "a plant's record refused or missing at the regulator's import"}

#: Rules that fire only when the database was changed behind the services (by design: no
#: record made through them can trip one), so the demo cannot plant them honestly; each
#: has its tampering test.
TAMPER_ONLY = {
    # an event row edited after anchoring: test_an_event_row_edited_in_the_database_is_a_
    # verification_finding (below), tests/audit/test_rules.py, tests/devices/test_malformed_rows.py
    "verification_failed": "a record edited, deleted or invented after anchoring",
    # a stored snapshot rewritten with a future computed_at: tests/audit/test_snapshot_trust.py
    "snapshot_in_the_future": "an audit snapshot rewritten to claim a future time",
    # the plant's stock count is the projection the events themselves write, so only a
    # device row edited behind the log differs: tests/register/test_scope.py,
    # tests/audit/test_rules.py
    "stock_reconciliation": "a device row's state edited behind the event log",
}


def test_every_audit_rule_fires_on_the_demo(
    app: Flask, demo_summary: str, demo_audit: Audit
) -> None:
    """Issue 17, must show: each rule of rules.toml has a finding on the demo quarter — the
    demo `traceability demo` (and so `make run`) loads by default, in the audit (what the
    API computes) and in the stored snapshot the portal reads."""
    [devices] = [p.default for p in demo_command.params if p.name == "devices"]
    assert devices == DEMO_DEVICES  # the size `make run` loads is the size tested here
    ruleset = load_ruleset()
    assert set(TAMPER_ONLY) <= set(ruleset.ids)
    snapshot = stored_snapshot(app, "2026Q3")
    assert isinstance(snapshot, Snapshot)
    for findings in (demo_audit.findings, snapshot.findings):
        by_rule = Counter(f.rule for f in findings)
        assert [
            r for r in ruleset.ids if not by_rule[r] and r not in {*TAMPER_ONLY, *REGULATOR_ONLY}
        ] == []
        assert {r: by_rule[r] for r in TAMPER_ONLY} == dict.fromkeys(TAMPER_ONLY, 0)


def test_the_tampered_demo_fires_the_rules_only_tampering_raises(
    app: Flask, demo_summary: str
) -> None:
    """`traceability demo --tamper`: the administrator's three edits, and the next refresh
    finds each — so every rule of rules.toml fires on the demo (issue 17, must show)."""
    said = tampering.tamper(trace_of(app))
    assert said.count("→") == 3 and "Beijing time" in said
    refresh(trace_of(app))  # not forced: the snapshot dated ahead must not fool it
    quarter, whole = stored_snapshot(app, "2026Q3"), stored_snapshot(app, "all")
    assert isinstance(quarter, Snapshot) and isinstance(whole, Snapshot)
    found = Counter(f.rule for f in (*quarter.findings, *whole.findings))
    assert [r for r in load_ruleset().ids if not found[r] and r not in REGULATOR_ONLY] == []
    assert [f.org for f in whole.findings if f.rule == "stock_reconciliation"] == ["DIS-WX02"]
    [edited] = [f for f in quarter.findings if f.rule == "verification_failed"]
    assert edited.org == "DIS-SZ01" and edited.events[0] in said


def test_the_api_lists_every_finding_to_the_auditors_of_its_region_only(
    app: Flask, client: FlaskClient, demo_summary: str, demo_audit: Audit
) -> None:
    with Session(trace_of(app).engine) as session:
        accounts.add_org(
            session=session, code="REG-GD", kind="regulator", name="广东省生态环境厅",
            region="440000",
        )  # fmt: skip
        session.commit()
    auditors = {
        "32": token_for(app, "js.auditor"),
        "11": token_for(app, "bj.auditor"),
        "44": add_user(app, "gd.auditor", "REG-GD", "auditor"),
    }
    expected = {(f.rule, f.subject, f.org) for f in demo_audit.findings}
    with Session(trace_of(app).engine) as session:
        regions = dict(session.execute(select(Organisation.code, Organisation.region)).all())
    seen: set[tuple[str, str, str]] = set()
    for prefix, headers in auditors.items():
        items = []
        page = 1
        while True:
            body = client.get(
                f"/api/v1/audit/anomalies?period=2026Q3&page={page}&per_page=20", headers=headers
            ).get_json()
            items += body["items"]
            if page * 20 >= body["total"]:
                break
            page += 1
        assert len(items) == body["total"]
        orgs = {i["org"] for i in items}
        assert orgs, prefix
        assert all(regions[o].startswith(prefix) for o in orgs), (prefix, orgs)
        seen |= {(i["rule"], i["subject"], i["org"]) for i in items}
    assert seen == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026Q5", "period"),
        ("period=last", "period"),
        ("rule=nope", "rule"),
        ("severity=urgent", "severity"),
        ("page=0", "page"),
        ("per_page=100000", "per_page"),
        ("page=x", "page"),
    ],
)
def test_bad_filters_are_a_422_naming_the_parameter(
    app: Flask, client: FlaskClient, demo_summary: str, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/audit/anomalies?{query}", headers=token_for(app, "js.auditor"))
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_filters_by_plant_rule_and_severity(
    app: Flask, client: FlaskClient, demo_summary: str
) -> None:
    headers = token_for(app, "bj.auditor")
    url = "/api/v1/audit/anomalies?period=2026Q3&per_page=500"
    everything = client.get(url, headers=headers).get_json()["items"]
    for query, keep in [
        ("&plant=DIS-BJ01", lambda i: i["org"] == "DIS-BJ01"),
        ("&rule=backdating", lambda i: i["rule"] == "backdating"),
        ("&severity=high", lambda i: i["severity"] == "high"),
    ]:
        items = client.get(url + query, headers=headers).get_json()["items"]
        assert items == [i for i in everything if keep(i)] and items, query


def test_managers_see_their_own_plant_and_operators_nothing(
    app: Flask, client: FlaskClient, demo_summary: str
) -> None:
    url = "/api/v1/audit/anomalies?period=2026Q3&per_page=500"
    manager = token_for(app, "bj.manager")
    items = client.get(url, headers=manager).get_json()["items"]
    assert items and {i["org"] for i in items} == {"DIS-BJ01"}
    other = client.get(url + "&plant=DIS-SZ01", headers=manager)
    assert other.status_code == 403 and other.get_json()["error"]["field"] == "plant"
    outside = client.get(url + "&plant=DIS-SZ01", headers=token_for(app, "bj.auditor"))
    assert outside.status_code == 403
    operator = client.get(url, headers=token_for(app, "bj.intake"))
    assert operator.status_code == 403


def test_a_closed_period_as_of_its_close(demo_audit: Audit) -> None:
    assert demo_audit.as_of == dt.datetime(2026, 10, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))


_ROW = re.compile(r'<tr data-rule="([^"]+)" data-subject="([^"]+)">')


def portal_rows(client: FlaskClient, username: str) -> set[tuple[str, str]]:
    """Every row of every page of the portal's anomaly list for 2026Q3 as ``username``."""
    assert sign_in(client, username, demo.PASSWORD).status_code == 302
    rows: set[tuple[str, str]] = set()
    page = 1
    while True:
        html = client.get(f"/portal/anomalies?period=2026Q3&page={page}").get_data(as_text=True)
        found = set(_ROW.findall(html))
        if not found or found <= rows:
            return rows
        rows |= found
        page += 1


def test_the_portal_lists_every_finding_to_the_auditors_of_its_region(
    app: Flask, demo_summary: str, demo_audit: Audit
) -> None:
    with Session(trace_of(app).engine) as session:
        accounts.add_org(
            session=session, code="REG-GD", kind="regulator", name="广东省生态环境厅",
            region="440000",
        )  # fmt: skip
        accounts.add_user(session=session, username="gd.auditor", org_code="REG-GD",
                          role="auditor", password=demo.PASSWORD)  # fmt: skip
        session.commit()
    findings = demo_audit.findings
    expected = {(f.rule, f.subject) for f in findings}
    counts, lot = planted(demo_summary)
    assert ("hazardous_lot_unconfirmed", lot) in expected
    seen: set[tuple[str, str]] = set()
    for auditor in ("js.auditor", "bj.auditor", "gd.auditor"):
        rows = portal_rows(app.test_client(), auditor)
        assert rows
        seen |= rows
    assert seen == expected
    assert len([r for r in seen if r[0] == "leakage"]) == counts["lost in transit"]


def test_an_event_row_edited_in_the_database_is_a_verification_finding(
    app: Flask, demo_summary: str
) -> None:
    client = app.test_client()
    headers = token_for(app, "js.auditor")
    url = "/api/v1/audit/anomalies?period=2026Q3&rule=verification_failed"
    assert client.get(url, headers=headers).get_json()["total"] == 0
    with trace_of(app).engine.begin() as conn:
        row = conn.execute(
            select(Event.id, Event.device, Event.payload)
            .where(Event.org == "DIS-SZ01", Event.type == "received")
            .limit(1)
        ).one()
        payload = {**row.payload, "weight_g": row.payload["weight_g"] - 1000}
        conn.execute(update(Event).where(Event.id == row.id).values(payload=payload))
    # A direct edit changes no count: the refresher finds it at its next recheck
    # (TRACE_AUDIT_RECHECK_S); here the refresh is asked for.
    refresh(trace_of(app), force=True)
    body = client.get(url, headers=headers).get_json()
    assert [(i["subject"], i["severity"], i["events"]) for i in body["items"]] == [
        (row.device, "high", [row.id])
    ]


def test_the_anomaly_list_and_plant_figures_export_as_xlsx_and_csv(
    app: Flask, client: FlaskClient, demo_summary: str, demo_audit: Audit
) -> None:
    assert sign_in(client, "bj.auditor", demo.PASSWORD).status_code == 302
    # Whatever the Beijing auditor reads: every organisation in region 11xxxx (both
    # Beijing collection points, not only those named …BJ01).
    beijing = {o.code for o in load_figures().orgs if o.region.startswith("11")}
    findings = [f for f in demo_audit.findings if f.org in beijing]
    xlsx = client.get("/portal/anomalies.xlsx?period=2026Q3")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + len(findings)
    assert {r[4] for r in rows[1:]} == {f.subject for f in findings}
    csv_text = client.get("/portal/anomalies.csv?period=2026Q3").data.decode("utf-8")
    assert csv_text.startswith("\ufeff")  # Excel reads the Chinese text as UTF-8
    assert len(list(csv.reader(io.StringIO(csv_text[1:])))) == len(rows)
    english = {"Accept-Language": "en"}
    figures = client.get("/portal/plants/DIS-BJ01/figures.xlsx?period=2026Q3", headers=english)
    table = list(load_workbook(io.BytesIO(figures.data)).active.iter_rows(values_only=True))
    received = next(r for r in table if r[0] == "Received")
    with Session(trace_of(app).engine) as session:
        logged = session.execute(
            select(func.count()).select_from(Event).where(
                Event.org == "DIS-BJ01", Event.type == "received",
                Event.occurred_at >= Q3.start, Event.occurred_at < Q3.end,
            )
        ).scalar()  # fmt: skip
    assert received[1] == logged
    assert client.get("/portal/plants/DIS-SZ01/figures.csv?period=2026Q3").status_code == 403


def test_the_overview_shows_five_plants_of_one_province(app: Flask, demo_summary: str) -> None:
    """Regional comparisons need plants to compare (issue 17): Jiangsu has five."""
    client = app.test_client()
    assert sign_in(client, "js.auditor", demo.PASSWORD).status_code == 302
    html = client.get("/portal/?period=2026Q3").get_data(as_text=True)
    assert 'data-as-recorded-by="2026-09-30T16:00:00.000000Z"' in html  # the rule, stated
    plants = set(re.findall(r'<tr data-plant="([^"]+)">', html))
    assert len(plants) >= 5, plants
    with Session(trace_of(app).engine) as session:
        regions = dict(session.execute(select(Organisation.code, Organisation.region)).all())
    assert all(regions[p].startswith("32") for p in plants)


def test_the_batch_of_the_late_correction_reads_as_recorded_by_the_close(
    app: Flask, demo_summary: str, demo_audit: Audit
) -> None:
    """Issue 17 item 8 in the demo: its batch weighs the same on every page, the
    re-weighing of October shown apart."""
    [late] = [f for f in demo_audit.findings if f.rule == "correction" and f.at >= Q3.end]
    with Session(trace_of(app).engine) as session:
        batch = session.execute(
            select(Event.payload["batch"].as_string()).where(
                Event.device == late.subject, Event.type == "dismantled"
            )
        ).scalar_one()
    headers = token_for(app, "js.auditor")
    client = app.test_client()
    body = client.get(f"/api/v1/batches/{batch}?org=DIS-SZ01", headers=headers).get_json()
    assert len(body["corrections_after_close"]) == 1 and body["mass_change_after_close_kg"] == 6
    listed = client.get(
        "/api/v1/audit/anomalies?period=2026Q3&rule=correction&severity=high", headers=headers
    ).get_json()["items"]
    assert [i["subject"] for i in listed] == [late.subject]
    snapshot = stored_snapshot(app, "2026Q3")
    assert isinstance(snapshot, Snapshot)
    [group] = [g for g in snapshot.figures.batches["DIS-SZ01"] if g.code == batch]
    assert Decimal(group.mass_g) / 1000 == Decimal(str(body["mass_kg"]))  # one figure
    assert group.late_corrections == 1 and group.late_mass_g == 6000
