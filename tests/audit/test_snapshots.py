"""Audit snapshots: pages and the API read what the refresher stored, never the whole log.

The demo template is refreshed once (``conftest``); each test works on its own copy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import delete, select
from sqlmodel import Session

from tests.audit.conftest import add_user, computed, stored_snapshot, token_for
from tests.support.floor import CRT_TV
from tests.support.web import sign_in
from traceability import create_app, demo
from traceability.accounts.models import Organisation
from traceability.app import trace_of
from traceability.audit.findings import Finding
from traceability.audit.models import AuditSnapshot
from traceability.audit.refresh import RefreshRun, kept_periods, refresh, watch
from traceability.audit.ruleset import load_ruleset
from traceability.audit.snapshots import ALL, Snapshot
from traceability.cli import main as cli
from traceability.clock import Clock
from traceability.devices.models import Device
from traceability.periods import CHINA, parse_period

Q3 = parse_period("2026Q3")
API = "/api/v1/audit/anomalies?period=2026Q3&per_page=500"


@pytest.fixture
def eager(settings: dict[str, Any], app: Flask, demo_summary: str, clock: Clock) -> Iterator[Flask]:
    """The demo's database with a refresher that recomputes as soon as the log changed."""
    eager = create_app({**settings, "audit_refresh_s": 0}, clock=clock)
    yield eager
    trace_of(eager).engine.dispose()


