"""The incremental refresh (issue 20 item 9): a pass after new events replays only the periods
they can reach; every closed quarter they cannot reach is carried forward unreplayed — and
every stored figure and finding is then what a full replay of the log finds
(``audit refresh --check``: each kept period recomputed from the whole log and compared).

Which closed-quarter findings a new event can change: one of a device that already has
events in the quarter (a correction after the close is the quarter's finding; its facts stay
as closed), one that says it happened in the quarter (backdated). One of a device whose
every event lies after the close cannot, even when it shares a serial with a device of the
quarter: the duplicate is a finding of the new device's period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update
from sqlmodel import col

from tests.audit.conftest import add_user, stored_snapshot
from tests.support.accounts import Actor
from tests.support.floor import CRT_TV, Handheld, new_id
from traceability import create_app
from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.audit.check import check_snapshots
from traceability.audit.models import AuditSnapshot
from traceability.audit.refresh import RefreshRun, kept_periods, refresh
from traceability.audit.snapshots import ALL, Snapshot
from traceability.clock import Clock, ShiftedClock
from traceability.periods import CHINA
from traceability.verification.models import ImportRecord

#: November 2026: 2026Q3 has closed, 2026Q4 is open.
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)
OUTPUTS = {"crt_panel_glass": "60", "crt_funnel_glass": "30", "pcb": "15", "plastics": "25"}
SNAPSHOT = AuditSnapshot.__table__  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(NOW)


def beijing(day: str, hour: int, minute: int = 0) -> str:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+08:00").isoformat()


def dismantled(plant: Handheld, day: str, minute: int, serial: str) -> tuple[str, str]:
    """A CRT set collected, received and dismantled on ``day``; its QR ID and receipt."""
    qr_id = plant.collect(occurred_at=beijing(day, 9, minute), serial=serial)
    received = new_id()
    plant.record({"id": received, "type": "received", "qr_id": qr_id, "weight_kg": "142",
                  "occurred_at": beijing(day, 10, minute)})  # fmt: skip
    plant.dismantle(qr_id, OUTPUTS, batch="B-0915", occurred_at=beijing(day, 14, minute))
    return qr_id, received


@pytest.fixture
def scene(
    settings: dict[str, Any],
    app: Flask,
    client: FlaskClient,
    make_actor: Callable[..., Actor],
    clock: Clock,
) -> Iterator[dict[str, Any]]:
    """Three devices dismantled in 2026Q3, one in October (2026Q4), every kept period
    replayed; the refresher then recomputes as soon as the log changed."""
    plant = Handheld(client, make_actor("DIS-JS01", "dismantler"))
    q3 = [dismantled(plant, "2026-09-15", m, f"SN-Q3-{m}") for m in (0, 20, 40)]
    dismantled(plant, "2026-10-12", 0, "SN-Q4-0")
    refresh(trace_of(app), force=True)
    eager = create_app({**settings, "audit_refresh_s": 0}, clock=clock)
    yield {"app": eager, "plant": plant, "q3": q3}
    trace_of(eager).engine.dispose()


def closed(app: Flask) -> set[str]:
    """The closed quarters the refresher keeps (2026Q3 and those before it)."""
    trace = trace_of(app)
    return set(kept_periods(trace.now(), trace.settings.audit_closed_quarters)) - {ALL, "2026Q4"}


def matches_a_full_replay(app: Flask) -> None:
    """Every kept period's stored findings and figures are what a full replay finds now."""
    checked = check_snapshots(trace_of(app))
    assert [str(d) for d in checked.differences] == []
    assert set(checked.periods) == closed(app) | {ALL, "2026Q4"}


def q3_snapshot(app: Flask) -> Snapshot:
    snapshot = stored_snapshot(app, "2026Q3")
    assert isinstance(snapshot, Snapshot)
    return snapshot


def test_a_device_collected_now_carries_every_closed_quarter_forward(
    scene: dict[str, Any],
) -> None:
    app, plant = scene["app"], scene["plant"]
    before = q3_snapshot(app)
    plant.collect()  # today, November: nothing of it lies in a closed quarter

    run = refresh(trace_of(app))

    assert set(run.carried) == closed(app)
    assert {ALL, "2026Q4"} <= set(run.periods) and not {ALL, "2026Q4"} & set(run.carried)
    after = q3_snapshot(app)  # sealed again, naming the log as it stands, trusted
    assert after.last_seq > before.last_seq and after.computed_at > before.computed_at
    assert after.findings == before.findings and after.figures == before.figures
    matches_a_full_replay(app)


def test_a_correction_of_a_device_of_the_closed_quarter_replays_the_quarter(
    scene: dict[str, Any],
) -> None:
    app, plant = scene["app"], scene["plant"]
    (first, received), *_ = scene["q3"]
    assert not [f for f in q3_snapshot(app).findings if f.rule == "correction"]
    plant.record({"type": "corrected", "qr_id": first, "corrects": received,
                  "reason": "地磅复核", "fields": {"weight_kg": "148"}})  # fmt: skip

    run = refresh(trace_of(app))

    assert "2026Q3" in run.periods and "2026Q3" not in run.carried
    assert set(run.carried) == closed(app) - {"2026Q3"}  # the device began in 2026Q3
    snapshot = q3_snapshot(app)
    assert [f.subject for f in snapshot.findings if f.rule == "correction"] == [first]
    figures = snapshot.figures.plants["DIS-JS01"]
    assert figures.late_corrections == 1 and figures.late_mass_g == 6000
    assert figures.mass_g == 3 * 142_000  # as closed: the correction is shown apart
    matches_a_full_replay(app)


