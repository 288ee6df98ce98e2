"""Row flags and the claim policy (issue 18, items 2 and 3), on a real anvil node: every flag
on a row (API and exports), the policy deciding whether a flag excludes or marks, and
CCFL and LED televisions treated alike whatever the hazardous-output policy."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.claims.quarter import COLD_OUT, FLAT_OUT, Quarter
from tests.support.accounts import Actor, add_actor
from tests.support.floor import Handheld
from tests.support.ledger import anchor
from traceability import create_app
from traceability.accounts.services import principal_for
from traceability.app import trace_of
from traceability.audit.claim_view import audit_view
from traceability.audit.refresh import refresh
from traceability.claims.exports.rows import HEADERS
from traceability.claims.exports.xlsx import DETAIL_SHEET
from traceability.claims.models import Claim
from traceability.claims.policy import ClaimPolicy, load_policy
from traceability.claims.services import create_claim
from traceability.clock import ShiftedClock
from traceability.lots.models import Lot
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

FRIDGE = ("refrigerator", {"volume_l": 200}, "40", COLD_OUT)
LED = {"display": "lcd", "backlight": "led", "screen_in": 40}
CCFL = {"display": "lcd", "backlight": "ccfl", "screen_in": 40}
CCFL_OUT = {**FLAT_OUT, "ccfl_backlight": "0.2"}
FLAGS = HEADERS.index("标记 Flags")
CHANGED = HEADERS.index("提交后变更 Changed after submission")


@pytest.fixture
def q(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


def policy(**changes: Any) -> ClaimPolicy:
    """The shipped policy with ``flags`` effects and the hazardous rule changed."""
    shipped = load_policy()
    flags = shipped.flags.model_copy(
        update={
            name: getattr(shipped.flags, name).model_copy(update={"effect": effect})
            for name, effect in changes.get("flags", {}).items()
        }
    )
    hazardous = shipped.hazardous.model_copy(update=changes.get("hazardous", {}))
    return shipped.model_copy(update={"flags": flags, "hazardous": hazardous, "sha256": "t"})


def claim_with(app: Flask, q: Quarter, chosen: ClaimPolicy, **asked: Any) -> Claim:
    """The plant's claim of 2026Q3 under ``chosen`` (what the API does with its policy)."""
    trace = trace_of(app)
    manager = add_actor(app, q.plant.org, "dismantler", role="manager")
    with app.app_context(), Session(trace.engine, expire_on_commit=False) as session:
        principal = principal_for(session=session, username=manager.username)
        claim, _ = create_claim(
            session=session, catalog=trace.catalog, principal=principal, period="2026Q3",
            ledger=open_reader(session, trace.ledger), now=trace.now(), settings=trace.settings,
            policy=chosen, audit=audit_view(session, trace), **asked,
        )  # fmt: skip
        return claim


def rows_of(q: Quarter, claim_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    shown = q.show(claim_id, per_page=1000)
    devices = {d["qr_id"]: d for d in shown["devices"]}
    excluded = {e["qr_id"]: [r["code"] for r in e["reasons"]] for e in shown["excluded"]}
    return devices, excluded


@pytest.fixture
def late_device(q: Quarter, settings: dict[str, Any]) -> Iterator[str]:
    """A fridge recorded under a clock two days behind the chain, then anchored: ``late``."""
    app = create_app(settings, clock=ShiftedClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=2)))
    try:
        behind = Quarter(app.test_client(), q.collector, q.plant, q.processor)
        qr_id = behind.device("late", *FRIDGE, "2026-08-06T10:00:00")
        anchor(app.test_client(), q.plant)  # its lots are shipped on time, by the test
        yield qr_id
    finally:
        trace_of(app).engine.dispose()


