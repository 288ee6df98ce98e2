"""Every time the portal shows or exports is Beijing time and says so (SPEC §2.9, issue 17
item 7): the batch page, the anomaly list's XLSX (real date-time cells) and CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import ShiftedClock
from traceability.periods import CHINA

#: 01:08 UTC is 09:08 in Beijing, the time every other page shows.
DISMANTLED_UTC = "2026-07-06T01:08:00Z"


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA))


@pytest.fixture
def scene(app: Flask, client: FlaskClient, make_actor: Callable[..., Actor]) -> FlaskClient:
    """A CRT set dismantled at 09:08 Beijing time into batch B-0706 (far below its intake:
    a mass-balance finding), and a Jiangsu auditor signed in."""
    plant = Handheld(client, make_actor("DIS-JS01", "dismantler"))
    qr_id = plant.collect(occurred_at="2026-07-06T00:30:00Z")
    plant.record({"type": "received", "qr_id": qr_id, "weight_kg": "20",
                  "occurred_at": "2026-07-06T00:40:00Z"})  # fmt: skip
    plant.dismantle(qr_id, {"pcb": "2", "plastics": "6"}, batch="B-0706",
                    occurred_at=DISMANTLED_UTC)  # fmt: skip
    make_actor("REG-JS", "regulator", role="auditor", region="320000",
               username="js.reviewer", password=PASSWORD)  # fmt: skip
    refresh(trace_of(app), force=True)
    assert sign_in(client, "js.reviewer").status_code == 302
    return client


def test_the_batch_page_shows_the_dismantling_in_beijing_time(scene: FlaskClient) -> None:
    html = scene.get("/portal/plants/DIS-JS01/batches/B-0706").get_data(as_text=True)
    assert "2026-07-06 09:08 (UTC+8)" in html
    assert "01:08" not in html


def test_the_anomaly_xlsx_holds_date_cells_in_beijing_time(scene: FlaskClient) -> None:
    response = scene.get("/portal/anomalies.xlsx?period=2026Q3", headers={"Accept-Language": "en"})
    sheet = load_workbook(io.BytesIO(response.data)).active
    header, *rows = list(sheet.iter_rows())
    column = next(i for i, c in enumerate(header) if "Beijing" in str(c.value))
    assert "UTC+8" in header[column].value
    balance = next(r for r in rows if "Mass balance" in str(r[1].value))
    cell = balance[column]
    assert cell.value == dt.datetime(2026, 7, 6, 9, 8)  # a date-time cell, not text
    assert cell.is_date and "hh:mm" in cell.number_format
    # a finding of the period's last instant stays in the period (seconds, not rounded up)
    assert all(r[column].value < dt.datetime(2026, 10, 1) for r in rows)


def test_the_anomaly_csv_writes_beijing_time_and_says_so(scene: FlaskClient) -> None:
    text = scene.get("/portal/anomalies.csv?period=2026Q3").data.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    column = next(i for i, h in enumerate(header) if "UTC+8" in h)
    assert "北京时间" in header[column]  # the reader's language (zh-CN by default)
    assert "2026-07-06 09:08" in {r[column] for r in rows}
    assert not any("T01:08" in r[column] or "01:08" in r[column] for r in rows)
