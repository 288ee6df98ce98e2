"""Who may call what (SPEC §2.1, §6 "authorisation tested for every endpoint and role").

Operators and managers record steps for their own organisation; auditors
read (only) within their region; admins read within their region too, but record nothing;
staff of an organisation not on a device's path cannot see it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from tests.support.accounts import Actor
from tests.support.floor import CRT_TV, Handheld, new_id, receive
from tests.support.manifests import USCC, license_org
from tests.support.world import World
from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.audit.refresh import refresh
from traceability.cli import main as cli

PUBLIC = {"api.health", "api.catalog", "api.openapi", "api.ledger"}
# The request reached the service: not refused by authentication or authorisation.
# (POST /anchors answers 503 in these tests: the ledger is switched off.)
PASSES = 0


@dataclass(frozen=True)
class Target:
    """A concrete request for an endpoint, against the world's resources."""

    method: str
    path: Callable[[World], str]
    json: Callable[[World], Any] | None = None


SZ = "DIS-SZ"  # the Suzhou plant the world's devices went through


def _device(suffix: str = "", which: str = "received") -> Target:
    return Target("GET", lambda w: f"/api/v1/devices/{getattr(w, which)}{suffix}")


def _stored(w: World) -> dict[str, Any]:
    return {"events": [{"id": new_id(), "type": "stored", "qr_id": w.received, "area": "A"}]}


def _capture(w: World) -> dict[str, Any]:
    """An EPCIS document storing the world's received device (only DIS-SZ may)."""
    site, at = "https://trace.example.cn", {"id": f"https://trace.example.cn/orgs/{SZ}"}
    event = {
        "type": "ObjectEvent", "eventTime": "2026-07-01T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "epcList": [f"{site}/d/{w.received}"],
        "action": "OBSERVE", "bizStep": "storing", "disposition": "in_progress",
        "readPoint": at, "bizLocation": at, "trace:area": "A",
    }  # fmt: skip
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"trace": f"{site}/ns/trace#"}],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-07-01T00:00:00Z",
        "epcisBody": {"eventList": [event]},
    }  # fmt: skip


TARGETS: dict[str, Target] = {
    "api.health": Target("GET", lambda w: "/api/v1/health"),
    "api.catalog": Target("GET", lambda w: "/api/v1/catalog"),
    "api.ledger": Target("GET", lambda w: "/api/v1/ledger"),
    # a root no batch here has (the ledger is off): readers are told so, others are refused
    "api.ledger_batch": Target("GET", lambda w: "/api/v1/ledger/batches/" + "ab" * 32),
    "api.openapi": Target("GET", lambda w: "/api/v1/openapi.json"),
    "api.devices_collect": Target("POST", lambda w: "/api/v1/devices", lambda w: CRT_TV),
    "api.events_post": Target("POST", lambda w: "/api/v1/events", _stored),
    "api.device_show": _device(),
    "api.device_verify": _device("/verify"),
    "api.device_proof": _device("/proof"),
    "api.device_label_png": _device("/label.png"),
    "api.device_label_svg": _device("/label.svg"),
    "api.labels_create": Target("POST", lambda w: "/api/v1/labels", lambda w: {"count": 2}),
    "api.labels_pdf": Target("GET", lambda w: f"/api/v1/labels/{w.extra['sheet']}.pdf"),
    "api.batch_show": Target("GET", lambda w: f"/api/v1/batches/B1?org={SZ}"),
    "api.shipments_incoming": Target("GET", lambda w: "/api/v1/shipments/incoming"),
    "api.custody": Target("GET", lambda w: "/api/v1/custody"),
    "api.anchors_post": Target("POST", lambda w: "/api/v1/anchors"),
    "api.claims_create": Target("POST", lambda w: "/api/v1/claims", lambda w: {"period": "2026Q3"}),
    "api.claim_show": Target("GET", lambda w: f"/api/v1/claims/{w.extra['claim']}"),
    "api.claim_export_xlsx": Target(
        "GET", lambda w: f"/api/v1/claims/{w.extra['claim']}/export.xlsx"
    ),
    "api.claim_export_csv": Target(
        "GET", lambda w: f"/api/v1/claims/{w.extra['claim']}/export.csv"
    ),
    "api.claim_export_pdf": Target(
        "GET", lambda w: f"/api/v1/claims/{w.extra['claim']}/export.pdf"
    ),
    "api.claim_submit": Target("POST", lambda w: f"/api/v1/claims/{w.extra['claim']}/submit"),
    "api.claim_review": Target(
        "POST",
        lambda w: f"/api/v1/claims/{w.extra['claim']}/review",
        lambda w: {"decisions": [{"decision": "approve"}]},
    ),
    "api.audit_anomalies": Target("GET", lambda w: f"/api/v1/audit/anomalies?plant={SZ}"),
    "api.epcis_events": Target("GET", lambda w: "/api/v1/epcis/events"),
    "api.epcis_capture": Target("POST", lambda w: "/api/v1/epcis/capture", _capture),
    "api.epcis_capture_show": Target(
        "GET", lambda w: f"/api/v1/epcis/capture/{w.extra['capture']}"
    ),
    "api.licences_show": Target("GET", lambda w: f"/api/v1/orgs/{SZ}/licences"),
    "api.licences_issue": Target(
        "POST", lambda w: f"/api/v1/orgs/{SZ}/licences", lambda w: {
            "kind": "dismantling", "number": "SZ-NEW-1", "uscc": USCC["DIS-SZ"],
            "valid_from": "2026-01-01", "valid_to": "2030-12-31", "scope": {"tv": 1000},
        },
    ),
    "api.licences_amend": Target(
        "POST", lambda w: f"/api/v1/orgs/{SZ}/licences/amendments",
        lambda w: {"number": "SZ-RES-1", "effective": "2026-01-01", "valid_to": "2026-06-30"},
    ),
}  # fmt: skip

