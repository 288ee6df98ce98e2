"""The demo's whole event log, exported page by page: every page valid against GS1's schema,
every eventID the reference implementation's hash of its event, every record once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from tests.audit.conftest import AUDIT_NOW, DEMO_OPERATIONS, DemoTemplate, build_demo, token_for
from tests.epcis.documents import URL, errors, event_list
from tests.epcis.reference import reference_ids
from tests.support.accounts import add_actor
from tests.support.databases import DatabaseTemplate, default_settings, shared_template
from traceability.app import trace_of
from traceability.clock import ShiftedClock
from traceability.custody.models import Event

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    """The audit tests' demo (3,000 devices), built once per run and shared with them."""
    with shared_template(tmp_path_factory, "demo", build_demo) as (template, summary):
        yield DemoTemplate(template, summary)


@pytest.fixture
def database_template(demo_template: DemoTemplate) -> DatabaseTemplate:
    return demo_template.database


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {**default_settings(database_url, tmp_path), "plant_operations": DEMO_OPERATIONS}


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(AUDIT_NOW)


def walk(client: FlaskClient, headers: dict[str, str]) -> Iterator[dict[str, Any]]:
    url: str | None = f"{URL}?perPage=500"
    while url is not None:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        yield response.get_json()
        link = response.headers.get("Link")
        url = link[link.index(URL) : link.index(">")] if link else None


def test_the_demos_whole_export_has_the_reference_implementations_event_ids(
    app: Flask, client: FlaskClient, validator: Draft7Validator
) -> None:
    records, types = 0, set()
    auditors = [token_for(app, "js.auditor"), token_for(app, "bj.auditor")]
    # the demo's regulators read Jiangsu and Beijing: two more read Guangdong and Anhui
    auditors += [add_actor(app, org, "regulator", "auditor", region).headers
                 for org, region in (("REG-GD", "440000"), ("REG-AH", "340000"))]  # fmt: skip
    for headers in auditors:
        for document in walk(client, headers):
            assert errors(validator, document) == []
            events = event_list(document)
            assert [e["eventID"] for e in events] == reference_ids(document)
            records += sum(len(p) for p in document["trace:proofs"].values())
            types |= {(e["type"], e["bizStep"], "errorDeclaration" in e) for e in events}
    with Session(trace_of(app).engine) as session:
        logged = session.exec(
            select(func.count())
            .select_from(Event)
            .where(col(Event.organisation).is_(None), col(Event.claim).is_(None))
        ).one()
    assert records == logged > 10_000
    assert len(types) >= 8, types
