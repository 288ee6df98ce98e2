"""A plant hides from its regulator by an edited row (issue 15 finding 8; SPEC §2.8, §3).

The plant's database administrator edits the ``organisation`` row's region to
move the plant out of its regulator's scope: the regulator keeps reading the
plant (scope follows the register's anchored events) and is shown the row
that disagrees as a ``projection_mismatch``, in the API and the portal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.register.conftest import anomalies, edit_org_row
from tests.support.accounts import Actor
from tests.support.floor import receive
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import ShiftedClock
from traceability.periods import quarter_of


@pytest.fixture
def clock() -> ShiftedClock:
    """These tests live in May 2026, whatever the date: the portal reads the app's quarter."""
    return ShiftedClock(dt.datetime(2026, 5, 14, 10, 0, tzinfo=dt.UTC))


def shown(items: Any) -> list[tuple[str, str]]:
    return [(i["rule"], i["subject"]) for i in items]


def test_editing_the_rows_region_does_not_hide_the_plant_from_its_regulator_api(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, auditor: Actor, beijing: Actor
) -> None:
    receive(client, collector, plant)
    edit_org_row(app, plant.org, region="110000")  # "moved" to Beijing
    refresh(trace_of(app), force=True)

    seen = anomalies(client, auditor, plant.org)
    assert seen.status_code == 200, seen.get_json()
    assert seen.get_json()["projection_mismatches"] == [
        {
            "code": plant.org,
            "status": "projection_mismatch",
            "fields": ["region"],
            "row": {"region": "110000"},
            "events": {"region": "320500"},
        }
    ]
    # the row's region gives no one the plant: Beijing's auditors still may not read it
    assert anomalies(client, beijing, plant.org).status_code == 403


def test_the_plants_findings_stay_with_the_regulator_of_its_registered_region(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, auditor: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    with trace_of(app).engine.begin() as conn:  # the plant's stock count no longer adds up
        conn.execute(text("UPDATE device SET state = 'dismantled' WHERE qr_id = :q"), {"q": qr_id})
    refresh(trace_of(app), force=True)
    before = shown(anomalies(client, auditor, plant.org).get_json()["items"])
    assert ("stock_reconciliation", plant.org) in before

    edit_org_row(app, plant.org, region="110000")
    refresh(trace_of(app), force=True)

    after = client.get("/api/v1/audit/anomalies", headers=auditor.headers).get_json()
    assert shown(i for i in after["items"] if i["org"] == plant.org) == before


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "disagrees with its anchored events"),
    ("zh-CN", "与已上链锚定的登记事件不一致"),
])  # fmt: skip
def test_the_portal_shows_the_plant_and_its_register_mismatch(
    app: Flask,
    client: FlaskClient,
    collector: Actor,
    plant: Actor,
    auditor: Actor,
    lang: str,
    words: str,
) -> None:
    receive(client, collector, plant)
    edit_org_row(app, plant.org, region="110000", capacity_units=999_999)
    refresh(trace_of(app), force=True)
    period = quarter_of(trace_of(app).now()).name  # the app's quarter: always kept by the refresher
    assert sign_in(client, auditor.username).status_code == 302
    headers = {"Accept-Language": lang}

    page = client.get(f"/portal/plants/{plant.org}?period={period}", headers=headers)
    overview = client.get(f"/portal/?period={period}", headers=headers)

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-status="projection_mismatch"' in html
    assert f'data-mismatch="{plant.org}" data-fields="region capacity_units"' in html
    assert words in html
    assert "200,000" in html  # the licensed capacity as the events say
    assert "999999" in html  # the row's value, named in the mismatch
    assert words in overview.get_data(as_text=True)
    assert f'data-mismatch="{plant.org}"' in overview.get_data(as_text=True)
