"""The console script against a real node: anchor, verify, ledger status."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.support.accounts import Actor
from tests.support.floor import make_device
from tests.support.ledger import statuses, submitter
from traceability.anchoring.connection import read_meta
from traceability.app import trace_of
from traceability.cli import main

pytestmark = pytest.mark.integration


def invoke(app: Flask, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=trace_of(app), catch_exceptions=False)


def test_anchor_prints_the_count_and_the_root_it_put_on_chain(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_ids = [make_device(client, collector, plant) for _ in range(2)]

    result = invoke(app, "anchor")

    assert result.exit_code == 0, result.output
    match = re.search(
        r"anchored (\d+) events in (\d+) batch\(es\); "
        r"last root ([0-9a-f]{64}) in block (\d+)",
        result.output,
    )
    assert match, result.output
    # the devices' six events and the register's events of their two organisations
    assert (int(match[1]), int(match[2])) == (6 + 2, 1)
    record = submitter(app).get_anchor(match[3])
    assert record is not None and record.size == 6 + 2
    assert record.block_number == int(match[4])
    for qr_id in qr_ids:
        assert statuses(client, plant, qr_id) == ["verified"] * 3

    again = invoke(app, "anchor")
    assert again.exit_code == 0
    assert again.output.startswith("anchored 0 events in 0 batch(es)")


def test_verify_one_device_and_all_on_a_clean_database(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = make_device(client, collector, plant)
    pending = invoke(app, "verify", qr_id)
    assert pending.exit_code == 1
    assert "pending" in pending.output and f"{qr_id}: NOT VERIFIED" in pending.output

    assert invoke(app, "anchor").exit_code == 0

    one = invoke(app, "verify", qr_id)
    assert one.exit_code == 0, one.output
    assert one.output.count("verified") == 3
    assert one.output.strip().endswith(f"{qr_id}: VERIFIED")

    every = invoke(app, "verify", "--all")
    assert every.exit_code == 0, every.output
    assert "events: verified 5" in every.output  # 3 of the device, 2 of the register
    assert "anchors on chain by" in every.output and ": 1" in every.output
    assert every.output.strip().splitlines()[-1] == "ALL VERIFIED"


def test_ledger_status_names_chain_and_registry(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    make_device(client, collector, plant)
    assert invoke(app, "anchor").exit_code == 0
    make_device(client, collector, plant)

    result = invoke(app, "ledger", "status")

    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    ledger = submitter(app)
    with Session(trace_of(app).engine) as session:
        meta = read_meta(session)
    assert status["status"] == "ok"
    assert status["chain_id"] == ledger.info().chain_id == int(meta["chain_id"])
    assert status["contract"] == meta["contract"] == ledger.contract_address
    assert status["pending"] == 3
    assert status["block_number"] >= 1