def collect_backdated(app: Flask) -> str:
    """A device collected by a Jiangsu collector, claiming a day in 2026Q3: a backdating finding."""
    with Session(trace_of(app).engine) as session:
        collector = session.execute(
            select(Organisation.code).where(
                Organisation.kind == "collector", Organisation.region.startswith("32")
            )
        ).scalars().first()  # fmt: skip
    assert collector is not None
    headers = add_user(app, "late.collector", collector, "operator")
    occurred = dt.datetime(2026, 8, 20, 10, tzinfo=CHINA).isoformat()
    response = app.test_client().post(
        "/api/v1/devices", json={**CRT_TV, "occurred_at": occurred}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    qr_id: str = response.get_json()["qr_id"]
    return qr_id


def test_ingesting_an_event_does_not_make_the_next_request_recompute(eager: Flask) -> None:
    client, headers = eager.test_client(), token_for(eager, "js.auditor")
    before = client.get(API, headers=headers).get_json()
    assert sign_in(client, "js.auditor", demo.PASSWORD).status_code == 302
    page_before = client.get("/portal/anomalies?period=2026Q3").get_data(as_text=True)

    qr_id = collect_backdated(eager)
    after = client.get(API, headers=headers).get_json()
    page_after = client.get("/portal/anomalies?period=2026Q3").get_data(as_text=True)
    # the same snapshot: nothing was recomputed for these requests
    assert after["computed_at"] == before["computed_at"]
    assert after["total"] == before["total"]
    assert qr_id not in {i["subject"] for i in after["items"]}
    assert qr_id not in page_after
    assert f'data-computed-at="{before["computed_at"]}"' in page_before
    assert f'data-computed-at="{before["computed_at"]}"' in page_after

    run = refresh(
        trace_of(eager)
    )  # the refresher's next pass: the log changed, so every kept period
    assert set(run.periods) == set(kept_periods(trace_of(eager).now(), 5))
    fresh = client.get(API, headers=headers).get_json()
    assert fresh["computed_at"] > before["computed_at"]
    # recorded three months late, and never received since
    assert {i["rule"] for i in fresh["items"] if i["subject"] == qr_id} == {"backdating", "leakage"}
    assert qr_id in client.get("/portal/anomalies?period=2026Q3").get_data(as_text=True)


def test_the_refresher_waits_for_a_change_and_for_its_interval(
    settings: dict[str, Any], app: Flask, demo_summary: str, clock: Clock
) -> None:
    assert refresh(trace_of(app)).periods == []  # the template's snapshots are current
    collect_backdated(app)
    patient = create_app({**settings, "audit_refresh_s": 3600}, clock=clock)
    eager = create_app({**settings, "audit_refresh_s": 0}, clock=clock)
    try:
        assert refresh(trace_of(patient)).periods == []  # changed, but the snapshots are recent
        assert ALL in refresh(trace_of(eager)).periods
    finally:
        trace_of(patient).engine.dispose()
        trace_of(eager).engine.dispose()


def test_a_snapshot_holds_what_the_rules_find_over_the_whole_log(
    app: Flask, demo_summary: str
) -> None:
    snapshot = stored_snapshot(app, "2026Q3")
    direct = computed(app, Q3)
    assert isinstance(snapshot, Snapshot)
    assert snapshot.as_of == direct.as_of
    ruleset = load_ruleset()

    def shown(f: Finding) -> tuple[Any, ...]:
        spec = ruleset.rule(f.rule)
        return (f.rule, f.org, f.subject, f.at, f.detail(spec, "en"), f.detail(spec, "zh"),
                f.events, f.devices, f.verified, f.severity_of(spec))  # fmt: skip

    assert len(direct.findings) > 10
    assert [shown(f) for f in snapshot.findings] == [shown(f) for f in direct.findings]


def test_before_the_first_snapshot_pages_and_the_api_say_it_is_being_computed(
    app: Flask, demo_summary: str
) -> None:
    with trace_of(app).engine.begin() as conn:
        conn.execute(delete(AuditSnapshot))
    client = app.test_client()
    response = client.get(API, headers=token_for(app, "js.auditor"))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "audit_pending"
    assert int(response.headers["Retry-After"]) > 0
    assert sign_in(client, "js.auditor", demo.PASSWORD).status_code == 302
    for url, words in (
        ("/portal/anomalies?period=2026Q3", "being computed"),
        ("/portal/plants/DIS-SZ01?period=2026Q3", "being computed"),
        ("/portal/?period=2026Q3", "being computed"),
    ):
        for lang, text in (("en", words), ("zh-CN", "正在计算")):
            page = client.get(url, headers={"Accept-Language": lang})
            assert page.status_code == 503 and page.headers["Retry-After"]
            assert 'data-pending="2026Q3"' in page.get_data(as_text=True)
            assert text in page.get_data(as_text=True)
    refresh(trace_of(app), force=True)
    assert client.get("/portal/anomalies?period=2026Q3").status_code == 200


def test_the_device_page_stays_live_without_any_snapshot(app: Flask, demo_summary: str) -> None:
    with trace_of(app).engine.begin() as conn:
        conn.execute(delete(AuditSnapshot))
    with Session(trace_of(app).engine) as session:
        qr_id = session.execute(
            select(Device.qr_id).where(Device.custodian == "DIS-SZ01").limit(1)
        ).scalar_one()
    client = app.test_client()
    assert sign_in(client, "js.auditor", demo.PASSWORD).status_code == 302
    page = client.get(f"/portal/devices/{qr_id}")
    assert page.status_code == 200 and "data-status=" in page.get_data(as_text=True)


def test_the_pages_say_as_of_when_in_both_languages(app: Flask, demo_summary: str) -> None:
    client = app.test_client()
    assert sign_in(client, "bj.auditor", demo.PASSWORD).status_code == 302
    with Session(trace_of(app).engine) as session:
        stored = session.get(AuditSnapshot, "2026Q3")
    assert stored is not None
    when = stored.computed_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    for url in ("/portal/?period=2026Q3", "/portal/plants/DIS-BJ01?period=2026Q3",
                "/portal/plants/DIS-BJ01/batches?period=2026Q3",
                "/portal/anomalies?period=2026Q3"):  # fmt: skip
        english = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        chinese = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert f"As of {when}" in english, url
        assert f"截至 {when}" in chinese, url


def test_a_period_the_refresher_does_not_keep_is_a_422_naming_the_period(
    app: Flask, demo_summary: str
) -> None:
    response = app.test_client().get(
        "/api/v1/audit/anomalies?period=2019Q1", headers=token_for(app, "js.auditor")
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "period"


def test_the_refresh_command_recomputes_every_kept_period(app: Flask, demo_summary: str) -> None:
    with trace_of(app).engine.begin() as conn:
        conn.execute(delete(AuditSnapshot))
    result = CliRunner().invoke(cli, ["audit", "refresh"], obj=trace_of(app))
    assert result.exit_code == 0, result.output
    with Session(trace_of(app).engine) as session:
        stored = {r.period: r for r in session.exec(select(AuditSnapshot)).scalars()}
    assert set(stored) == set(kept_periods(trace_of(app).now(), 5))
    assert stored["2026Q3"].findings == len(computed(app, Q3).findings)
    assert "2026Q3" in result.output


def test_the_watcher_runs_a_pass_only_when_one_is_due(eager: Flask) -> None:
    passes: list[RefreshRun] = []
    checks = iter(range(6))  # a few turns of the loop, then stop

    def stop() -> bool:
        return next(checks, None) is None

    watch(
        trace_of(eager),
        stop=stop,
        poll_s=0.01,
        run_pass=lambda: passes.append(refresh(trace_of(eager))),
    )
    assert passes == []  # the template's snapshots are current: nothing was due
    collect_backdated(eager)
    checks = iter(range(6))
    watch(
        trace_of(eager),
        stop=stop,
        poll_s=0.01,
        run_pass=lambda: passes.append(refresh(trace_of(eager))),
    )
    assert len(passes) == 1 and ALL in passes[0].periods