DEVICE_READERS = {
    # on the device's path (collected by COL-SZ, received by DIS-SZ)
    "collector": 200,
    "plant": 200,
    "plant_manager": 200,
    # not on its path
    "plant_bj": 403,
    "processor": 403,
    # regulator of Jiangsu (320000) covers Suzhou (320500); Beijing's does not
    "auditor": 200,
    "auditor_bj": 403,
    "admin": 200,
}
RECORDING = {
    "collector": 201,
    "plant": 201,
    "plant_manager": 201,
    "auditor": 403,
    "auditor_bj": 403,
    "admin": 403,
}

CLAIM_READERS = {
    "plant": 403,
    "plant_manager": 200,
    "plant_bj": 403,
    "collector": 403,
    "auditor": 200,
    "auditor_bj": 403,
    "admin": 200,
}

# A regulator's admin records licences; nobody else (SPEC §2.8).
LICENSERS = {"plant": 403, "plant_manager": 403, "processor": 403, "auditor": 403,
             "auditor_bj": 403, "admin": 200}  # fmt: skip

EXPECTED: dict[str, dict[str, int]] = {
    "api.health": dict.fromkeys(DEVICE_READERS, 200),
    "api.catalog": dict.fromkeys(DEVICE_READERS, 200),
    "api.ledger": dict.fromkeys(DEVICE_READERS, 200),
    "api.openapi": dict.fromkeys(DEVICE_READERS, 200),
    # a processor receives lots, it does not collect devices
    "api.devices_collect": {**RECORDING, "processor": 403},
    # items are checked one by one (a processor's would be rejected), the request is allowed
    "api.events_post": {
        **{k: 200 if v == 201 else v for k, v in RECORDING.items()},
        "processor": 200,
    },
    "api.device_show": DEVICE_READERS,
    "api.device_verify": DEVICE_READERS,
    "api.device_proof": DEVICE_READERS,
    "api.device_label_png": DEVICE_READERS,
    "api.device_label_svg": DEVICE_READERS,
    "api.labels_create": {**RECORDING, "processor": 403},
    # DIS-SZ's sheet: other organisations are not told it exists
    "api.labels_pdf": {
        "plant": 200,
        "plant_manager": 200,
        "collector": 404,
        "auditor": 403,
        "admin": 403,
    },
    # A plant's operators and managers: what is on its way to them (issue 19).
    "api.shipments_incoming": {
        "plant": 200,
        "plant_manager": 200,
        "plant_bj": 200,
        "collector": 403,
        "processor": 403,
        "auditor": 403,
        "admin": 403,
    },
    # Any floor organisation's recorders: the devices it holds (issue 19).
    "api.custody": {
        "plant": 200,
        "plant_manager": 200,
        "collector": 200,
        "processor": 200,
        "auditor": 403,
        "admin": 403,
    },
    "api.batch_show": {
        "plant": 200,
        "plant_manager": 200,
        "collector": 403,
        "plant_bj": 403,
        "auditor": 200,
        "auditor_bj": 403,
        "admin": 200,
    },
    # A dismantler's managers and admins only: a floor operator, or the manager of a
    # collector or processor, cannot tie up a web worker on the chain (issue 15, finding 10).
    "api.anchors_post": {
        "plant": 403,
        "collector": 403,
        "plant_manager": PASSES,
        "collector_manager": 403,
        "processor_manager": 403,
        "admin": PASSES,
        "auditor": 403,
    },
    # A plant's claims: its managers prepare them, its region's auditors and admins read them.
    "api.claims_create": {
        "plant": 403,
        "plant_manager": 200,  # recomputes the draft the world already has
        "collector": 403,
        "processor": 403,
        "auditor": 403,
        "admin": 403,
    },
    **dict.fromkeys(
        ("api.claim_show", "api.claim_export_xlsx", "api.claim_export_csv", "api.claim_export_pdf"),
        CLAIM_READERS,
    ),
    "api.claim_submit": {"plant": 403, "auditor": 403, "admin": 403, "plant_manager": 200},
    # The draft cannot be reviewed (409), but the auditor got past authorisation.
    "api.claim_review": {
        "plant": 403,
        "plant_manager": 403,
        "auditor": PASSES,
        "auditor_bj": 403,
        "admin": 403,
    },
    # the plant's findings: its managers and the auditors of its region, no operator
    "api.audit_anomalies": {
        "plant": 403,
        "plant_manager": 200,
        "collector": 403,
        "auditor": 200,
        "auditor_bj": 403,
        "admin": 200,
    },
    # licences are public registers; only a regulator's admin records them (SPEC §2.8)
    "api.licences_show": DEVICE_READERS | dict.fromkeys(DEVICE_READERS, 200),
    "api.licences_issue": {**LICENSERS, "admin": 201},
    "api.licences_amend": LICENSERS,
    # the event log of one's own organisation (managers) or region (auditors)
    "api.ledger_batch": {
        "plant": 403,
        "plant_manager": 404,
        "collector": 403,
        "auditor": 404,
        "auditor_bj": 404,
        "admin": 404,
    },
    "api.epcis_events": {
        "plant": 403,
        "plant_manager": 200,
        "collector": 403,
        "auditor": 200,
        "auditor_bj": 200,
        "admin": 200,
    },
    # another system's EPCIS events, recorded by those who record (each event is checked)
    "api.epcis_capture": {
        **{k: PASSES if v == 201 else v for k, v in RECORDING.items()},
        "processor": PASSES,
    },
    # DIS-SZ's capture job: other organisations are not told it exists
    "api.epcis_capture_show": {
        "plant": 200,
        "plant_manager": 200,
        "collector": 404,
        "processor": 404,
        "plant_bj": 404,
        "auditor": 403,
        "admin": 403,
    },
}


