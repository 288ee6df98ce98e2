"""What the API really sends matches what its OpenAPI document says it sends.

Each response of a walk through every route (on the in-process chain, so
anchors, proofs and the ledger's status are real) is validated against the
schema the document gives its operation and status, errors included.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlmodel import Session
from werkzeug.test import TestResponse

from tests.support.accounts import Actor, add_actor, manager_headers
from tests.support.floor import CRT_TV, new_id
from tests.support.manifests import USCC
from traceability.anchoring.models import AnchorBatch
from traceability.app import trace_of
from traceability.audit.refresh import refresh


class Document:
    """The served OpenAPI document, and which of its operations a test has checked."""

    def __init__(self, client: FlaskClient) -> None:
        self.raw: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
        self.checked: set[tuple[str, str]] = set()
        self._paths = [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(p)) + "$"), p)
            for p in self.raw["paths"]
        ]

    def operation(self, method: str, url: str) -> tuple[str, dict[str, Any]]:
        path = url.partition("?")[0]
        [template] = [t for pattern, t in self._paths if pattern.match(path)]
        return template, self.raw["paths"][template][method.lower()]

    def check(self, method: str, url: str, response: TestResponse) -> Any:
        """Validate ``response`` against its operation's schema; return its JSON (if any)."""
        template, operation = self.operation(method, url)
        responses = operation["responses"]
        status = str(response.status_code)
        key = status if status in responses else f"{status[0]}XX"
        assert key in responses, (method, url, status, response.get_data(as_text=True))
        content = responses[key]["content"]
        assert response.mimetype in content, (method, url, response.mimetype)
        self.checked.add((template, method.lower()))
        schema = content[response.mimetype].get("schema")
        if schema is None:
            assert response.get_data(), "a binary body"
            return None
        body = response.get_json()
        validator = Draft202012Validator({**schema, "components": self.raw["components"]})
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], (method, url, status)
        return body


def capture_document(plant: Actor, qr_id: str) -> dict[str, Any]:
    """An EPCIS document storing a device its plant has dismantled: refused, by its rules."""
    site = "https://trace.example.cn"
    here = {"id": f"{site}/orgs/{plant.org}"}
    event = {
        "type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "epcList": [f"{site}/d/{qr_id}"], "action": "OBSERVE",
        "bizStep": "storing", "disposition": "in_progress", "readPoint": here,
        "bizLocation": here, "trace:area": "A",
    }  # fmt: skip
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"trace": f"{site}/ns/trace#"}],
        "type": "EPCISDocument", "schemaVersion": "2.0", "epcisBody": {"eventList": [event]},
    }  # fmt: skip


@pytest.fixture
def document(client: FlaskClient) -> Document:
    return Document(client)


def call(
    client: FlaskClient,
    document: Document,
    method: str,
    url: str,
    actor: Actor | dict[str, str] | None = None,
    json: Any = None,
) -> tuple[int, Any]:
    headers = actor.headers if isinstance(actor, Actor) else actor
    response = client.open(url, method=method, json=json, headers=headers)
    return response.status_code, document.check(method, url, response)


