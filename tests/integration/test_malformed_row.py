"""A malformed event row written after anchoring: tampered and named; everything else still
verifies against the chain (issue 15 finding 9, on a real node)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.support.accounts import Actor
from tests.support.floor import make_device
from tests.support.ledger import anchor, event_ids, verification
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.cli import main

pytestmark = pytest.mark.integration


def badge(client: FlaskClient, qr_id: str) -> str:
    html = client.get(f"/d/{qr_id}").get_data(as_text=True)
    return html.split('data-verification="', 1)[1].split('"', 1)[0]


def test_a_device_event_that_also_names_a_lot_fails_alone(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    victim, *others = [make_device(client, collector, plant) for _ in range(3)]
    assert anchor(client, plant)["anchored"] == 9 + 2  # and the two organisations' register events
    shipped = event_ids(client, plant, victim)[1]
    with trace_of(app).engine.begin() as conn:  # the administrator, with SQL
        conn.execute(
            text("UPDATE event SET lot = 'DIS-SZ-copper-1' WHERE id = :id"), {"id": shipped}
        )

    result = CliRunner().invoke(main, ["verify", "--all"], obj=trace_of(app))
    assert result.exit_code == 1, result.output
    assert re.search(rf"tampered\s+{re.escape(victim)} {shipped}", result.output), result.output
    assert "events: tampered 1, verified 10" in result.output
    assert [e["status"] for e in verification(client, plant, victim)["events"]] == [
        "verified", "tampered", "verified",
    ]  # fmt: skip
    assert badge(client, victim) == "failed"
    for qr_id in others:
        assert verification(client, plant, qr_id)["verified"] is True
        assert badge(client, qr_id) == "verified"
    assert refresh(trace_of(app), force=True).periods  # the audit refresher completes