@pytest.fixture
def resources(client: FlaskClient, world: World, make_actor: Callable[..., Actor]) -> World:
    """The world plus a DIS-SZ label sheet, a DIS-SZ batch B1 and two more managers."""
    world.extra["collector_manager"] = make_actor("COL-SZ", "collector", role="manager")
    world.extra["processor_manager"] = make_actor("PRO-SZ", "processor", role="manager")
    response = client.post("/api/v1/labels", json={"count": 1}, headers=world.plant.headers)
    assert response.status_code == 201
    world.extra["sheet"] = response.get_json()["sheet"]
    qr_id = receive(client, world.collector, world.plant)
    Handheld(client, world.plant).dismantle(qr_id, {"pcb": 1}, batch="B1")
    claim = client.post(
        "/api/v1/claims", json={"period": "2026Q3"}, headers=world.plant_manager.headers
    )
    assert claim.status_code == 201, claim.get_json()
    world.extra["claim"] = claim.get_json()["id"]
    license_org(client.application, SZ, "dismantling", {"tv": 1000}, number="SZ-RES-1")
    job = client.post("/api/v1/epcis/capture", json=_capture(world), headers=world.plant.headers)
    assert job.status_code == 202, job.get_json()
    world.extra["capture"] = job.get_json()["captureID"]
    refresh(trace_of(client.application), force=True)  # the audit findings the anomaly list reads
    return world