def test_every_flag_is_on_its_row_and_the_policy_decides_exclude_or_mark(
    q: Quarter, late_device: str
) -> None:
    app = q.client.application
    plain = q.device("plain", *FRIDGE, "2026-08-03T10:00:00")
    corrected = q.device("corrected", *FRIDGE, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots()
    Handheld(q.client, q.plant).record(
        {"type": "corrected", "qr_id": corrected, "corrects": _event(q, corrected, "received"),
         "reason": "scale misread", "fields": {"weight_kg": "42"}}
    )  # fmt: skip
    q.anchor()
    with app.app_context():
        refresh(trace_of(app), force=True)  # the audit's snapshot of everything so far
    # The shipped policy: late excludes; a correction after dismantling and a finding mark.
    claim = q.claim()
    devices, excluded = rows_of(q, claim["id"])
    assert excluded == {late_device: ["recorded_late"]}
    flags = {d: [f["code"] for f in devices[d]["flags"]] for d in devices}
    # Recorded months after they happened, every test device is a back-dating finding.
    assert flags[plain] == ["audit_finding"]
    assert "backdating" in devices[plain]["flags"][0]["detail"]
    assert flags[corrected] == ["corrected_after_dismantling", "audit_finding"]
    assert "weight" in devices[corrected]["flags"][0]["detail"]  # the corrected field
    assert "correction" in devices[corrected]["flags"][1]["detail"]  # the audit rule
    assert claim["flagged"] == {"audit_finding": 2, "corrected_after_dismantling": 1}
    # A deployment that marks late records and excludes corrected ones.
    changes = {"recorded_late": "mark", "corrected_after_dismantling": "exclude"}
    marked = claim_with(app, q, policy(flags=changes))
    devices, excluded = rows_of(q, marked.id or 0)
    assert next(f["code"] for f in devices[late_device]["flags"]) == "recorded_late"
    assert excluded[corrected][0] == "corrected_after_dismantling"
    submitted = q.client.post(f"/api/v1/claims/{marked.id}/submit", headers=q.manager)
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["events"][0]["payload"]["flags"]["by_flag"]["recorded_late"] == 1
    # After the submission the plain fridge's records change: flagged when shown and exported.
    Handheld(q.client, q.plant).record(
        {"type": "corrected", "qr_id": plain, "corrects": _event(q, plain, "collected"),
         "reason": "brand typo", "fields": {"brand": "Haier"}}
    )  # fmt: skip
    devices, _ = rows_of(q, marked.id or 0)
    assert [f["code"] for f in devices[plain]["flags"]] == [
        "audit_finding",
        "evidence_changed_after_submission",
    ]
    _exports_show_the_flags(q, marked.id or 0, late_device, plain)


def _exports_show_the_flags(q: Quarter, claim_id: int, late: str, changed: str) -> None:
    got = q.client.get(f"/api/v1/claims/{claim_id}/export.csv", headers=q.manager)
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][FLAGS] == "标记 Flags"
    by_id = {r[HEADERS.index("设备编号 Device ID")].replace("-", ""): r for r in rows[1:-1]}
    late_row = next(r for k, r in by_id.items() if late.replace("-", "") in k)
    assert "记录逾期上链 recorded_late" in late_row[FLAGS]
    changed_row = next(r for k, r in by_id.items() if changed.replace("-", "") in k)
    assert "corrected" in changed_row[CHANGED]
    book = openpyxl.load_workbook(
        io.BytesIO(q.client.get(f"/api/v1/claims/{claim_id}/export.xlsx",
                                headers=q.manager).get_data()), read_only=True)  # fmt: skip
    detail = [list(r) for r in book[DETAIL_SHEET].iter_rows(values_only=True)]
    assert any(r[FLAGS] and "recorded_late" in r[FLAGS] for r in detail[1:])
    summary = [c for r in book["汇总 Summary"].iter_rows(values_only=True) for c in r if c]
    assert any("recorded_late: 1" in str(c) for c in summary)
    assert any(c == "申报方式 Mode" for c in summary)


def _event(q: Quarter, qr_id: str, kind: str) -> str:
    events = q.client.get(f"/api/v1/devices/{qr_id}", headers=q.plant.headers).get_json()["events"]
    return next(e["id"] for e in events if e["type"] == kind)


def _stocktake_open_lots(q: Quarter) -> None:
    """The plant weighs what is in store of each open lot (盘点)."""
    with Session(trace_of(q.client.application).engine) as s:
        lots = [(lot.code, lot.weight_g) for lot in
                s.exec(select(Lot).where(Lot.org == q.plant.org, Lot.state == "open"))]  # fmt: skip
    for code, grams in lots:
        Handheld(q.client, q.plant).record(
            {"type": "stocktake", "lot": code, "weight_kg": str(grams / 1000)}
        )


def test_ccfl_and_led_televisions_are_treated_alike(q: Quarter) -> None:
    """Reporting the CCFL lamps (hazardous) never makes a TV less claimable than an LED one,
    nor than hiding them (irregular): under either policy both get the same outcome."""
    app = q.client.application
    led = q.device("led", "tv", LED, "12", FLAT_OUT, "2026-08-03T10:00:00")
    ccfl = q.device("ccfl", "tv", CCFL, "14", CCFL_OUT, "2026-08-03T11:00:00")
    hidden = q.device("hidden", "tv", CCFL, "14", FLAT_OUT, "2026-08-03T12:00:00")
    _stocktake_open_lots(q)  # nothing shipped yet: the pcb and the lamps are in store
    q.anchor()
    stored = claim_with(app, q, policy(hazardous={"requires": "storage"}))
    devices, excluded = rows_of(q, stored.id or 0)
    assert set(devices) == {led, ccfl}
    assert excluded[hidden][0] == "irregular_dismantling"
    waiting = claim_with(app, q, policy(hazardous={"requires": "receipt"}))
    devices, excluded = rows_of(q, waiting.id or 0)
    assert devices == {}
    assert excluded[led] == excluded[ccfl] == ["hazardous_output_unconfirmed"]
    assert "irregular_dismantling" in excluded[hidden]
    q.ship_and_confirm_lots()  # every lot alike: shipped and received
    q.anchor()
    received = claim_with(app, q, policy(hazardous={"requires": "receipt"}))
    devices, excluded = rows_of(q, received.id or 0)
    assert set(devices) == {led, ccfl} and excluded[hidden] == ["irregular_dismantling"]
