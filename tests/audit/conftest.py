"""The demo data set, loaded once per xdist worker into a template database each test copies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, SQLModel

from tests.support.databases import (
    DatabaseTemplate,
    default_settings,
    fresh_database,
    shared_template,
)
from traceability import create_app, demo
from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.audit.logstate import seal_key
from traceability.audit.operations import operations_of
from traceability.audit.refresh import refresh
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import Audit, run_audit
from traceability.audit.snapshots import Rejected, Snapshot, SnapshotCache
from traceability.clock import FixedClock, ShiftedClock
from traceability.periods import Period, parse_period
from traceability.reports.devices import open_reader

DEMO_DEVICES = 3000
#: The demo plants' declared lines and hours (what `make run` sets TRACE_PLANT_OPERATIONS to).
DEMO_OPERATIONS = Path(demo.__file__).parent / "data" / "operations.toml"


@dataclass(frozen=True)
class DemoTemplate:
    database: DatabaseTemplate
    summary: str


def build_demo(template: DatabaseTemplate, directory: Path) -> str:
    """The demo loaded into ``template``, its snapshots computed; what `demo` printed."""
    # its snapshots were computed a few minutes before the tests' now
    app = create_app(
        {**default_settings(template.url, directory), "plant_operations": DEMO_OPERATIONS},
        clock=FixedClock(AUDIT_NOW - dt.timedelta(minutes=5)),
    )
    engine = trace_of(app).engine
    SQLModel.metadata.create_all(engine)
    try:
        summary = demo.load(trace_of(app), devices=DEMO_DEVICES, seed=2026)
        refresh(trace_of(app), force=True)  # what `serve`'s refresher does in the background
    finally:
        engine.dispose()
    return summary


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """Built once per test run: the xdist workers share it."""
    with shared_template(tmp_path_factory, "demo", build_demo) as (template, summary):
        yield DemoTemplate(template, summary)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Every audit test's app reads the demo plants' declared operations."""
    return {**default_settings(database_url, tmp_path), "plant_operations": DEMO_OPERATIONS}


@pytest.fixture
def database_template(request: pytest.FixtureRequest) -> DatabaseTemplate | None:
    if "demo_summary" in request.fixturenames:
        return request.getfixturevalue("demo_template").database  # type: ignore[no-any-return]
    return None


@pytest.fixture(scope="session")
def demo_audit(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    """The demo quarter's audit as ``computed`` finds it on an untouched copy of the demo.

    Computed once per worker (2-3 s each time) for the tests that only read it beside
    their own copy: those add no event, so their audit is this one.
    """
    directory = tmp_path_factory.mktemp("demo-audit")
    with fresh_database(directory, demo_template.database) as url:
        app = create_app(
            {**default_settings(url, directory), "plant_operations": DEMO_OPERATIONS},
            clock=ShiftedClock(AUDIT_NOW),
        )
        try:
            return computed(app, Q3)
        finally:
            trace_of(app).engine.dispose()


@pytest.fixture
def demo_summary(demo_template: DemoTemplate, app: Flask) -> str:
    """What `traceability demo` printed; the test's database is a copy of the demo's."""
    return demo_template.summary


#: The audit tests live in November 2026, whatever the date: the demo quarter
#: (2026Q3) is the last closed one and among the kept periods.
AUDIT_NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
Q3 = parse_period("2026Q3")  # the demo quarter


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(AUDIT_NOW)


def token_for(app: Flask, username: str) -> dict[str, str]:
    with Session(trace_of(app).engine) as session:
        token = accounts.create_token(session=session, username=username, ttl_days=1).token
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def add_user(app: Flask, username: str, org: str, role: str) -> dict[str, str]:
    with Session(trace_of(app).engine) as session:
        accounts.add_user(session=session, username=username, org_code=org, role=role)
        session.commit()
    return token_for(app, username)


def computed(app: Flask, period: Period | None) -> Audit:
    """The audit of ``period`` computed now, from the whole log (what the refresher stores)."""
    with Session(trace_of(app).engine) as session, app.app_context():
        ledger = open_reader(session, trace_of(app).ledger)
        return run_audit(
            session, ledger=ledger, catalog=trace_of(app).catalog,
            ruleset=load_ruleset(), period=period, now=trace_of(app).now(),
            operations=operations_of(trace_of(app).settings),
        )  # fmt: skip


def stored_snapshot(app: Flask, period: str) -> Snapshot | Rejected | None:
    """The period's stored snapshot as the pages read it: checked, then decoded."""
    key = seal_key(trace_of(app).secret_key)
    with Session(trace_of(app).engine) as session:
        return SnapshotCache().read(session, period, key=key, now=trace_of(app).now())
