"""Reported figures rest on the event log, not on the editable ``device`` rows (SPEC §3).

A database administrator who edits a projection row changes nothing the API
reports, and the edit shows up as a projection mismatch; one who edits an
event makes every report resting on it say ``verified: false``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.support.accounts import Actor
from tests.support.databases import edit_row
from tests.support.floor import OUTPUTS, Handheld, receive
from traceability.app import trace_of


def batch_id(app: Flask, org: str, code: str) -> int:
    with trace_of(app).engine.connect() as conn:
        return conn.execute(
            text("SELECT id FROM batch WHERE org = :o AND code = :c"), {"o": org, "c": code}
        ).scalar_one()


REPORTED = ("category", "attributes", "state", "received_weight_kg", "batch", "custodian")


def test_editing_a_device_row_changes_nothing_the_device_detail_reports(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    other = receive(client, collector, plant, weight_kg="5")
    Handheld(client, plant).dismantle(other, OUTPUTS, batch="B2")
    before = Handheld(client, plant).device(qr_id)

    edit_row(
        app,
        qr_id,
        received_weight_g=3_000_000,
        attributes={"display": "flat", "screen_in": 21},
        batch_id=batch_id(app, plant.org, "B2"),
        state="received",
        custodian=collector.org,
    )
    after = Handheld(client, plant).device(qr_id)

    assert {k: after[k] for k in REPORTED} == {k: before[k] for k in REPORTED}
    assert after["received_weight_kg"] == 30
    assert after["attributes"]["display"] == "crt"
    assert (after["state"], after["batch"]) == ("dismantled", "B1")
    assert before["projection_mismatch"] == []
    assert sorted(after["projection_mismatch"]) == sorted(
        ["received_weight_g", "attributes", "batch", "state", "custodian"]
    )


def test_editing_device_rows_changes_neither_batch_mass_nor_savings_nor_membership(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    kept = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(kept, OUTPUTS, batch="B1")
    moved = receive(client, collector, plant, weight_kg="12")
    Handheld(client, plant).dismantle(moved, OUTPUTS, batch="B1")
    elsewhere = receive(client, collector, plant, weight_kg="7")
    Handheld(client, plant).dismantle(elsewhere, OUTPUTS, batch="B2")
    b1_before, b2_before = Handheld(client, plant).batch("B1"), Handheld(client, plant).batch("B2")

    edit_row(app, kept, received_weight_g=3_000_000, attributes={"display": "flat"})
    edit_row(app, moved, batch_id=batch_id(app, plant.org, "B2"))
    edit_row(app, elsewhere, batch_id=batch_id(app, plant.org, "B1"), category="refrigerator")
    b1, b2 = Handheld(client, plant).batch("B1"), Handheld(client, plant).batch("B2")

    for before, after in ((b1_before, b1), (b2_before, b2)):
        for key in ("device_count", "mass_kg", "savings", "devices"):
            assert after[key] == before[key], key
    assert b1["mass_kg"] == 42 and b2["mass_kg"] == 7
    assert sorted(d["qr_id"] for d in b1["devices"]) == sorted([kept, moved])
    assert b1_before["projection_mismatch"] == []
    mismatched = {m["qr_id"]: m["fields"] for m in b1["projection_mismatch"]}
    # The row of ``elsewhere`` claims B1; its log (and B2's report) says B2.
    assert mismatched == {
        kept: ["attributes", "received_weight_g"],
        moved: ["batch"],
        elsewhere: ["category", "batch"],
    }


def test_a_treated_mass_is_the_sum_of_logged_intake_weights(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    from sqlmodel import Session

    from traceability.reports.batches import treated_mass

    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS)
    receive(client, collector, plant, weight_kg="11")  # received, not dismantled
    edit_row(app, qr_id, received_weight_g=3_000_000)

    with Session(trace_of(app).engine) as session:
        assert treated_mass(session, plant.org, now=trace_of(app).now()).mass_g == 30_000


class TestVerificationMarker:
    """Against an in-process chain: anchored and untouched is verified, tampered is not."""

    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "ledger_mode": "memory"}

    @pytest.fixture
    def anchor(self, client: FlaskClient, make_actor: Callable[..., Actor]) -> Callable[[], None]:
        manager = make_actor("DIS-SZ", "dismantler", role="manager")  # anchoring on demand

        def run() -> None:
            assert client.post("/api/v1/anchors", headers=manager.headers).status_code == 200

        return run

    def test_unanchored_devices_are_pending_not_verified(
        self, client: FlaskClient, collector: Actor, plant: Actor
    ) -> None:
        qr_id = receive(client, collector, plant, weight_kg="30")
        Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")

        detail, report = Handheld(client, plant).device(qr_id), Handheld(client, plant).batch("B1")

        assert (detail["verified"], detail["verification"]) == (False, "pending")
        assert report["verified"] is False
        assert report["unverified"] == [{"qr_id": qr_id, "verification": "pending"}]

    def test_anchored_devices_and_their_batch_verify(
        self, client: FlaskClient, collector: Actor, plant: Actor, anchor: Callable[[], None]
    ) -> None:
        qr_ids = [receive(client, collector, plant, weight_kg=w) for w in ("30", "12")]
        for qr_id in qr_ids:
            Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
        anchor()

        report = Handheld(client, plant).batch("B1")

        assert (report["verified"], report["unverified"]) == (True, [])
        assert all(d["verified"] for d in report["devices"])
        assert Handheld(client, plant).device(qr_ids[0])["verified"] is True

    def test_a_tampered_event_payload_makes_the_device_and_its_batch_unverified(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        anchor: Callable[[], None],
    ) -> None:
        honest = receive(client, collector, plant, weight_kg="12")
        Handheld(client, plant).dismantle(honest, OUTPUTS, batch="B1")
        tampered = receive(client, collector, plant, weight_kg="30")
        Handheld(client, plant).dismantle(tampered, OUTPUTS, batch="B1")
        anchor()

        with trace_of(app).engine.begin() as conn:
            conn.execute(
                text("UPDATE event SET payload = :p WHERE device = :q AND type = 'received'"),
                {"p": json.dumps({"weight_g": 3_000_000}), "q": tampered},
            )
        report = Handheld(client, plant).batch("B1")
        detail = Handheld(client, plant).device(tampered)

        assert report["verified"] is False
        assert [u["qr_id"] for u in report["unverified"]] == [tampered]
        assert report["unverified"][0]["verification"] == "failed"
        by_id = {d["qr_id"]: d for d in report["devices"]}
        assert (by_id[honest]["verified"], by_id[tampered]["verified"]) == (True, False)
        assert (detail["verified"], detail["verification"]) == (False, "failed")
        [bad] = detail["unverified_events"]
        assert bad["status"] == "tampered"

    def test_a_dismantling_moved_to_another_batch_in_the_log_is_caught_by_verification(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        anchor: Callable[[], None],
    ) -> None:
        qr_id = receive(client, collector, plant, weight_kg="30")
        Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
        anchor()

        with trace_of(app).engine.begin() as conn:
            payload = conn.execute(
                text("SELECT payload FROM event WHERE device = :q AND type = 'dismantled'"),
                {"q": qr_id},
            ).scalar_one()
            payload = json.loads(payload) if isinstance(payload, str) else payload
            conn.execute(
                text("UPDATE event SET payload = :p WHERE device = :q AND type = 'dismantled'"),
                {"p": json.dumps({**payload, "batch": "B9"}), "q": qr_id},
            )
        report = Handheld(client, plant).batch("B1")

        # The row still says B1: the device is reported, unverified, as a mismatch.
        assert report["device_count"] == 0
        assert report["verified"] is False
        assert report["unverified"] == [{"qr_id": qr_id, "verification": "failed"}]
        assert [(m["qr_id"], m["fields"]) for m in report["projection_mismatch"]] == [
            (qr_id, ["batch"])
        ]


def test_a_collected_device_reads_back_from_its_log(client: FlaskClient, collector: Actor) -> None:
    qr_id = Handheld(client, collector).collect(weight_kg="31.5", brand="Konka", source="household")

    detail = Handheld(client, collector).device(qr_id)

    assert (detail["state"], detail["custodian"], detail["collected_by"]) == (
        "collected",
        collector.org,
        collector.org,
    )
    assert (detail["collected_weight_kg"], detail["brand"], detail["source"]) == (
        31.5,
        "Konka",
        "household",
    )
    assert (detail["verified"], detail["projection_mismatch"]) == (False, [])


def test_a_refused_shipment_reads_back_with_the_sender_and_matches_the_row(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record({"type": "shipped", "qr_id": qr_id, "to": plant.org})
    Handheld(client, plant).record(
        {"type": "refused", "qr_id": qr_id, "reason": "no licence for CRTs"}
    )

    detail = Handheld(client, collector).device(qr_id)

    assert (detail["state"], detail["custodian"], detail["destination"]) == (
        "collected",
        collector.org,
        None,
    )
    assert detail["projection_mismatch"] == []


def test_a_flagged_correction_after_dismantling_is_reported_with_the_corrected_weight(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30")
    Handheld(client, plant).dismantle(qr_id, OUTPUTS, batch="B1")
    [received] = [
        e for e in Handheld(client, plant).device(qr_id)["events"] if e["type"] == "received"
    ]
    Handheld(client, plant).record(
        {
            "type": "corrected",
            "corrects": received["id"],
            "reason": "scale tare not subtracted",
            "fields": {"weight_kg": "28.4"},
        },
    )

    detail = Handheld(client, plant).device(qr_id)

    assert detail["received_weight_kg"] == 28.4
    [correction] = detail["corrections"]
    assert (correction["corrects"], correction["fields"]) == (received["id"], {"weight_g": 28_400})
    assert correction.get("flag")  # the auditor sees a mass changed after dismantling
    assert detail["projection_mismatch"] == []
    assert Handheld(client, plant).batch("B1")["mass_kg"] == Decimal("28.4")