def test_a_device_recorded_now_as_collected_in_the_closed_quarter_replays_it(
    scene: dict[str, Any],
) -> None:
    app, plant = scene["app"], scene["plant"]
    before = q3_snapshot(app).figures.plants["DIS-JS01"].collected_for
    qr_id = plant.collect(occurred_at=beijing("2026-09-20", 9))

    run = refresh(trace_of(app))

    assert "2026Q3" in run.periods and "2026Q3" not in run.carried
    snapshot = q3_snapshot(app)
    assert snapshot.figures.plants["DIS-JS01"].collected_for == before + 1
    assert qr_id in {f.subject for f in snapshot.findings if f.rule == "backdating"}
    matches_a_full_replay(app)


def test_a_new_device_repeating_a_closed_quarters_serial_is_a_finding_of_its_own_period(
    scene: dict[str, Any],
) -> None:
    app, plant = scene["app"], scene["plant"]
    qr_id = plant.collect(serial="SN-Q3-20")  # the serial of a device dismantled in 2026Q3

    run = refresh(trace_of(app))

    assert "2026Q3" in run.carried
    assert not [f for f in q3_snapshot(app).findings if f.rule == "duplicate_serial"]
    everything = stored_snapshot(app, ALL)
    assert isinstance(everything, Snapshot)
    duplicates = [f for f in everything.findings if f.rule == "duplicate_serial"]
    assert duplicates and all(qr_id in f.devices for f in duplicates)
    matches_a_full_replay(app)


def test_force_replays_every_kept_period(scene: dict[str, Any]) -> None:
    app, plant = scene["app"], scene["plant"]
    plant.collect()
    run = refresh(trace_of(app), force=True)
    assert run.carried == [] and set(run.periods) == closed(app) | {ALL, "2026Q4"}
    matches_a_full_replay(app)


def test_a_closed_quarters_snapshot_changed_by_hand_is_replayed_never_carried(
    scene: dict[str, Any],
) -> None:
    app, plant = scene["app"], scene["plant"]
    honest = q3_snapshot(app)
    with trace_of(app).engine.begin() as conn:  # the content swapped for another period's
        other = conn.execute(
            select(SNAPSHOT.c.content).where(SNAPSHOT.c.period == "2026Q2")
        ).scalar_one()
        conn.execute(update(SNAPSHOT).where(SNAPSHOT.c.period == "2026Q3").values(content=other))
    plant.collect()

    run: RefreshRun = refresh(trace_of(app))

    assert "2026Q3" in run.periods and "2026Q3" not in run.carried
    assert q3_snapshot(app).findings == honest.findings
    assert q3_snapshot(app).figures == honest.figures
    matches_a_full_replay(app)


def test_on_the_demo_a_device_collected_now_matches_a_full_replay_of_every_period(
    settings: dict[str, Any], app: Flask, demo_summary: str, clock: Clock
) -> None:
    """The demo's 3,000 devices and their findings of every rule: carried and replayed
    periods alike are what a full replay finds."""
    with trace_of(app).engine.connect() as conn:
        collector = conn.execute(
            select(col(Organisation.code)).where(col(Organisation.kind) == "collector").limit(1)
        ).scalar_one()
    headers = add_user(app, "fresh.collector", collector, "operator")
    response = app.test_client().post("/api/v1/devices", json=CRT_TV, headers=headers)
    assert response.status_code == 201, response.get_json()
    eager = create_app({**settings, "audit_refresh_s": 0}, clock=clock)
    try:
        run = refresh(trace_of(eager))
        assert "2026Q3" in run.carried and ALL not in run.carried
        assert len(q3_snapshot(eager).findings) > 10
        matches_a_full_replay(eager)
    finally:
        trace_of(eager).engine.dispose()


def test_an_import_refusal_of_the_closed_quarter_replays_it(scene: dict[str, Any]) -> None:
    """The regulator's import writes rows, not events: a refusal dated in the quarter reaches
    it however the log moved on (the side inputs a snapshot names)."""
    app, plant = scene["app"], scene["plant"]
    (first, _received), *_ = scene["q3"]
    at = dt.datetime(2026, 9, 15, 12, tzinfo=CHINA)
    with trace_of(app).engine.begin() as conn:
        conn.execute(
            insert(ImportRecord.__table__),  # type: ignore[attr-defined]
            [{"key": "event:x:y", "plant": "DIS-JS01", "status": "refused", "subject": first,
              "reason": "its digest is not the anchored one", "at": at, "first_seen": NOW,
              "last_seen": NOW}],
        )  # fmt: skip
    plant.collect()  # the log moved on too: every kept period is due

    run = refresh(trace_of(app))

    assert "2026Q3" in run.periods and run.carried == []
    assert [f.subject for f in q3_snapshot(app).findings if f.rule == "import_refused"] == [first]
    matches_a_full_replay(app)
