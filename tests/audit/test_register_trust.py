"""The register the audit reads is the one the chain holds (SPEC §3, §2.8): a licence
event the plant's database administrator edits after anchoring changes no finding and is
one itself (issue 17)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from ledger.canonical import digest_hex
from ledger.node import ManagedNode
from tests.audit.conftest import computed, token_for
from tests.support.ledger import rpc_settings
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.catalog.models import load_catalog
from traceability.custody.models import Event
from traceability.periods import parse_period
from traceability.verification.services import content_of

pytestmark = pytest.mark.integration
Q3 = parse_period("2026Q3")


@pytest.fixture
def settings(settings: dict[str, Any], anvil_node: ManagedNode) -> dict[str, Any]:
    """The demo's copy on a chain: anvil, with a registry of this test's own."""
    return rpc_settings(settings, anvil_node)


def test_a_licence_widened_in_the_database_changes_no_finding_and_is_one(
    app: Flask, demo_summary: str
) -> None:
    """The plant's admin adds the categories its dismantlings lacked to its anchored
    licence events (digests recomputed): the edit is a finding naming the events, and
    the plant, holding no licence that verifies, is judged as holding none."""
    client, headers = app.test_client(), token_for(app, "js.auditor")
    url = "/api/v1/audit/anomalies?period=2026Q3&rule={}"
    assert anchor_now(trace_of(app).engine, trace_of(app).ledger, recheck=False).events_anchored
    refresh(trace_of(app), force=True)
    unlicensed = client.get(url.format("unlicensed_category"), headers=headers).get_json()
    assert unlicensed["total"] > 0
    plant = unlicensed["items"][0]["org"]
    licence_types = ("licence_issued", "licence_amended")
    with trace_of(app).engine.begin() as conn:
        rows = conn.execute(
            select(Event)
            .where(Event.organisation == plant, Event.type.in_(licence_types))
            .order_by(Event.seq)
        ).all()
        widened = {category: 100_000 for category in load_catalog().categories}
        for row in rows:
            payload = {**row.payload, "categories": widened}
            forged = SimpleNamespace(**{**row._mapping, "payload": payload})
            conn.execute(
                update(Event)
                .where(Event.id == row.id)
                .values(payload=payload, digest=digest_hex(content_of(forged)))
            )
    refresh(trace_of(app), force=True)
    again = client.get(url.format("unlicensed_category"), headers=headers).get_json()
    # judged as holding no licence: every dismantling of the plant is one now
    assert again["total"] > unlicensed["total"]
    found = {
        (f.org, f.subject) for f in computed(app, Q3).findings if f.rule == "unlicensed_category"
    }
    assert found > {(i["org"], i["subject"]) for i in unlicensed["items"]}
    failed = client.get(url.format("verification_failed"), headers=headers).get_json()
    assert [(i["org"], i["subject"], i["events"]) for i in failed["items"]] == [
        (plant, plant, [row.id for row in rows])
    ]
