"""Every exported eventID is its GS1 event hash, as GS1's reference implementation computes it.

The reference is ``epcis-event-hash-generator`` (a pinned test dependency);
the project computes the hash with its own code (``traceability.epcis.eventhash``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from sqlmodel import Session, select

from tests.epcis.documents import SCHEMA_DIR, errors, event_list, export
from tests.epcis.reference import carried, reference_ids
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, receive
from tests.support.ledger import anchor
from tests.support.manifests import number, shipped
from traceability.app import trace_of
from traceability.epcis import cbv
from traceability.epcis.eventhash import UnsupportedEvent, event_hash, is_event_hash, prehash
from traceability.lots.models import Lot

PREFIXES = {"trace": "https://trace.example.cn/ns/trace#"}
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", PREFIXES]


def every_kind_of_event(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    """One of each: collection, shipping, receipt, storing, refusal, dismantling (per device
    and in a batch), correction, stocktake, lot shipment, lot receipt, lot treatment."""
    at_plant, at_processor = Handheld(client, plant), Handheld(client, processor)
    qr_id = receive(client, collector, plant, weight_kg="30.5")
    at_plant.record({"type": "stored", "qr_id": qr_id, "area": "A-01"})
    refused = Handheld(client, collector).collect(brand="海尔", serial="SN 1")
    Handheld(client, collector).ship(refused, to=plant)
    at_plant.record({"type": "refused", "qr_id": refused, "reason": "没有铭牌"})
    at_plant.dismantle(qr_id, {"pcb": "2.5", "plastics": "3.25", "crt_panel_glass": "10"})
    other = receive(client, collector, plant, weight_kg="12")
    at_plant.dismantle(other, {"pcb": "1"}, batch="B-0701", line="L1")
    received_id = Handheld(client, plant).device(other)["events"][2]["id"]
    at_plant.record(
        {
            "type": "corrected",
            "corrects": received_id,
            "reason": "皮重",
            "fields": {"weight_kg": "11.5"},
        }
    )
    with Session(trace_of(app).engine) as session:
        pcb, plastics = (
            session.exec(select(Lot.code).where(Lot.fraction == f)).one()
            for f in ("pcb", "plastics")
        )
    first = number(app, 1)
    at_plant.record(
        {"type": "stocktake", "lot": plastics, "weight_kg": "3.2"},
        {
            "type": "lot_shipped",
            "lot": pcb,
            "to": processor.org,
            "manifests": [shipped(first, "3.5")],
        },
    )
    at_processor.record(
        {"type": "lot_received", "lot": pcb, "manifests": [{"number": first, "weight_kg": "3.4"}]},
        {"type": "lot_treated", "lot": pcb, "method": "火法冶金"},
    )


@pytest.fixture
def everything(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> tuple[dict[str, Any], ...]:
    """What the collector, the plant and the processor export once every kind of event is
    recorded."""
    every_kind_of_event(app, client, collector, plant, processor)
    return (
        export(client, manager_headers(client, collector)),
        export(client, manager_headers(client, plant)),
        export(client, manager_headers(client, processor)),
    )


def test_every_exported_event_has_the_reference_implementations_hash(
    everything: tuple[dict[str, Any], ...], validator: Draft7Validator
) -> None:
    kinds = set()
    for document in everything:
        assert errors(validator, document) == []
        events = event_list(document)
        ids = [e["eventID"] for e in events]
        assert all(is_event_hash(i) for i in ids)
        assert ids == reference_ids(document)
        kinds |= {(e["type"], e["bizStep"], "errorDeclaration" in e) for e in events}
    assert kinds == {
        ("ObjectEvent", "commissioning", False), ("ObjectEvent", "shipping", False),
        ("ObjectEvent", "receiving", False), ("ObjectEvent", "storing", False),
        ("ObjectEvent", "receiving", True), ("TransformationEvent", "disassembling", False),
        ("ObjectEvent", "cycle_counting", False), ("ObjectEvent", "destroying", False),
    }  # fmt: skip


def test_identity_does_not_change_when_the_anchor_does(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    receive(client, collector, plant)
    headers = manager_headers(client, plant)
    pending = export(client, headers)
    anchor(client, plant)
    anchored = export(client, headers)
    ids = [e["eventID"] for e in event_list(pending)]
    assert ids == [e["eventID"] for e in event_list(anchored)]
    assert event_list(pending) == event_list(anchored)
    assert {i: p[0]["trace:anchor"] for i, p in pending["trace:proofs"].items()} == dict.fromkeys(
        ids
    )
    roots = {p[0]["trace:anchor"]["trace:root"] for p in anchored["trace:proofs"].values()}
    assert len(roots) == 1 and None not in roots


def test_the_proof_map_lets_a_reader_recompute_each_digest(
    everything: tuple[dict[str, Any], ...],
) -> None:
    from ledger.canonical import digest_hex

    for document in everything:
        proofs = document["trace:proofs"]
        records = [p for entries in proofs.values() for p in entries]
        assert len(records) == len(event_list(document))
        for proof in records:
            assert digest_hex(proof["trace:record"]) == proof["trace:digest"]


def test_each_anchored_record_carries_its_merkle_audit_path(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    from ledger.merkle import verify_inclusion

    for _ in range(9):  # more records of one batch than a walk per record is worth
        receive(client, collector, plant)
    anchor(client, plant)
    document = export(client, manager_headers(client, plant))
    records = [p for entries in document["trace:proofs"].values() for p in entries]
    assert len(records) == 9
    for proof in records:
        at = proof["trace:anchor"]

        def hexes(value: str) -> bytes:
            return bytes.fromhex(value.removeprefix("0x"))

        assert verify_inclusion(
            hexes(proof["trace:digest"]), at["trace:leafIndex"], at["trace:batchSize"],
            [hexes(p) for p in at["trace:proof"]], hexes(at["trace:root"]),
        )  # fmt: skip
        assert not verify_inclusion(
            hexes(proof["trace:digest"]), at["trace:leafIndex"] ^ 1, at["trace:batchSize"],
            [hexes(p) for p in at["trace:proof"]], hexes(at["trace:root"]),
        )  # fmt: skip


def test_a_change_of_any_field_changes_the_hash() -> None:
    event = {
        "type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "epcList": ["https://trace.example.cn/d/A"],
        "action": "OBSERVE", "bizStep": "receiving", "trace:weightKg": 30.5,
    }  # fmt: skip
    same = event_hash(event, PREFIXES)
    assert event_hash({**event, "recordTime": "2027-01-01T00:00:00Z"}, PREFIXES) == same
    assert event_hash({**event, "eventTime": "2026-07-01T00:00:00.000Z"}, PREFIXES) == same
    assert event_hash({**event, "trace:weightKg": 30.50}, PREFIXES) == same
    changes: list[dict[str, Any]] = [
        {"trace:weightKg": 30.4}, {"bizStep": "shipping"}, {"epcList": []}
    ]  # fmt: skip
    for change in changes:
        assert event_hash({**event, **change}, PREFIXES) != same


def test_source_key_order_does_not_change_our_hash_but_changes_the_references() -> None:
    """The one place where the reference hashes the JSON text, not the event: documented."""
    base = {"type": "ObjectEvent", "eventTime": "2026-07-01T00:00:00Z", "action": "OBSERVE"}
    a = {**base, "sourceList": [{"type": "possessing_party", "source": "https://x.cn/o/1"}]}
    b = {**base, "sourceList": [{"source": "https://x.cn/o/1", "type": "possessing_party"}]}
    assert event_hash(a, {}) == event_hash(b, {})
    [ref_a] = reference_ids({"@context": CONTEXT, "epcisBody": {"eventList": [a]}})
    [ref_b] = reference_ids({"@context": CONTEXT, "epcisBody": {"eventList": [b]}})
    assert event_hash(a, {}) == ref_a != ref_b


def test_a_time_that_rounds_up_to_the_next_second() -> None:
    """.9995 s is the next second's .000 (the reference fails on it: tests/epcis/reference.py)."""
    event = {"type": "ObjectEvent", "eventTime": "2026-07-01T07:59:59.9995+08:00", "action": "ADD"}
    assert "eventTime=2026-07-01T00:00:00.000Z" in prehash(event, {})
    [reference] = reference_ids({"@context": CONTEXT, "epcisBody": {"eventList": [carried(event)]}})
    assert event_hash(event, {}) == reference


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"epcList": ["urn:epc:id:sgtin:0614141.107346.2018"]}, "epc"),
        ({"readPoint": {"id": "https://id.gs1.org/414/4012345000221"}}, "id"),
        ({"ilmd": {"trace:x": 1}}, "ilmd"),
        ({"sensorElementList": []}, "sensorElementList"),
        ({"readPoint": {"id": "https://x.cn/1", "trace:x": 1}}, "readPoint"),
    ],
)
def test_what_is_not_implemented_is_refused_not_hashed_wrong(
    change: dict[str, Any], field: str
) -> None:
    event = {"type": "ObjectEvent", "eventTime": "2026-07-01T00:00:00Z", "action": "ADD"}
    with pytest.raises(UnsupportedEvent) as raised:
        event_hash({**event, **change}, {})
    assert raised.value.field == field


