"""EPCIS 2.0 export: valid against GS1's JSON Schema, dismantling as a TransformationEvent."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from sqlalchemy import text
from sqlmodel import Session, select

from tests.epcis.documents import URL, errors, event_list, export
from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld, new_id, receive
from tests.support.ledger import anchor
from tests.support.manifests import number, shipped
from traceability.app import trace_of
from traceability.lots.models import Lot


def test_the_format_checker_really_checks_dates_and_uris(validator: Draft7Validator) -> None:
    checker = validator.format_checker
    assert checker is not None
    assert checker.conforms("2026-07-01T08:00:00+08:00", "date-time")
    assert not checker.conforms("2026-07-01 08:00", "date-time")
    assert not checker.conforms("2026-13-01T08:00:00Z", "date-time")
    assert not checker.conforms("not a uri", "uri")


def test_a_dismantled_device_exports_valid_epcis_with_kgm_outputs(
    client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30.5")
    Handheld(client, plant).dismantle(qr_id, {"pcb": "1.5", "plastics": "3.25"}, batch="B1")
    anchor(client, plant)
    document = export(client, manager_headers(client, plant))

    assert errors(validator, document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    [transformation] = [e for e in events if e["type"] == "TransformationEvent"]
    assert transformation["bizStep"] == "disassembling"
    assert transformation["inputEPCList"] == [f"https://trace.example.cn/d/{qr_id}"]
    assert sorted(
        (q["epcClass"].rsplit("/", 1)[1], q["quantity"], q["uom"])
        for q in transformation["outputQuantityList"]
    ) == [("pcb", 1.5, "KGM"), ("plastics", 3.25, "KGM")]
    transformation["outputQuantityList"][0]["uom"] = "kg"  # the schema does catch a slip
    assert errors(validator, document) != []
    received = next(e for e in events if e["bizStep"] == "receiving")
    assert received["trace:weightKg"] == 30.5
    device = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    digests = {e["id"]: (e["digest"], e["anchor"]["root"]) for e in device["events"]}
    assert "trace:digest" not in transformation and "trace:anchor" not in transformation
    for event in events:  # the ledger's part beside each event, keyed by its eventID
        [proof] = document["trace:proofs"][event["eventID"]]
        record_id = proof["trace:record"]["id"]
        assert (proof["trace:digest"], proof["trace:anchor"]["trace:root"]) == digests[record_id]


def test_the_collector_shipping_is_an_object_event_with_source_and_destination(
    client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    receive(client, collector, plant)
    document = export(client, manager_headers(client, collector), "&EQ_bizStep=shipping")
    assert errors(validator, document) == []
    [shipping] = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert shipping["type"] == "ObjectEvent" and shipping["action"] == "OBSERVE"
    assert shipping["sourceList"][0]["source"].endswith(f"/orgs/{collector.org}")
    assert shipping["destinationList"][0]["destination"].endswith(f"/orgs/{plant.org}")
    [proof] = document["trace:proofs"][shipping["eventID"]]
    assert proof["trace:anchor"] is None  # not anchored yet: pending


def test_a_correction_is_an_error_declaration_naming_the_correcting_event(
    client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    qr_id = receive(client, collector, plant, weight_kg="30.5")
    device = client.get(f"/api/v1/devices/{qr_id}", headers=plant.headers).get_json()
    received_id = device["events"][-1]["id"]
    fix = new_id()
    correction = {"corrects": received_id, "reason": "pallet", "fields": {"weight_kg": "29"}}
    Handheld(client, plant).record({"id": fix, "type": "corrected", "qr_id": qr_id, **correction})
    document = export(client, manager_headers(client, plant))
    assert errors(validator, document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    [declared] = [e for e in events if "errorDeclaration" in e]
    [original] = [e for e in events if e["bizStep"] == "receiving" and e is not declared]
    assert declared["eventID"] == original["eventID"]  # GS1: the same event, declared in error
    assert {k: v for k, v in declared.items() if k != "errorDeclaration"} == original
    assert declared["errorDeclaration"]["correctiveEventIDs"] == [f"urn:uuid:{fix}"]
    assert declared["errorDeclaration"]["trace:fields"] == {"weight_g": 29000}
    proofs = document["trace:proofs"]
    assert [p["trace:record"]["id"] for p in proofs[original["eventID"]]] == [received_id]
    assert [p["trace:record"]["id"] for p in proofs[f"urn:uuid:{fix}"]] == [fix]


def test_operators_cannot_export(client: FlaskClient, plant: Actor) -> None:
    assert client.get(URL, headers=plant.headers).status_code == 403


def test_a_lot_shipment_names_its_manifests_and_a_stocktake_is_a_cycle_count(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    validator: Draft7Validator,
) -> None:  # fmt: skip
    qr_id = receive(client, collector, plant, weight_kg="30.5")
    Handheld(client, plant).dismantle(qr_id, {"pcb": "2.5", "plastics": "3"})
    with Session(trace_of(app).engine) as session:
        pcb, plastics = (
            session.exec(select(Lot.code).where(Lot.fraction == f)).one()
            for f in ("pcb", "plastics")
        )
    first, second = number(app, 1), number(app, 2)
    Handheld(client, plant).record(
        {"type": "stocktake", "lot": plastics, "weight_kg": "2.9"},
        {"type": "lot_shipped", "lot": pcb, "to": processor.org,
         "manifests": [shipped(first, "1.5"), shipped(second, "1")]},
    )  # fmt: skip
    weighed = [{"number": first, "weight_kg": "1.5"}, {"number": second, "weight_kg": "0.9"}]
    Handheld(client, processor).record({"type": "lot_received", "lot": pcb, "manifests": weighed})
    anchor(client, plant)

    document = export(client, manager_headers(client, plant))

    assert errors(validator, document) == []
    events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    [shipping] = [e for e in events if e["bizStep"] == "shipping" and "trace:manifests" in e]
    assert [t["bizTransaction"].rsplit("/", 1)[1] for t in shipping["bizTransactionList"]] == [
        first, second,
    ]  # fmt: skip
    assert {t["type"] for t in shipping["bizTransactionList"]} == {"bol"}
    assert [(m["trace:number"], m["trace:hwCode"], m["trace:weightKg"])
            for m in shipping["trace:manifests"]] == [
        (first, "900-045-49", 1.5), (second, "900-045-49", 1.0),
    ]  # fmt: skip
    assert shipping["trace:crossProvince"] is False
    at_processor = export(client, manager_headers(client, processor), "&EQ_bizStep=receiving")
    assert errors(validator, at_processor) == []
    [receiving] = at_processor["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert receiving["trace:weightKg"] == 2.4
    assert [m["trace:weightKg"] for m in receiving["trace:manifests"]] == [1.5, 0.9]
    [count] = [e for e in events if e["bizStep"] == "cycle_counting"]
    assert (count["epcList"], count["trace:weightKg"]) == (
        [f"https://trace.example.cn/lots/{plastics}"], 2.9,
    )  # fmt: skip
    only = export(client, manager_headers(client, plant), "&EQ_bizStep=cycle_counting")
    assert len(only["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1


def test_a_row_written_behind_the_services_is_named_not_a_500(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    qr_id = receive(client, collector, plant)
    received = Handheld(client, plant).device(qr_id)["events"][-1]["id"]
    with trace_of(app).engine.begin() as conn:  # the administrator, with SQL
        conn.execute(text("UPDATE event SET payload = '[1]' WHERE id = :id"), {"id": received})
    document = export(client, manager_headers(client, plant))
    assert errors(validator, document) == [] and event_list(document) == []
    [(key, [entry])] = document["trace:proofs"].items()
    assert key.startswith("trace:seq:") and entry["trace:record"]["id"] == received
    assert entry["trace:problem"] == "its payload is not a JSON object"
