"""The back-dating attack, replayed end to end on a real anvil in ``rpc`` mode (SPEC §3 "Time").

The plant's database admin, holding the plant's submitter key, runs the app's
own ingest under a September clock in December, invents 20 washers dismantled
in the closed 2026Q3, and lets the plant's worker anchor them with the plant's
key. Every record is intact and anchored by an accepted submitter: only the
block time, which the plant cannot set, gives it away. Every verifier, the
public page, the audit and the claim must see ``late``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from ledger.node import ManagedNode, set_chain_time
from tests.claims.quarter import EXAMPLE_RATES
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, new_id
from tests.support.ledger import anchor, rpc_settings
from traceability import create_app
from traceability.app import trace_of
from traceability.audit.ruleset import load_ruleset
from traceability.audit.services import run_audit
from traceability.cli import main
from traceability.clock import ShiftedClock
from traceability.periods import CHINA, parse_period
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GENESIS = dt.datetime(2026, 7, 1, tzinfo=CHINA)
HONEST_AUGUST = dt.datetime(2026, 8, 10, 9, 0, tzinfo=CHINA)
FORGED_SEPTEMBER = dt.datetime(2026, 9, 15, 9, 0, tzinfo=CHINA)
DECEMBER = dt.datetime(2026, 12, 5, 10, 0, tzinfo=CHINA)
WASHER = {"category": "washing_machine", "attributes": {"type": "drum", "dry_load_kg": "7"}}
OUTPUTS = [
    {"fraction": "motor", "weight_kg": "8"},
    {"fraction": "ferrous_metal", "weight_kg": "14"},
    {"fraction": "plastics", "weight_kg": "5"},
]


@pytest.fixture
def genesis() -> dt.datetime:
    return GENESIS  # the chain: born before the quarter, on its own time


@pytest.fixture
def node(dated_node: ManagedNode) -> ManagedNode:
    return dated_node


@pytest.fixture
def ledger_node(node: ManagedNode) -> ManagedNode:
    return node


@pytest.fixture
def settings(settings: dict[str, Any], node: ManagedNode) -> dict[str, Any]:
    return rpc_settings({**settings, "rate_schedules": ROOT / EXAMPLE_RATES}, node)


@pytest.fixture
def clock() -> ShiftedClock:
    """The honest app: it records in August, as the chain runs beside it."""
    return ShiftedClock(HONEST_AUGUST)


def washer(client: FlaskClient, plant: Actor, at: dt.datetime) -> str:
    """Collected, received and dismantled at the plant, at ``at`` and the minutes after."""
    stamps = [(at + dt.timedelta(minutes=m)).isoformat() for m in (0, 30, 60)]
    response = client.post(
        "/api/v1/devices", json={**WASHER, "occurred_at": stamps[0]}, headers=plant.headers
    )
    assert response.status_code == 201, response.get_json()
    qr_id: str = response.get_json()["qr_id"]
    Handheld(client, plant).record(
        {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": "30",
         "occurred_at": stamps[1]},
        {"id": new_id(), "type": "dismantled", "qr_id": qr_id, "outputs": OUTPUTS,
         "occurred_at": stamps[2]},
    )  # fmt: skip
    return qr_id


@pytest.fixture
def attack(
    app: Flask, client: FlaskClient, plant: Actor, node: ManagedNode, settings: dict[str, Any]
) -> tuple[str, list[str]]:
    """One honest washer anchored as it happened; then 20 forged in December as September's."""
    set_chain_time(node.url, int(HONEST_AUGUST.timestamp()))
    honest = washer(client, plant, HONEST_AUGUST - dt.timedelta(hours=2))
    assert anchor(client, plant)["anchored"] == 4  # and the plant's register event

    set_chain_time(node.url, int(DECEMBER.timestamp()))  # the chain's time moves on
    forger = create_app(settings, clock=ShiftedClock(FORGED_SEPTEMBER))  # the admin's does not
    try:
        forger_client = forger.test_client()
        forged = [
            washer(forger_client, plant, FORGED_SEPTEMBER - dt.timedelta(hours=3, minutes=n))
            for n in range(20)
        ]
        assert anchor(forger_client, plant)["anchored"] == 60  # with the plant's own key
    finally:
        trace_of(forger).engine.dispose()
    return honest, forged


