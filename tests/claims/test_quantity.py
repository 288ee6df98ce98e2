"""Quantity certification (issue 18, item 4): a 2025 quarter with no rate schedule is
certified in units by category and tier, no yuan, with the enterprise conditions stated."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from flask.testing import FlaskClient

from tests.claims.quarter import COLD_OUT, CRT_OUT, FLAT_OUT, Quarter
from tests.support.accounts import Actor, add_actor
from tests.support.manifests import USCC
from traceability.claims.exports.rows import HEADERS
from traceability.claims.exports.xlsx import DETAIL_SHEET, SUMMARY_SHEET

pytestmark = pytest.mark.integration

RATE = HEADERS.index("单价(元) Rate (yuan)")


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """No deployment schedule: nothing sets yuan for 2024–2027 (the national fund ends 2023)."""
    return {k: v for k, v in settings.items() if k != "rate_schedules"}


@pytest.fixture
def q(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


def test_a_2025_quarter_with_no_rates_is_a_quantity_certification(
    q: Quarter, tmp_path: Path
) -> None:
    lcd = q.device("lcd", "tv", {"display": "lcd", "backlight": "led", "screen_in": 42}, "12",
                   FLAT_OUT, "2025-05-10T10:00:00")  # fmt: skip
    crt = q.device("crt", "tv", {"display": "crt", "screen_in": 21}, "25", CRT_OUT,
                   "2025-05-11T10:00:00")  # fmt: skip
    small = q.device("small", "refrigerator", {"volume_l": 45}, "20", COLD_OUT,
                     "2025-05-12T10:00:00")  # fmt: skip
    q.ship_and_confirm_lots()
    admin = add_actor(q.client.application, "REG-JS", "regulator", "admin", "320000")
    licence = {"kind": "dismantling", "number": "SZ-1", "uscc": USCC["DIS-SZ"],
               "valid_from": "2024-01-01", "valid_to": "2028-12-31",
               "scope": {"tv": 1000}}  # fmt: skip
    issued = q.client.post(f"/api/v1/orgs/{q.plant.org}/licences", json=licence,
                           headers=admin.headers)  # fmt: skip
    assert issued.status_code == 201, issued.get_json()
    q.anchor()
    yuan = q.client.post("/api/v1/claims", json={"period": "2025Q2", "mode": "yuan"},
                         headers=q.manager)  # fmt: skip
    assert yuan.status_code == 422 and yuan.get_json()["error"]["field"] == "mode"
    claim = q.claim("2025Q2")
    assert claim["mode"] == "quantity"
    assert (claim["units"], claim["total_yuan"]) == (2, 0)
    lines = {(line["category"], line["tier"]): line for line in claim["lines"]}
    assert set(lines) == {("tv", "tv_crt_25_up_or_flat"), ("tv", "tv_crt_14_25")}
    assert all((line["units"], line["rate"], line["amount"]) == (1, 0, 0)
               for line in lines.values())  # fmt: skip
    [schedule] = claim["schedules"]
    assert schedule["id"] == "national-fund-2012-2021" and "tiers only" in schedule["label"]
    shown = q.show(claim["id"], per_page=1000)
    assert {d["qr_id"] for d in shown["devices"]} == {lcd, crt}
    assert {e["qr_id"]: e["reasons"][0]["code"] for e in shown["excluded"]} == {
        small: "no_eligible_tier"
    }
    conditions = claim["conditions"]
    assert conditions["licence"]["met"] is True and "SZ-1" in conditions["licence"]["detail"]
    assert conditions["no_open_high_findings"]["met"] is None  # the audit was never computed
    _exports_say_quantity(q, claim)
    submitted = q.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=q.manager)
    assert submitted.status_code == 200, submitted.get_json()
    payload = submitted.get_json()["events"][0]["payload"]
    assert payload["mode"] == "quantity" and payload["total_yuan"] == 0
    assert payload["conditions"]["licence"]["met"] is True
    assert submitted.get_json()["anchor_status"] in ("verified", "pending")


def _exports_say_quantity(q: Quarter, claim: dict[str, Any]) -> None:
    got = q.client.get(f"/api/v1/claims/{claim['id']}/export.xlsx", headers=q.manager)
    book = openpyxl.load_workbook(io.BytesIO(got.get_data()), read_only=True)
    summary = [c for r in book[SUMMARY_SHEET].iter_rows(values_only=True) for c in r if c]
    assert any("数量核定" in str(c) and "no yuan" in str(c) for c in summary)
    assert any("licence valid through the period" in str(c) for c in summary)
    detail = [list(r) for r in book[DETAIL_SHEET].iter_rows(values_only=True)]
    assert [r[RATE] for r in detail[1:]] == [None, None]  # no yuan on any row
    pdf = q.client.get(f"/api/v1/claims/{claim['id']}/export.pdf", headers=q.manager)
    assert pdf.status_code == 200 and pdf.get_data()[:4] == b"%PDF"
