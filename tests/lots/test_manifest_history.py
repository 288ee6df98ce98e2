"""Manifests over time: corrections of a manifest list or a receipt, and shipments recorded
before manifests were lists (one ``manifest_no``), which stay readable and verify."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from tests.audit.conftest import computed
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from tests.support.ledger import anchor
from tests.support.manifests import number, shipped
from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.audit.lot_queries import lot_shipments
from traceability.custody.checks import record
from traceability.custody.models import Event, EventType
from traceability.custody.workspace import LOT_TABLE, LotRecord, Workspace
from traceability.lots.manifests import Manifest
from traceability.lots.models import Lot, LotManifest
from traceability.verification.reconciliation import verify_everything


@pytest.fixture
def pcb(app: Flask, client: FlaskClient, collector: Actor, plant: Actor) -> str:
    Handheld(client, plant).dismantle(receive(client, collector, plant), {"pcb": "2.5"})
    with Session(trace_of(app).engine) as session:
        return session.exec(select(Lot.code).where(Lot.fraction == "pcb")).one()


def post(actor: Actor, client: FlaskClient, **item: Any) -> dict[str, Any]:
    [result] = Handheld(client, actor).post({"id": new_id(), **item})
    return result


def manifest_rows(app: Flask) -> list[tuple[str, int, int | None]]:
    with Session(trace_of(app).engine) as session:
        rows = session.exec(select(LotManifest).order_by(col(LotManifest.id))).all()
        return [(m.number, m.shipped_weight_g, m.received_weight_g) for m in rows]


def test_a_mistyped_manifest_is_corrected_before_receipt_and_the_receipt_follows(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb: str
) -> None:
    typo, right = number(app, 12), number(app, 21)
    shipment = post(plant, client, type="lot_shipped", lot=pcb, to=processor.org,
                    manifests=[shipped(typo, "2.5")])  # fmt: skip
    bad = post(plant, client, type="corrected", corrects=shipment["id"], reason="联单号录错",
               fields={"manifests": [shipped("X", "2.5")]})  # fmt: skip
    legacy_field = post(plant, client, type="corrected", corrects=shipment["id"], reason="x",
                        fields={"manifest_no": right})  # fmt: skip
    fixed = post(plant, client, type="corrected", corrects=shipment["id"], reason="联单号录错",
                 fields={"manifests": [shipped(right, "2.5")]})  # fmt: skip

    assert (bad["status"], bad["error"]["field"]) == ("rejected", "fields.manifests[0].number")
    assert (legacy_field["status"], legacy_field["error"]["field"]) == (
        "rejected", "fields.manifest_no",
    )  # fmt: skip
    assert fixed["status"] == "created", fixed
    assert manifest_rows(app) == [(right, 2500, None)]
    old = post(processor, client, type="lot_received", lot=pcb,
               manifests=[{"number": typo, "weight_kg": "2.5"}])  # fmt: skip
    assert (old["status"], old["error"]["field"]) == ("rejected", "manifests[0].number")
    new = post(processor, client, type="lot_received", lot=pcb,
               manifests=[{"number": right, "weight_kg": "2.5"}])  # fmt: skip
    assert new["status"] == "created", new
    assert [m.number for m in lot_shipments(computed(app, None).data)[pcb].manifests] == [right]


def test_a_receipt_reweighed_by_the_processor_is_what_the_audit_compares(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb: str
) -> None:
    manifest = number(app, 1)
    post(plant, client, type="lot_shipped", lot=pcb, to=processor.org,
         manifests=[shipped(manifest, "2.5")])  # fmt: skip
    receipt = post(processor, client, type="lot_received", lot=pcb,
                   manifests=[{"number": manifest, "weight_kg": "0.25"}])  # fmt: skip
    assert [f.rule for f in computed(app, None).findings].count("lot_weight_mismatch") == 1

    fixed = post(processor, client, type="corrected", corrects=receipt["id"],
                 reason="磅单小数点录错", fields={"manifests": [
                     {"number": manifest, "weight_kg": "2.49"}]})  # fmt: skip

    assert fixed["status"] == "created", fixed
    assert manifest_rows(app) == [(manifest, 2500, 2490)]
    with Session(trace_of(app).engine) as session:
        lot = session.get(Lot, pcb)
        assert lot is not None and lot.received_weight_g == 2490
    data = computed(app, None)
    assert "lot_weight_mismatch" not in [f.rule for f in data.findings]
    assert lot_shipments(data.data)[pcb].received_g == 2490


def ship_the_old_way(app: Flask, plant: Actor, lot: str, to: str, manifest_no: str) -> None:
    """A shipment as recorded before manifests were lists: one number, no weights."""
    engine = trace_of(app).engine
    with Session(engine) as session:
        principal = accounts.authenticate_token(session=session, token=plant.token)
        ws = Workspace(session, principal, trace_of(app).catalog, trace_of(app).now())
        row = session.connection().execute(sa_select(LOT_TABLE).where(LOT_TABLE.c.code == lot))
        record_ = ws.load(LotRecord, row.one())
        payload = {"to": to, "manifest_no": manifest_no}
        record(ws, record_, new_id(), EventType.lot_shipped, ws.now, payload)
        record_.state, record_.destination, record_.manifest_no = "shipped", to, manifest_no
        record_.shipped_at = ws.now
        ws.write()
        session.commit()


class TestRecordedBefore:
    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "ledger_mode": "memory"}

    def test_an_old_shipment_is_received_as_a_whole_reads_as_one_manifest_and_verifies(
        self, app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb: str
    ) -> None:
        ship_the_old_way(app, plant, pcb, processor.org, "M-1")
        listed = post(processor, client, type="lot_received", lot=pcb,
                      manifests=[{"number": "M-1", "weight_kg": "2.4"}])  # fmt: skip
        whole = post(processor, client, type="lot_received", lot=pcb, weight_kg="2.4")
        anchor(client, plant)

        assert (listed["status"], listed["error"]["field"]) == ("rejected", "manifests")
        assert whole["status"] == "created", whole
        report = verify_everything(trace_of(app))
        assert report.ok, report
        shipment = lot_shipments(computed(app, None).data)[pcb]
        assert shipment.manifests == (Manifest("M-1", received_g=2400),)
        assert shipment.cross_province is None and shipment.shipped_g is None
        assert "lot_weight_mismatch" not in [f.rule for f in computed(app, None).findings]
        with Session(trace_of(app).engine) as session:
            kinds = session.exec(select(Event.type).where(Event.lot == pcb)).all()
        assert kinds == ["lot_shipped", "lot_received"]

    def test_a_corrected_lot_event_verifies_like_any_other(
        self, app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb: str
    ) -> None:
        manifest = number(app, 1)
        post(plant, client, type="lot_shipped", lot=pcb, to=processor.org,
             manifests=[shipped(manifest, "2.5")])  # fmt: skip
        receipt = post(processor, client, type="lot_received", lot=pcb,
                       manifests=[{"number": manifest, "weight_kg": "0.25"}])  # fmt: skip
        post(processor, client, type="corrected", corrects=receipt["id"], reason="磅单录错",
             fields={"manifests": [{"number": manifest, "weight_kg": "2.49"}]})  # fmt: skip
        anchor(client, plant)

        report = verify_everything(trace_of(app))

        assert report.ok, report  # before issue 17 a lot's correction read as malformed
        assert report.counts["verified"] == len(list(self.events(app)))

    @staticmethod
    def events(app: Flask) -> list[Event]:
        with Session(trace_of(app).engine) as session:
            return list(session.exec(select(Event)).all())