@pytest.fixture
def december(settings: dict[str, Any]) -> Iterator[Flask]:
    """The app a regulator (or the honest plant) reads with, in December."""
    app = create_app(settings, clock=ShiftedClock(DECEMBER + dt.timedelta(hours=1)))
    try:
        yield app
    finally:
        trace_of(app).engine.dispose()


def test_every_verifier_sees_the_back_dated_records_as_late(
    december: Flask, plant: Actor, attack: tuple[str, list[str]], tmp_path: Path
) -> None:
    honest, forged = attack
    client = december.test_client()

    verified = client.get(f"/api/v1/devices/{honest}/verify", headers=plant.headers).get_json()
    late = client.get(f"/api/v1/devices/{forged[0]}/verify", headers=plant.headers).get_json()
    assert verified["verified"] is True
    assert late["verified"] is False
    assert {e["status"] for e in late["events"]} == {"late"}

    # The public page a phone camera opens says so.
    page = client.get(f"/d/{forged[0]}").get_data(as_text=True)
    assert 'data-verification="late"' in page and "逾期上链" in page
    assert 'data-verification="verified"' in client.get(f"/d/{honest}").get_data(as_text=True)

    # traceability verify --all
    done = CliRunner().invoke(main, ["verify", "--all"], obj=trace_of(december))
    assert done.exit_code == 1, done.output
    assert "events: late 60, verified 4" in done.output
    listed = {line.split()[1] for line in done.output.splitlines() if line.startswith("  late ")}
    assert listed and listed <= set(forged)
    assert done.output.strip().endswith("NOT VERIFIED")

    # python -m ledger.verify reads the block time itself, with the published trust file.
    trust = CliRunner().invoke(main, ["ledger", "trust"], obj=trace_of(december))
    assert trust.exit_code == 0, trust.output
    (tmp_path / "trust.json").write_text(trust.output, encoding="utf-8")
    for qr_id, verdict in ((honest, "VERIFIED"), (forged[0], "NOT VERIFIED")):
        bundle = client.get(f"/api/v1/devices/{qr_id}/proof", headers=plant.headers).get_json()
        (tmp_path / f"{qr_id}.json").write_text(json.dumps(bundle), encoding="utf-8")
        checked = subprocess.run(
            [sys.executable, "-m", "ledger.verify", str(tmp_path / f"{qr_id}.json"),
             "--rpc", trace_of(december).settings.ledger_url,
             "--trust", str(tmp_path / "trust.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert checked.stdout.strip().splitlines()[-1] == verdict, checked.stdout
    assert checked.stdout.count("late ") == 3
    assert "after it was recorded (allowed: 1.0 d)" in checked.stdout


def test_the_audit_finds_them_and_the_claim_excludes_them(
    december: Flask, plant: Actor, attack: tuple[str, list[str]]
) -> None:
    honest, forged = attack
    with Session(trace_of(december).engine) as session, december.app_context():
        ledger = open_reader(session, trace_of(december).ledger)
        audit = run_audit(
            session, ledger=ledger, catalog=trace_of(december).catalog,
            ruleset=load_ruleset(), period=parse_period("2026Q3"),
            now=DECEMBER + dt.timedelta(hours=1),
        )  # fmt: skip
    backdated = {f.subject for f in audit.findings if f.rule == "backdating"}
    assert backdated == set(forged)  # occurred in September, anchored in December
    detail = next(f for f in audit.findings if f.rule == "backdating").params
    assert detail["anchored"].startswith("2026-12-05")

    client = december.test_client()
    created = client.post(
        "/api/v1/claims", json={"period": "2026Q3"}, headers=manager_headers(client, plant)
    )
    assert created.status_code == 201, created.get_json()
    claim = created.get_json()
    assert claim["units"] == 1 and [d["qr_id"] for d in claim["devices"]] == [honest]
    assert claim["excluded_by_reason"] == {"recorded_late": 20}
    excluded = {e["qr_id"]: [r["code"] for r in e["reasons"]] for e in claim["excluded"]}
    assert excluded == {qr_id: ["recorded_late"] for qr_id in forged}