def api_endpoints(app: Flask) -> dict[str, set[str]]:
    return {
        rule.endpoint: set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    }


def test_every_api_route_has_expectations(app: Flask) -> None:
    routes = api_endpoints(app)
    assert set(routes) == set(TARGETS) == set(EXPECTED)
    for endpoint, target in TARGETS.items():
        assert routes[endpoint] == {target.method}, endpoint


def test_every_route_but_the_public_ones_needs_a_token(
    app: Flask, client: FlaskClient, resources: World
) -> None:
    for endpoint in api_endpoints(app):
        target = TARGETS[endpoint]
        json = target.json(resources) if target.json else None
        response = client.open(target.path(resources), method=target.method, json=json)
        if endpoint in PUBLIC:
            assert response.status_code == 200, endpoint
        else:
            assert response.status_code == 401, endpoint
            assert response.get_json()["error"]["code"] == "unauthorised"


def _outcome(response: Any) -> int:
    """The status, or PASSES when the request got past authentication and authorisation."""
    if response.status_code in (401, 403, 404):
        return response.status_code
    if response.status_code < 500 or response.get_json()["error"]["code"] == "ledger_error":
        return PASSES if response.status_code not in (200, 201) else response.status_code
    return response.status_code


@pytest.mark.parametrize("endpoint", list(EXPECTED), ids=[e.removeprefix("api.") for e in EXPECTED])
def test_each_role_may_or_may_not_call_the_route(
    client: FlaskClient, resources: World, endpoint: str
) -> None:
    target = TARGETS[endpoint]
    outcomes = {}
    for actor in EXPECTED[endpoint]:
        json = target.json(resources) if target.json else None
        response = client.open(
            target.path(resources),
            method=target.method,
            json=json,
            headers=(getattr(resources, actor, None) or resources.extra[actor]).headers,
        )
        outcomes[actor] = _outcome(response)
        if response.status_code == 403:
            assert response.get_json()["error"]["code"] == "forbidden", response.get_json()

    assert outcomes == EXPECTED[endpoint]


@pytest.mark.parametrize(
    ("actor", "status"),
    [("auditor", 403), ("auditor_bj", 200), ("plant", 403), ("plant_bj", 200), ("admin", 403)],
)
def test_a_beijing_device_is_visible_to_beijing_only(
    client: FlaskClient, world: World, actor: str, status: int
) -> None:
    response = client.get(
        f"/api/v1/devices/{world.bj_device}", headers=getattr(world, actor).headers
    )

    assert response.status_code == status


def _labels(client: FlaskClient, token: str) -> Any:
    """A request any collector may make: POST /labels."""
    return client.post(
        "/api/v1/labels", json={"count": 1}, headers={"Authorization": f"Bearer {token}"}
    )


def _cli(app: Flask, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), obj=trace_of(app))
    assert result.exit_code == 0, result.output
    return result.output


def _refused(response: Any, why: str) -> bool:
    error = response.get_json()["error"]
    return (
        response.status_code == 401
        and error["code"] == "unauthorised"
        and error["field"] == "Authorization"
        and why in error["message"]
    )


def test_an_expired_token_is_refused_saying_it_expired(
    app: Flask, client: FlaskClient, collector: Actor
) -> None:
    issued_a_year_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    with Session(trace_of(app).engine) as session:
        token = accounts.create_token(
            session=session, username=collector.username, ttl_days=30, now=issued_a_year_ago
        ).token
        session.commit()

    assert _refused(_labels(client, token), "expired")
    assert _labels(client, collector.token).status_code == 201


def test_a_token_revoked_with_the_cli_is_refused(
    app: Flask, client: FlaskClient, collector: Actor
) -> None:
    assert _labels(client, collector.token).status_code == 201
    [token_id] = [
        line.split()[0] for line in _cli(app, "tokens", "list", collector.username).splitlines()[1:]
    ]

    _cli(app, "tokens", "revoke", token_id)

    assert _refused(_labels(client, collector.token), "revoked")


def test_a_disabled_user_is_refused_with_every_token(
    app: Flask, client: FlaskClient, collector: Actor
) -> None:
    second = _cli(app, "tokens", "create", collector.username).splitlines()[-1]
    assert [_labels(client, t).status_code for t in (collector.token, second)] == [201, 201]

    _cli(app, "users", "disable", collector.username)

    assert all(_refused(_labels(client, t), "disabled") for t in (collector.token, second))
