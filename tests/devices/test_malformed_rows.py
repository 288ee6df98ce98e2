"""One malformed event row is ``tampered`` and named; everything else goes on (SPEC §3).

Each row is written with raw SQL, as a database administrator would: a device
event that also names a lot, an event of no subject, an unknown type, a payload
that is not a JSON object (or not JSON), a time that cannot be read. Every
surface that reads the log still answers: ``verify --all``, the device API,
its verification and proof, the portal's device page, the public page, and
the audit refresher, whose snapshot lists the row as a finding.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from tests.audit.conftest import stored_snapshot
from tests.support.accounts import PASSWORD, Actor, add_actor
from tests.support.floor import make_device
from tests.support.ledger import event_ids
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.audit.snapshots import ALL, Snapshot
from traceability.cli import main
from traceability.custody.models import Event

#: What an administrator can write into the shipped event of a device.
EDITS = {
    "device_and_lot": "UPDATE event SET lot = 'DIS-SZ-copper-1' WHERE id = :id",
    "device_and_claim": "UPDATE event SET claim = 'CLAIM-1' WHERE id = :id",
    "no_subject": "UPDATE event SET device = NULL WHERE id = :id",
    "unknown_type": "UPDATE event SET type = 'teleported' WHERE id = :id",
    "payload_null": "UPDATE event SET payload = 'null' WHERE id = :id",
    "payload_array": "UPDATE event SET payload = '[1, 2]' WHERE id = :id",
    # SQLite keeps whatever text it is given; PostgreSQL refuses these values outright.
    "payload_not_json": "UPDATE event SET payload = '{not json' WHERE id = :id",
    "time_not_a_time": "UPDATE event SET occurred_at = 'yesterday' WHERE id = :id",
    "time_a_number": "UPDATE event SET recorded_at = 5 WHERE id = :id",
}
SQLITE_ONLY = {"payload_not_json", "time_not_a_time", "time_a_number"}


@pytest.fixture(params=list(EDITS))
def malformed(
    request: pytest.FixtureRequest, app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> tuple[str, str, str]:
    """(victim device, its malformed event, an untouched device) after the admin's edit."""
    engine = trace_of(app).engine
    if request.param in SQLITE_ONLY and engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses the value itself")
    victim = make_device(client, collector, plant)
    other = make_device(client, collector, plant)
    shipped = event_ids(client, plant, victim)[1]
    with engine.begin() as conn:
        conn.execute(text(EDITS[request.param]), {"id": shipped})
    return victim, shipped, other


def test_verify_all_names_the_row_and_checks_everything_else(
    app: Flask, malformed: tuple[str, str, str]
) -> None:
    _victim, shipped, _other = malformed
    result = CliRunner().invoke(main, ["verify", "--all"], obj=trace_of(app))
    assert result.exit_code == 1, result.output
    assert re.search(rf"tampered\s+.+ {shipped}", result.output), result.output
    counts = re.search(r"events: (.*)", result.output)
    assert counts is not None, result.output
    # all six events of both devices (and the two organisations' register events) were
    # checked: the run did not stop at the bad row
    with Session(trace_of(app).engine) as session:
        stored = session.execute(select(func.count()).select_from(Event)).scalar_one()
    assert stored == 8
    assert sum(int(n) for n in re.findall(r"\d+", counts.group(1))) == stored


def test_the_device_api_answers_with_the_row_tampered(
    client: FlaskClient, plant: Actor, malformed: tuple[str, str, str]
) -> None:
    victim, shipped, other = malformed
    shown = client.get(f"/api/v1/devices/{victim}", headers=plant.headers)
    assert shown.status_code == 200, shown.get_json()
    body = shown.get_json()
    assert body["verified"] is False and body["verification"] == "failed"
    verify = client.get(f"/api/v1/devices/{victim}/verify", headers=plant.headers)
    assert verify.status_code == 200, verify.get_json()
    assert verify.get_json()["verified"] is False
    assert client.get(f"/api/v1/devices/{victim}/proof", headers=plant.headers).status_code == 200
    if body["events"][1]["id"] == shipped:  # still in the device's log (it names the device)
        assert body["events"][1]["malformed"]
        assert {"id": shipped, "status": "tampered"} in body["unverified_events"]
        assert {"id": shipped, "status": "tampered"} in verify.get_json()["events"]
        assert shipped in verify.get_json()["ledger_problem"]
    else:  # gone from it: the chain breaks where it was
        assert verify.get_json()["events"][1]["status"] == "broken_chain"
    untouched = client.get(f"/api/v1/devices/{other}", headers=plant.headers)
    assert untouched.status_code == 200 and untouched.get_json()["verification"] == "pending"


def test_the_portal_and_the_public_page_show_the_device(
    app: Flask, client: FlaskClient, malformed: tuple[str, str, str]
) -> None:
    victim, shipped, _other = malformed
    add_actor(app, "GOV-JS", "regulator", role="auditor", region="320000",
              username="js.auditor", password=PASSWORD)  # fmt: skip
    assert client.get(f"/d/{victim}").status_code == 200
    assert sign_in(client, "js.auditor").status_code == 302
    for lang in ("en", "zh-CN"):
        page = client.get(f"/portal/devices/{victim}", headers={"Accept-Language": lang})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        if f'data-event="{shipped}"' in html:
            assert f'data-event="{shipped}" data-status="tampered"' in html
        else:
            assert 'data-status="broken_chain"' in html
        assert "None" not in re.sub(r"<[^>]+>", "", html)


def test_the_audit_refresher_completes_and_lists_the_row(
    app: Flask, malformed: tuple[str, str, str]
) -> None:
    _victim, shipped, _other = malformed
    run = refresh(trace_of(app), force=True)
    assert ALL in run.periods
    snapshot = stored_snapshot(app, ALL)
    assert isinstance(snapshot, Snapshot)
    failed = [f for f in snapshot.findings if f.rule == "verification_failed"]
    assert any(shipped in f.events for f in failed), failed
