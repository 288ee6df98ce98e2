"""EPCIS capture: another system's EPCIS 2.0 documents recorded under the caller's organisation,
with the rules of POST /events, idempotent by eventID, each event's outcome in a capture job;
captured events export again with the eventIDs GS1's reference implementation computes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft7Validator
from sqlmodel import Session, select

from tests.epcis.documents import errors, event_list, export
from tests.epcis.reference import reference_ids
from tests.support.accounts import Actor, manager_headers
from tests.support.databases import snapshot
from tests.support.floor import CRT_TV, Handheld, premint, receive
from tests.support.manifests import TRANSPORTER, number
from traceability.app import trace_of
from traceability.clock import FixedClock
from traceability.lots.models import Lot

SITE = "https://trace.example.cn"
GS1 = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
URL = "/api/v1/epcis/capture"
NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


class Sender:
    """A collector's or processor's own system: writes EPCIS events for ``org``."""

    def __init__(self, org: str) -> None:
        self.org = org
        self.seconds = 0

    def at(self) -> str:
        self.seconds += 1
        return (NOW + dt.timedelta(seconds=self.seconds)).isoformat()

    def event(self, step: str, disposition: str, subject: str, **more: Any) -> dict[str, Any]:
        here = {"id": f"{SITE}/orgs/{self.org}"}
        return {
            "type": "ObjectEvent", "eventTime": self.at(), "eventTimeZoneOffset": "+08:00",
            "epcList": [subject], "action": "OBSERVE", "bizStep": step,
            "disposition": disposition, "readPoint": here, "bizLocation": here, **more,
        }  # fmt: skip

    def parties(self, to: str) -> dict[str, Any]:
        return {
            "sourceList": [{"type": "possessing_party", "source": f"{SITE}/orgs/{self.org}"}],
            "destinationList": [{"type": "possessing_party", "destination": f"{SITE}/orgs/{to}"}],
        }

    def dismantling(self, qr_id: str, outputs: dict[str, float]) -> dict[str, Any]:
        here = {"id": f"{SITE}/orgs/{self.org}"}
        return {
            "type": "TransformationEvent", "eventTime": self.at(),
            "eventTimeZoneOffset": "+08:00", "inputEPCList": [device(qr_id)],
            "outputQuantityList": [
                {"epcClass": f"{SITE}/fractions/{f}", "quantity": kg, "uom": "KGM"}
                for f, kg in outputs.items()
            ],
            "bizStep": "disassembling", "disposition": "destroyed", "readPoint": here,
            "bizLocation": here,
        }  # fmt: skip


def device(qr_id: str) -> str:
    return f"{SITE}/d/{qr_id}"


def lot(code: str) -> str:
    return f"{SITE}/lots/{code}"


def document(*events: dict[str, Any], prefix: str = "trace") -> dict[str, Any]:
    return {
        "@context": [GS1, {prefix: f"{SITE}/ns/trace#"}], "type": "EPCISDocument",
        "schemaVersion": "2.0", "creationDate": NOW.isoformat(),
        "epcisBody": {"eventList": list(events)},
    }  # fmt: skip


def capture(
    client: FlaskClient, actor: Actor, doc: dict[str, Any], **headers: str
) -> dict[str, Any]:
    response = client.post(URL, json=doc, headers={**actor.headers, **headers})
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"] == f"{SITE}{URL}/{job['captureID']}"
    again = client.get(f"{URL}/{job['captureID']}", headers=actor.headers)
    assert again.status_code == 200 and again.get_json() == job
    return job  # type: ignore[no-any-return]


def lots_of(app: Flask, org: str) -> dict[str, str]:
    with Session(trace_of(app).engine) as session:
        return {
            lot.fraction: lot.code
            for lot in session.exec(select(Lot).where(Lot.org == org, Lot.state == "open"))
        }


def test_every_mapped_biz_step_is_recorded_and_exported_with_the_senders_event_ids(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    make_actor: Any, validator: Draft7Validator,
) -> None:  # fmt: skip
    other_plant = make_actor("DIS-WX", "dismantler")
    # before: lots open at the plant, a device on its way to it, one received there
    Handheld(client, plant).dismantle(receive(client, collector, plant), {"pcb": 2, "plastics": 3})
    lots = lots_of(app, plant.org)
    refused = Handheld(client, collector).collect()
    Handheld(client, collector).ship(refused, to=plant)
    onward = receive(client, collector, plant)
    [new] = premint(app, plant.org)
    manifest = number(app, 7)
    at_plant = Sender(plant.org)
    sent = document(
        at_plant.event("commissioning", "active", device(new), action="ADD",
                       **{"trace:category": CRT_TV["category"],
                          "trace:attributes": CRT_TV["attributes"], "trace:weightKg": 26.5}),
        at_plant.event("receiving", "in_progress", device(new), **{"trace:weightKg": 25.5}),
        at_plant.event("storing", "in_progress", device(new), **{"trace:area": "A-1"}),
        at_plant.dismantling(new, {"crt_panel_glass": 10, "pcb": 1.25, "plastics": 4}),
        at_plant.event("receiving", "returned", device(refused), **{"trace:reason": "无铭牌"}),
        at_plant.event("shipping", "in_transit", device(onward),
                       **at_plant.parties(other_plant.org), **{"trace:manifestNo": "YD-0001"}),
        at_plant.event("cycle_counting", "in_progress", lot(lots["plastics"]),
                       **{"trace:weightKg": 7.5}),
        at_plant.event(
            "shipping", "in_transit", lot(lots["pcb"]), **at_plant.parties(processor.org),
            bizTransactionList=[{"type": "bol", "bizTransaction": f"{SITE}/manifests/{manifest}"}],
            **{"trace:manifests": [{"trace:number": manifest, "trace:hwCode": "900-045-49",
                                    "trace:transporter": TRANSPORTER, "trace:weightKg": 3.25}],
               "trace:crossProvince": False},
        ),
    )  # fmt: skip
    at_processor = Sender(processor.org)
    at_processor.seconds = 20
    treated = document(
        at_processor.event(
            "receiving", "in_progress", lot(lots["pcb"]),
            bizTransactionList=[{"type": "bol", "bizTransaction": f"{SITE}/manifests/{manifest}"}],
            **{"wt:weightKg": 3.2, "wt:manifests": [{"wt:number": manifest, "wt:weightKg": 3.2}]},
        ),
        at_processor.event("destroying", "destroyed", lot(lots["pcb"]),
                           **{"wt:method": "火法冶金"}),
        prefix="wt",  # another prefix for the same namespace: the same events
    )  # fmt: skip
    for actor, doc in ((plant, sent), (processor, treated)):
        assert errors(validator, doc) == []  # valid against GS1's schema
        job = capture(client, actor, doc)
        assert job["success"], [(e["index"], e["status"], e.get("error")) for e in job["errors"]]
        assert job["errors"] == []
        assert [e["status"] for e in job["events"]] == ["created"] * len(event_list_of(doc))
        exported = {
            e["eventID"] for e in event_list(export(client, manager_headers(client, actor)))
        }
        expected = reference_ids(doc)
        assert [e["eventID"] for e in job["events"]] == expected
        assert set(expected) <= exported
    steps = {(e["type"], e["bizStep"]) for d in (sent, treated) for e in event_list_of(d)}
    assert {s for _, s in steps} == {
        "commissioning", "receiving", "storing", "disassembling", "shipping", "cycle_counting",
        "destroying",
    }  # fmt: skip
    device_now = Handheld(client, plant).device(new)
    assert device_now["state"] == "dismantled"
    assert [e["actor"] for e in device_now["events"]] == [plant.username] * 4


def without_jobs(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "count:epcis_capture"}


def event_list_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["eventList"]  # type: ignore[no-any-return]


def stored(plant: Actor, qr_id: str, area: str = "A-1", **more: Any) -> dict[str, Any]:
    return Sender(plant.org).event("storing", "in_progress", device(qr_id),
                                   **{"trace:area": area}, **more)  # fmt: skip


def test_unmapped_events_are_refused_with_their_reasons(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    at_plant = Sender(plant.org)
    packing = at_plant.event("packing", "in_progress", device(qr_id))
    aggregation = {
        **at_plant.event("storing", "in_progress", device(qr_id)),
        "type": "AggregationEvent", "parentID": device(qr_id), "action": "ADD",
    }  # fmt: skip
    foreign = at_plant.event("storing", "in_progress", "urn:epc:id:sgtin:0614141.107346.2018")
    elsewhere = at_plant.event("storing", "in_progress", "https://other.example.com/d/X1")
    declared = {**stored(plant, qr_id), "errorDeclaration": {
        "declarationTime": NOW.isoformat(), "reason": "incorrect_data"}}  # fmt: skip
    extra = stored(plant, qr_id, **{"ex:colour": "red"})
    not_here = {**stored(plant, qr_id), "bizLocation": {"id": f"{SITE}/orgs/DIS-BJ"}}
    in_grams = at_plant.dismantling(qr_id, {"pcb": 1000})
    in_grams["outputQuantityList"][0]["uom"] = "GRM"
    not_its_hash = {**stored(plant, qr_id), "eventID": f"ni:///sha-256;{'0' * 64}?ver=CBV2.0"}
    good = stored(plant, qr_id)
    doc = document(packing, aggregation, foreign, elsewhere, declared, extra, not_here,
                   in_grams, not_its_hash, good)  # fmt: skip
    doc["@context"].append({"ex": "https://example.com/ns#"})
    before = snapshot(trace_of(app).engine)

    job = capture(client, plant, doc)  # GS1's default: all or nothing

    assert not job["success"]
    outcomes = [(e["status"], (e.get("error") or {}).get("field")) for e in job["events"]]
    assert outcomes == [
        ("rejected", "bizStep"), ("rejected", "bizStep"), ("rejected", "epcList"),
        ("rejected", "epcList"), ("rejected", "errorDeclaration"), ("rejected", "ex:colour"),
        ("rejected", "bizLocation"), ("rejected", "outputQuantityList"), ("rejected", "eventID"),
        ("rolled_back", None),
    ]  # fmt: skip
    assert "another event" in job["events"][-1]["error"]["message"]
    reasons = [e["error"]["message"] for e in job["errors"]]
    assert "'packing' (ObjectEvent) has no event in this system" in reasons[0]
    assert "AggregationEvent" in reasons[1] and "urn:epc:id:sgtin" in reasons[2]
    assert "other.example.com" in reasons[3] and "correction" in reasons[4]
    assert "ex:colour" in reasons[5] and "DIS-SZ" in reasons[6]
    assert without_jobs(snapshot(trace_of(app).engine)) == without_jobs(before)  # nothing recorded

    proceeded = capture(client, plant, doc, **{"GS1-Capture-Error-Behaviour": "proceed"})
    assert [e["status"] for e in proceeded["events"]][-1] == "created"
    assert [e["status"] for e in proceeded["events"]][:-1] == ["rejected"] * 9
    assert Handheld(client, plant).device(qr_id)["events"][-1]["type"] == "stored"


def test_an_event_id_sent_again_is_a_duplicate_and_with_other_content_a_conflict(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    event_id = f"urn:uuid:{uuid.uuid4()}"
    first = {**stored(plant, qr_id), "eventID": event_id}
    assert capture(client, plant, document(first))["events"][0]["status"] == "created"
    before = snapshot(trace_of(app).engine)

    again = capture(client, plant, document(first))
    other_area = capture(client, plant, document({**first, "trace:area": "B-2"}))
    other_field = capture(client, plant, document({**first, "trace:note": "x"}))

    [same] = again["events"]
    assert again["success"] and same["status"] == "duplicate" and same["eventID"] == event_id
    for job in (other_area, other_field):
        [conflict] = job["events"]
        assert not job["success"] and conflict["status"] == "conflict", job
        assert conflict["httpStatus"] == 409 and conflict["error"]["field"] in ("id", "eventID")
    after = snapshot(trace_of(app).engine)
    assert after.pop("count:epcis_capture") == before.pop("count:epcis_capture") + 3
    assert after == before  # nothing else changed
    # without an eventID, the event's hash is its identity
    hashed = capture(client, plant, document(stored(plant, qr_id, area="C-3")))
    assert hashed["events"][0]["eventID"].startswith("ni:///sha-256;")
    assert capture(client, plant, document(stored(plant, qr_id, area="C-3")))["events"][0][
        "status"
    ] in ("created", "duplicate")


def test_a_document_that_is_not_epcis_is_refused_whole(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, validator: Draft7Validator
) -> None:
    qr_id = receive(client, collector, plant)
    good = document(stored(plant, qr_id))
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "type": "EPCISMasterDataDocument"}, "type"),
        ({**good, "@context": [{"trace": f"{SITE}/ns/trace#"}]}, "@context"),
        ({**good, "epcisBody": {"eventList": []}}, "epcisBody.eventList"),
        (document({**stored(plant, qr_id), "eventTime": "2026-09-01 10:00"}),
         "epcisBody.eventList[0].eventTime"),
        (document({**stored(plant, qr_id), "action": "MOVE"}), "epcisBody.eventList[0].action"),
        (document({**stored(plant, qr_id), "epcList": "one"}), "epcisBody.eventList[0].epcList"),
        (document({**stored(plant, qr_id), "colour": "red"}), "epcisBody.eventList[0].colour"),
    ]  # fmt: skip
    before = snapshot(trace_of(app).engine)
    for doc, field in cases:
        if field not in ("@context", "epcisBody.eventList"):  # stricter here: GS1 capture
            assert errors(validator, doc) != [], field  # GS1's schema refuses it too
        response = client.post(URL, json=doc, headers=plant.headers)
        assert response.status_code == 422, (field, response.get_json())
        assert response.get_json()["error"]["field"] == field
    response = client.post(URL, json=good, headers={**plant.headers,
                           "GS1-Capture-Error-Behaviour": "ignore"})  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "GS1-Capture-Error-Behaviour"
    too_many = document(*[stored(plant, qr_id)] * 1001)
    assert client.post(URL, json=too_many, headers=plant.headers).status_code == 413
    assert snapshot(trace_of(app).engine) == before


def test_a_capture_job_is_its_organisations_only(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    qr_id = receive(client, collector, plant)
    job = capture(client, plant, document(stored(plant, qr_id)))
    response = client.get(f"{URL}/{job['captureID']}", headers=collector.headers)
    assert response.status_code == 404
    assert client.get(f"{URL}/{'0' * 40}", headers=plant.headers).status_code == 404