def test_the_cbv_terms_are_gs1s() -> None:
    context = json.loads((SCHEMA_DIR / "epcis-context.jsonld").read_text(encoding="utf-8"))
    context = context["@context"]

    def terms(ctx: dict[str, Any]) -> frozenset[str]:
        return frozenset(k for k in ctx if not k.startswith("@"))

    assert terms(context["bizStep"]["@context"]) == cbv.BIZ_STEPS
    assert terms(context["disposition"]["@context"]) == cbv.DISPOSITIONS
    sdt = context["sourceList"]["@context"]["type"]["@context"]
    assert terms(sdt) == cbv.SOURCE_DESTINATION_TYPES
    btt = context["bizTransactionList"]["@context"]["type"]["@context"]
    assert terms(btt) == cbv.BIZ_TRANSACTION_TYPES
    assert terms(context["errorDeclaration"]["@context"]["reason"]["@context"]) == cbv.ERROR_REASONS


BASE = {
    "type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00.5+08:00",
    "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
}  # fmt: skip


@pytest.mark.parametrize(
    "more",
    [
        {"trace:note": "  spaced  ", "trace:empty": "", "trace:code": "007", "trace:kg": 1.50},
        {"trace:flag": True, "trace:none": None, "trace:big": 1e16, "trace:small": 1e-7},
        {"trace:attrs": {"b": [1, 2], "a": {"z": "x", "y": "trace:curie"}}},
        {"trace:itemList": [{"trace:n": 2}, {"trace:n": 1}], "trace:tags": ["b", "a"]},
        {"parentID": "https://x.cn/p/1", "childEPCs": ["https://x.cn/c/2", "https://x.cn/c/1"]},
        {"quantityList": [{"epcClass": "https://x.cn/k/1", "quantity": 2.0, "uom": "KGM"},
                          {"epcClass": "https://x.cn/k/0", "quantity": 0.125}]},
        {"bizStep": "urn:epcglobal:cbv:bizstep:receiving", "disposition": "https://x.cn/own"},
        {"bizTransactionList": [{"type": "po", "bizTransaction": "https://x.cn/po/2"},
                                {"type": "bol", "bizTransaction": "https://x.cn/bol/1"}]},
        {"transformationID": "https://x.cn/t/1", "outputEPCList": ["https://x.cn/o/1"]},
        {"readPoint": {"id": "https://x.cn/r/1"}, "bizLocation": {"id": "https://x.cn/l/1"},
         "trace:nan": "nan", "trace:inf": "-1_000"},
    ],
)  # fmt: skip
def test_shapes_the_export_does_not_write_hash_as_the_reference_hashes_them(
    more: dict[str, Any],
) -> None:
    event = {**BASE, **more}
    [reference] = reference_ids({"@context": CONTEXT, "epcisBody": {"eventList": [event]}})
    assert event_hash(event, PREFIXES) == reference, prehash(event, PREFIXES)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trace:grid": [[1, 2]]}, "{https://trace.example.cn/ns/trace#}grid"),
        ({"quantityList": [{"epcClass": "https://x.cn/k", "quantity": 1, "trace:x": 1}]},
         "quantityList"),
        ({"sourceList": [{"type": "location", "source": "https://x.cn/s", "x": 1}]}, "sourceList"),
        ({"trace:x": {"inputEPC": "https://x.cn/1"}}, "inputEPC"),
        ({"eventTime": "2026-07-01T08:00:00"}, "eventTime"),
        ({"eventTime": "yesterday"}, "eventTime"),
        ({"epcList": "https://x.cn/1"}, "epcList"),
        ({"@context": []}, "@context"),
    ],
)  # fmt: skip
def test_more_that_is_not_implemented_is_refused(change: dict[str, Any], field: str) -> None:
    with pytest.raises(UnsupportedEvent) as raised:
        event_hash({**BASE, **change}, PREFIXES)
    assert raised.value.field == field