class TestOnTheInProcessChain:
    @pytest.fixture
    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {**settings, "ledger_mode": "memory"}

    def test_every_route_answers_as_documented(
        self, client: FlaskClient, document: Document, collector: Actor, plant: Actor
    ) -> None:
        def api(method: str, url: str, actor: Any = None, json: Any = None) -> tuple[int, Any]:
            return call(client, document, method, f"/api/v1{url}", actor, json)

        assert api("GET", "/health")[0] == 200
        assert api("GET", "/ledger")[1]["mode"] == "memory"
        assert api("GET", "/catalog")[0] == 200
        assert api("GET", "/openapi.json")[0] == 200

        collect_id = new_id()
        status, collected = api("POST", "/devices", collector, {"id": collect_id, **CRT_TV})
        assert (status, collected["status"]) == (201, "created")
        status, again = api("POST", "/devices", collector, {"id": collect_id, **CRT_TV})
        assert (status, again["status"]) == (200, "duplicate")
        qr_id = collected["qr_id"]

        shipped = {"id": new_id(), "type": "shipped", "qr_id": qr_id, "to": plant.org}
        wrong = {"id": new_id(), "type": "received", "qr_id": qr_id}  # no weight
        _, sent = api("POST", "/events", collector, {"events": [shipped, wrong]})
        assert [r["status"] for r in sent["results"]] == ["created", "rejected"]
        [on_its_way] = api("GET", "/shipments/incoming", plant)[1]["shipments"]
        assert [d["qr_id"] for d in on_its_way["devices"]] == [qr_id]
        held = api("GET", "/custody", plant)[1]["devices"]
        assert [(d["qr_id"], d["state"]) for d in held] == [(qr_id, "in_transit")]
        received = {"id": new_id(), "type": "received", "qr_id": qr_id, "weight_kg": "30.5"}
        outputs = [
            {"fraction": "pcb", "weight_kg": "1.5"},
            {"fraction": "plastics", "weight_kg": 3},
        ]
        dismantled = {"id": new_id(), "type": "dismantled", "qr_id": qr_id, "outputs": outputs}
        _, done = api(
            "POST", "/events", plant, {"events": [received, {**dismantled, "batch": "B1"}]}
        )
        assert [r["status"] for r in done["results"]] == ["created", "created"]

        assert api("GET", f"/devices/{qr_id}/verify", plant)[1]["verified"] is False
        status, anchored = api("POST", "/anchors", manager_headers(client, plant))
        # four device events, and the register's events of the two organisations (SPEC §2.8)
        assert (status, anchored["anchored"]) == (200, 4 + 2)

        detail = api("GET", f"/devices/{qr_id}", plant)[1]
        assert detail["received_weight_kg"] == 30.5
        assert all(e["anchor"] for e in detail["events"])
        assert api("GET", f"/devices/{qr_id}/verify", plant)[1]["verified"] is True
        bundle = api("GET", f"/devices/{qr_id}/proof", plant)[1]
        assert all(e["anchor"]["proof"] is not None for e in bundle["events"])
        api("GET", f"/devices/{qr_id}/label.png", plant)
        api("GET", f"/devices/{qr_id}/label.svg", plant)

        report = api("GET", "/batches/B1", plant)[1]
        assert (report["mass_kg"], report["verified"]) == (30.5, True)

        status, sheet = api("POST", "/labels", plant, {"count": 2})
        assert (status, sheet["count"]) == (201, 2)
        assert api("GET", f"/labels/{sheet['sheet']}.pdf?layout=thermal", plant)[0] == 200

        manager = manager_headers(client, plant)
        # A closed quarter (claims of the open one are refused, whatever the date).
        status, claim = api("POST", "/claims", manager, {"period": "2026Q3"})
        assert status == 201 and claim["state"] == "draft"
        assert api("GET", f"/claims/{claim['id']}?per_page=5", manager)[0] == 200
        for kind in ("xlsx", "csv", "pdf"):
            assert api("GET", f"/claims/{claim['id']}/export.{kind}", manager)[0] == 200
        assert api("POST", f"/claims/{claim['id']}/submit", manager)[1]["state"] == "submitted"
        auditor = add_actor(client.application, "REG-JS", "regulator", "auditor", "320000")
        review = {"decisions": [{"decision": "approve"}]}
        assert api("POST", f"/claims/{claim['id']}/review", auditor, review)[0] == 200
        refresh(trace_of(client.application), force=True)  # the refresher's snapshot the list reads
        _, audit = api("GET", "/audit/anomalies", manager_headers(client, plant))
        assert audit["total"] == len(audit["items"])
        assert (
            api("GET", "/epcis/events?EQ_bizStep=disassembling", manager_headers(client, plant))[0]
            == 200
        )
        with Session(trace_of(client.application).engine) as session:
            root = session.execute(select(AnchorBatch.root)).scalars().first()
        assert root is not None
        assert api("GET", f"/ledger/batches/{root}", manager_headers(client, plant))[0] == 200
        status, job = api("POST", "/epcis/capture", plant, capture_document(plant, qr_id))
        assert (status, job["success"], job["events"][0]["status"]) == (202, False, "rejected")
        assert api("GET", f"/epcis/capture/{job['captureID']}", plant)[1] == job

        admin = add_actor(client.application, "REG-JS", "regulator", "admin", "320000")
        licence = {
            "kind": "dismantling",
            "number": "SZ-1",
            "uscc": USCC["DIS-SZ"],
            "valid_from": "2024-01-01",
            "valid_to": "2028-12-31",
            "scope": {"tv": 1000},
        }
        assert api("POST", f"/orgs/{plant.org}/licences", admin, licence)[0] == 201
        amendment = {"number": "SZ-1", "effective": "2026-01-01", "scope": {"tv": 2000}}
        assert api("POST", f"/orgs/{plant.org}/licences/amendments", admin, amendment)[0] == 200
        _, listed = api("GET", f"/orgs/{plant.org}/licences?on=2026-02-01", plant)
        assert listed["licences"][0]["scope"] == {"tv": 2000}
        assert api("POST", f"/orgs/{plant.org}/licences", admin, licence)[0] == 409

        assert api("GET", "/health")[1]["ledger"]["status"] == "ok"
        documented = {(p, m) for p, item in document.raw["paths"].items() for m in item}
        assert documented - document.checked == set(), "operations the walk did not check"


def test_health_and_ledger_without_a_chain_are_as_documented(
    client: FlaskClient, document: Document
) -> None:
    assert call(client, document, "GET", "/api/v1/health")[1]["ledger"]["status"] == "off"
    assert call(client, document, "GET", "/api/v1/ledger")[1] == {
        "mode": "off",
        "trust": None,
        "submitter": None,
        "last_completeness_check": None,
    }


@pytest.mark.parametrize(
    ("method", "url", "who", "json", "status", "code"),
    [
        ("GET", "/api/v1/devices/0000000000000A", None, None, 401, "unauthorised"),
        ("GET", "/api/v1/devices/NOT-AN-ID", "plant", None, 422, None),
        ("POST", "/api/v1/labels", "plant", {"count": 0}, 422, "invalid"),
        ("POST", "/api/v1/labels", "collector", None, 400, "malformed_json"),
        ("POST", "/api/v1/anchors", "plant", None, 403, "forbidden"),
        ("POST", "/api/v1/anchors", "manager", None, 503, None),  # the ledger is off
        ("GET", "/api/v1/batches/B9", "plant", None, 404, "not_found"),
        ("GET", "/api/v1/labels/abc.pdf?layout=a3", "plant", None, 422, "invalid"),
        ("POST", "/api/v1/events", "plant", {"events": []}, 422, "invalid"),
        ("POST", "/api/v1/devices", "plant", {"category": "toaster"}, 422, "invalid"),
    ],
)
def test_errors_are_as_documented(
    client: FlaskClient,
    document: Document,
    collector: Actor,
    plant: Actor,
    method: str,
    url: str,
    who: str | None,
    json: Any,
    status: int,
    code: str | None,
) -> None:
    headers = {
        None: None,
        "plant": plant.headers,
        "collector": collector.headers,
        "manager": manager_headers(client, plant),
    }[who]

    got, body = call(client, document, method, url, headers, json)

    assert got == status, body
    if code is not None:
        assert body["error"]["code"] == code
