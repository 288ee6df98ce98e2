"""The overview leads to the records behind its figures (issue 20 item 1): a plant × severity
matrix whose counts open the filtered findings and say the change against the quarter
before, each plant's capacity use per licensed category, and charts whose bars carry the
page each leads to."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld
from tests.support.manifests import license_org
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import ShiftedClock
from traceability.periods import CHINA

SHORT = {"pcb": "2", "plastics": "3"}  # of a 20 kg CRT set: far below its intake


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA))  # 2026Q3 is closed


def dismantled_in(client: FlaskClient, plant: Actor, day: str, outputs: dict[str, str]) -> str:
    at = Handheld(client, plant)
    qr_id = at.collect(occurred_at=f"{day}T00:30:00Z")
    at.record({"type": "received", "qr_id": qr_id, "weight_kg": "20",
               "occurred_at": f"{day}T00:40:00Z"})  # fmt: skip
    at.dismantle(qr_id, outputs, occurred_at=f"{day}T01:08:00Z")
    return qr_id


@pytest.fixture
def overview(
    app: Flask, client: FlaskClient, make_actor: Callable[..., Actor]
) -> tuple[str, dict[str, object], Actor]:
    """Two short dismantlings in 2026Q3 and one in 2026Q2 at a plant licensed for 400 TVs a
    year; the region's auditor reads the 2026Q3 overview."""
    plant = make_actor("DIS-JS01", "dismantler")
    license_org(app, "DIS-JS01", "dismantling", {"tv": 400, "washing_machine": 1000},
                number="JS01-DISM")  # fmt: skip
    dismantled_in(client, plant, "2026-05-06", SHORT)
    dismantled_in(client, plant, "2026-07-06", SHORT)
    dismantled_in(client, plant, "2026-08-06", SHORT)
    refresh(trace_of(app), force=True)
    make_actor("REG-JS", "regulator", role="auditor", region="320000", username="js.reader",
               password=PASSWORD)  # fmt: skip
    assert sign_in(client, "js.reader").status_code == 302
    page = client.get("/portal/?period=2026Q3", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert block is not None
    return html, json.loads(block.group(1)), plant


def severities(client: FlaskClient, period: str, plant: str) -> Counter[str]:
    """The findings of the plant in the period as the anomaly API lists them, by severity."""
    found: Counter[str] = Counter()
    page = 1
    while True:
        answer = client.get(f"/api/v1/audit/anomalies?period={period}&plant={plant}&page={page}")
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        found.update(item["severity"] for item in body["items"])
        if page >= body.get("pages", 1):
            return found
        page += 1


def test_each_count_opens_its_findings_and_says_the_change_against_the_quarter_before(
    client: FlaskClient, overview: tuple[str, dict[str, object], Actor]
) -> None:
    html, _charts, plant = overview
    now, before = severities(client, "2026Q3", plant.org), severities(client, "2026Q2", plant.org)
    assert now["medium"] or now["high"], now  # the short dismantlings are findings
    for severity in ("high", "medium", "low"):
        cell = re.search(rf'<td class="num sev-cell sev-{severity}[^"]*">(.*?)</td>', html, re.S)
        assert cell is not None, severity
        text = cell.group(1)
        if now[severity]:
            link = f"/portal/anomalies?period=2026Q3&amp;plant={plant.org}&amp;severity={severity}"
            assert f'href="{link}"' in text and f">{now[severity]}</a>" in text
        else:
            assert text.startswith("0")
        assert f'data-change="{now[severity] - before[severity]}"' in text


def test_capacity_use_is_the_dismantled_units_against_the_licence_for_the_period(
    overview: tuple[str, dict[str, object], Actor],
) -> None:
    html, _charts, _plant = overview
    chip = re.search(
        r'<span class="chip[^"]*" data-capacity="tv" title="([^"]*)">([^<]*)</span>', html
    )
    assert chip is not None
    days = (dt.date(2026, 10, 1) - dt.date(2026, 7, 1)).days
    capacity = round(400 * days / 365)  # the licence's 400 a year, over the quarter's 92 days
    assert chip.group(1) == f"2 dismantled of {capacity} licensed for the period"
    assert chip.group(2).endswith(f"{2 / capacity * 100:.1f}%")
    assert "1 other licensed categories: none dismantled" in html  # washing machines


def test_every_bar_of_the_findings_and_savings_charts_leads_to_its_records(
    overview: tuple[str, dict[str, object], Actor],
) -> None:
    _html, charts, plant = overview
    findings = charts["anomalies"]
    assert isinstance(findings, dict) and len(findings["links"]) == len(findings["data"]) > 0
    assert all(
        link.startswith("/portal/anomalies?period=2026Q3&rule=") for link in findings["links"]
    )
    savings = charts["savings"]
    assert isinstance(savings, dict)
    assert savings["links"] == [f"/portal/plants/{plant.org}?period=2026Q3"]
    assert [s["name"] for s in savings["series"]] == ["2026Q2", "2026Q3"]  # comparable quarters
