"""One batch, one figure (issue 17 item 8): every page reads a device dismantled in a closed
quarter as recorded by its close; a correction recorded after the close is shown apart, and
its finding is listed under the quarter the device was dismantled in (SPEC §2.7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld, new_id
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.clock import ShiftedClock
from traceability.periods import CHINA

#: The auditor reads the pages in November 2026: 2026Q3 has closed, 2026Q4 is open.
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(NOW)


def utc(day: str, hour: int) -> str:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").isoformat()


def dismantled_in_q3(plant: Handheld, weight_kg: str, minute: int) -> tuple[str, str]:
    """A CRT set dismantled into batch B-0915 on 2026-09-15; its QR ID and received event."""
    qr_id = plant.collect(occurred_at=utc("2026-09-14", 9))
    received = new_id()
    plant.record({"id": received, "type": "received", "qr_id": qr_id, "weight_kg": weight_kg,
                  "occurred_at": utc("2026-09-14", 10)})  # fmt: skip
    outputs = {"crt_panel_glass": "60", "crt_funnel_glass": "30", "pcb": "15", "plastics": "25"}
    when = dt.datetime(2026, 9, 15, 10, minute, tzinfo=CHINA).isoformat()
    plant.dismantle(qr_id, outputs, batch="B-0915", occurred_at=when)
    return qr_id, received


@pytest.fixture
def scene(app: Flask, client: FlaskClient, make_actor: Callable[..., Actor]) -> dict[str, Any]:
    """Batch B-0915 (2026Q3): 3 × 142 kg = 0.426 t as recorded by the close; in November
    the first device's intake is re-weighed at 148 kg (0.432 t with it)."""
    plant = Handheld(client, make_actor("DIS-JS01", "dismantler"))
    first, received = dismantled_in_q3(plant, "142", 0)
    dismantled_in_q3(plant, "142", 20)
    dismantled_in_q3(plant, "142", 40)
    plant.record({"type": "corrected", "qr_id": first, "corrects": received,
                  "reason": "地磅复核", "fields": {"weight_kg": "148"}})  # fmt: skip
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000",
                         username="js.reviewer", password=PASSWORD)  # fmt: skip
    refresh(trace_of(app), force=True)
    assert sign_in(client, "js.reviewer").status_code == 302
    return {"client": client, "plant": plant, "first": first, "auditor": auditor}


def test_the_batch_page_api_and_period_pages_give_the_batch_one_figure(
    scene: dict[str, Any],
) -> None:
    client, plant = scene["client"], scene["plant"]
    batch = plant.batch("B-0915")
    assert batch["mass_kg"] == Decimal(426)  # not 432: the quarter closed before the fix
    assert batch["as_recorded_by"] == "2026-09-30T16:00:00.000000Z"  # 2026-10-01 00:00 in Beijing
    assert batch["mass_change_after_close_kg"] == Decimal(6)
    assert [(c["qr_id"], c["fields"]) for c in batch["corrections_after_close"]] == [
        (scene["first"], ["weight_g"])
    ]
    page = client.get("/portal/plants/DIS-JS01/batches/B-0915").get_data(as_text=True)
    assert "426 kg" in page or "426.000 kg" in page
    assert 'data-as-recorded-by="2026-09-30T16:00:00.000000Z"' in page
    assert "2026-10-01 00:00 (UTC+8)" in page  # the rule, stated on the page
    assert 'data-table="after-close"' in page and scene["first"] in page
    listing = client.get("/portal/plants/DIS-JS01/batches?period=2026Q3").get_data(as_text=True)
    assert "0.426" in listing and "0.432" not in listing
    assert 'data-late-corrections="1"' in listing
    plant_page = client.get("/portal/plants/DIS-JS01?period=2026Q3").get_data(as_text=True)
    assert "0.426" in plant_page and 'data-late-corrections="1"' in plant_page


def test_an_open_quarter_reads_the_log_so_far(
    client: FlaskClient, make_actor: Callable[..., Actor]
) -> None:
    plant = Handheld(client, make_actor("DIS-JS01", "dismantler"))
    qr_id = plant.collect(occurred_at=utc("2026-10-14", 9))
    received = new_id()
    plant.record({"id": received, "type": "received", "qr_id": qr_id, "weight_kg": "142",
                  "occurred_at": utc("2026-10-14", 10)})  # fmt: skip
    plant.dismantle(qr_id, {"crt_panel_glass": "100"}, batch="B-1015",
                    occurred_at=utc("2026-10-15", 10))  # fmt: skip
    plant.record({"type": "corrected", "qr_id": qr_id, "corrects": received,
                  "reason": "地磅复核", "fields": {"weight_kg": "148"}})  # fmt: skip
    batch = plant.batch("B-1015")
    assert batch["mass_kg"] == Decimal(148) and batch["as_recorded_by"] is None
    assert batch["corrections_after_close"] == []


def test_a_correction_after_the_close_is_a_finding_of_the_quarter_dismantled_in(
    app: Flask, scene: dict[str, Any]
) -> None:
    client = scene["client"]
    headers = scene["auditor"].headers
    for period in ("2026Q3", "2026Q4"):  # where it was dismantled, and when it was recorded
        body = client.get(
            f"/api/v1/audit/anomalies?period={period}&rule=correction", headers=headers
        ).get_json()
        assert [(i["subject"], i["dismantled_in"]) for i in body["items"]] == [
            (scene["first"], "2026Q3")
        ], period
        assert "2026Q3" in body["items"][0]["detail_en"]  # "recorded after 2026Q3 closed"
        assert body["items"][0]["severity"] == "high"  # a mass field, after dismantling
    html = client.get("/portal/anomalies?period=2026Q3&rule=correction").get_data(as_text=True)
    assert scene["first"] in html
