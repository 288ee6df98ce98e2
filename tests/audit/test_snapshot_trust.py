"""A stored audit snapshot is used only while it is what it says (SPEC §3 "Every figure is a
replay"; issue 15 finding 3).

The forgery of the issue: the database administrator rewrites the 2026Q3
snapshot to "0 anomalies", every device verifying and 6,069 devices dismantled,
and dates it a month ahead so that the refresher never finds it due. The
portal and the API never show it, the refresher recomputes it at once and
lists the forgery as a finding, and ``audit refresh --check`` names each
figure that differs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, select, update

from tests.audit.conftest import add_user, stored_snapshot, token_for
from tests.support.floor import CRT_TV
from tests.support.web import sign_in
from traceability import create_app, demo
from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.audit.models import AuditSnapshot
from traceability.audit.refresh import due_now, refresh
from traceability.audit.snapshots import ALL, Rejected, Snapshot, decode, encode
from traceability.cli import main as cli
from traceability.clock import Clock
from traceability.custody.models import Event
from traceability.periods import quarter_of

API = "/api/v1/audit/anomalies?period=2026Q3&per_page=500"
PAGES = (
    "/portal/anomalies?period=2026Q3",
    "/portal/plants/DIS-SZ01?period=2026Q3",
    "/portal/?period=2026Q3",
)
SNAPSHOT = AuditSnapshot.__table__  # type: ignore[attr-defined]


@pytest.fixture
def patient(
    settings: dict[str, Any], app: Flask, demo_summary: str, clock: Clock
) -> Iterator[Flask]:
    """The demo with a refresher that waits an hour after a change and rechecks hourly."""
    patient = create_app(
        {**settings, "audit_refresh_s": 3600, "audit_recheck_s": 3600}, clock=clock
    )
    yield patient
    trace_of(patient).engine.dispose()


def stored_row(app: Flask, period: str) -> dict[str, Any]:
    with trace_of(app).engine.connect() as conn:
        return dict(
            conn.execute(select(SNAPSHOT).where(SNAPSHOT.c.period == period)).one()._mapping
        )


def forge(app: Flask, period: str = "2026Q3", *, ahead: dt.timedelta | None = None) -> None:
    """What the issue's administrator did, with SQL: no anomalies, everything verified,
    6,069 dismantled, and (``ahead``) ``computed_at`` in the future."""
    row = stored_row(app, period)
    _findings, figures = decode(row["content"])
    for plant in figures.plants.values():
        plant.unverified = plant.failed = 0
    figures.plants["DIS-SZ01"].dismantled = 6069
    values: dict[str, Any] = {"content": encode((), figures), "findings": 0}
    if ahead is not None:
        values["computed_at"] = trace_of(app).now() + ahead
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(SNAPSHOT).where(SNAPSHOT.c.period == period).values(**values))


def check(app: Flask) -> Any:
    return CliRunner().invoke(cli, ["audit", "refresh", "--check"], obj=trace_of(app))


def assert_not_shown(app: Flask) -> None:
    client = app.test_client()
    response = client.get(API, headers=token_for(app, "js.auditor"))
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "audit_pending"
    assert "recomputed" in response.get_json()["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0
    assert sign_in(client, "js.auditor", demo.PASSWORD).status_code == 302
    for url in PAGES:
        for lang, words in (("en", "being recomputed"), ("zh-CN", "正在重新计算")):
            page = client.get(url, headers={"Accept-Language": lang})
            html = page.get_data(as_text=True)
            assert page.status_code == 503, url
            assert 'data-pending="2026Q3"' in html and words in html, url
            assert "6069" not in html


def test_the_forgery_dated_in_the_future_is_never_shown(patient: Flask) -> None:
    forge(patient, ahead=dt.timedelta(days=30))
    assert isinstance(stored_snapshot(patient, "2026Q3"), Rejected)
    assert_not_shown(patient)


def test_the_refresher_recomputes_the_forgery_at_once_and_lists_it_as_a_finding(
    patient: Flask,
) -> None:
    assert (
        refresh(trace_of(patient)).periods == []
    )  # nothing due: the template's snapshots are current
    forge(patient, ahead=dt.timedelta(days=30))
    assert "2026Q3" in due_now(trace_of(patient))  # whatever computed_at says
    run = refresh(trace_of(patient))
    assert "2026Q3" in run.periods
    fresh = stored_snapshot(patient, "2026Q3")
    assert isinstance(fresh, Snapshot) and fresh.computed_at <= trace_of(patient).now()
    assert fresh.figures.plants["DIS-SZ01"].dismantled != 6069
    body = patient.test_client().get(API, headers=token_for(patient, "js.auditor")).get_json()
    assert body["total"] > 0
    # found during the current quarter: listed there and in everything so far
    for period in (ALL, quarter_of(trace_of(patient).now()).name):
        current = stored_snapshot(patient, period)
        assert isinstance(current, Snapshot)
        forged = [f for f in current.findings if f.rule == "snapshot_in_the_future"]
        assert forged and {f.params["period"] for f in forged} == {"2026Q3"}
        # both times in Beijing time, saying so (SPEC §2.9)
        assert forged[0].detail(load_rule(), "en").count("(UTC+8)") == 2
        assert forged[0].detail(load_rule(), "zh").count("(UTC+8)") == 2
    # and it stays listed after the next pass, which finds nothing new
    refresh(trace_of(patient), force=True)
    again = stored_snapshot(patient, ALL)
    assert isinstance(again, Snapshot)
    assert any(f.rule == "snapshot_in_the_future" for f in again.findings)


def load_rule() -> Any:
    from traceability.audit.ruleset import load_ruleset

    return load_ruleset().rule("snapshot_in_the_future")


def test_a_forgery_dated_now_fails_its_seal_and_is_not_shown(patient: Flask) -> None:
    forge(patient)  # computed_at left as it was: the content no longer matches its seal
    rejected = stored_snapshot(patient, "2026Q3")
    assert isinstance(rejected, Rejected) and "changed" in rejected.reason
    assert_not_shown(patient)
    assert "2026Q3" in refresh(trace_of(patient)).periods


def test_only_a_future_computed_at_is_enough_to_reject_a_snapshot(patient: Flask) -> None:
    with trace_of(patient).engine.begin() as conn:
        conn.execute(
            update(SNAPSHOT)
            .where(SNAPSHOT.c.period == "2026Q3")
            .values(computed_at=trace_of(patient).now() + dt.timedelta(hours=1))
        )
    rejected = stored_snapshot(patient, "2026Q3")
    assert isinstance(rejected, Rejected) and "future" in rejected.reason


def test_refresh_check_passes_an_honest_snapshot_and_names_each_forged_figure(
    patient: Flask,
) -> None:
    honest = check(patient)
    assert honest.exit_code == 0, honest.output
    assert "match the log" in honest.output

    forge(patient, ahead=dt.timedelta(days=30))
    before = stored_row(patient, "2026Q3")
    result = check(patient)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("2026Q3: not trusted:") and "future" in line for line in lines)
    assert any(line.startswith("2026Q3: findings: stored 0, recomputed ") for line in lines)
    assert "2026Q3: DIS-SZ01 dismantled: stored 6069, recomputed " in result.output
    assert any(line.startswith("2026Q3: DIS-SZ01 unverified: stored 0") for line in lines)
    assert not any(line.startswith(f"{ALL}:") for line in lines)  # the others are honest
    assert stored_row(patient, "2026Q3") == before  # nothing written


def test_a_snapshot_naming_events_the_log_no_longer_holds_is_not_shown(patient: Flask) -> None:
    with trace_of(patient).engine.begin() as conn:  # the administrator deletes an event
        first = conn.execute(select(Event.seq).order_by(Event.seq).limit(1)).scalar_one()  # type: ignore[arg-type]
        conn.execute(delete(Event).where(Event.seq == first))  # type: ignore[arg-type]
    rejected = stored_snapshot(patient, "2026Q3")
    assert isinstance(rejected, Rejected) and "events" in rejected.reason
    assert_not_shown(patient)
    assert "2026Q3" in due_now(trace_of(patient))


def test_a_snapshot_whose_log_moved_on_is_recomputed(
    settings: dict[str, Any], app: Flask, demo_summary: str, clock: Clock
) -> None:
    before = stored_row(app, ALL)
    with trace_of(app).engine.connect() as conn:
        org = conn.execute(
            select(Organisation.code).where(Organisation.kind == "collector").limit(1)  # type: ignore[arg-type]
        ).scalar_one()
    collector = add_user(app, "fresh.collector", org, "operator")
    response = app.test_client().post("/api/v1/devices", json=CRT_TV, headers=collector)
    assert response.status_code == 201, response.get_json()
    # still what it says, as of its time: shown until the refresher's next pass
    assert isinstance(stored_snapshot(app, ALL), Snapshot)
    eager = create_app({**settings, "audit_refresh_s": 0}, clock=clock)
    try:
        assert ALL in due_now(trace_of(eager))
        assert ALL in refresh(trace_of(eager)).periods
    finally:
        trace_of(eager).engine.dispose()
    after = stored_row(app, ALL)
    assert after["last_seq"] > before["last_seq"]
    assert after["events"] == before["events"] + 1
