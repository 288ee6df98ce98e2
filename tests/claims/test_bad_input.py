"""Bad claim requests are a 4xx naming the field, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.accounts import Actor, add_actor, manager_headers
from tests.support.databases import snapshot
from traceability.app import trace_of


@pytest.fixture
def manager(client: FlaskClient, plant: Actor) -> dict[str, str]:
    return manager_headers(client, plant)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "period"),
        ({"period": "2026Q5"}, "period"),
        ({"period": "Q3-2026"}, "period"),
        ({"period": 20263}, "period"),
        ({"period": None}, "period"),
        ({"period": "2026Q3", "plant": "DIS-BJ"}, "plant"),
        ([], "body"),
    ],
)
def test_a_bad_claim_request_names_the_field(
    client: FlaskClient, manager: dict[str, str], body: Any, field: str
) -> None:
    before = snapshot(trace_of(client.application).engine)
    response = client.post("/api/v1/claims", json=body, headers=manager)
    assert 400 <= response.status_code < 500, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert snapshot(trace_of(client.application).engine) == before


@pytest.mark.parametrize(
    ("query", "field"), [("page=0", "page"), ("per_page=5000", "per_page"), ("page=x", "page")]
)
def test_bad_paging_names_the_parameter(
    client: FlaskClient, manager: dict[str, str], query: str, field: str
) -> None:
    claim = client.post("/api/v1/claims", json={"period": "2026Q3"}, headers=manager).get_json()
    response = client.get(f"/api/v1/claims/{claim['id']}?{query}", headers=manager)
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == field


def test_an_unknown_claim_is_a_404(client: FlaskClient, manager: dict[str, str]) -> None:
    assert client.get("/api/v1/claims/999", headers=manager).status_code == 404
    assert client.get("/api/v1/claims/abc", headers=manager).status_code == 404


@pytest.mark.parametrize(
    ("decisions", "field"),
    [
        ([], "decisions"),
        ([{"decision": "pay"}], "decisions[0].decision"),
        ([{"decision": "reject"}], "decisions[0]"),
        ([{"decision": "approve", "qr_id": "X", "tier": "tv_flat"}], "decisions[0]"),
        ([{"decision": "approve", "qr_id": "NOPE"}], "decisions[0].qr_id"),
        ([{"decision": "approve", "tier": "no_such_line"}], "decisions[0].tier"),
        # Review reasons are codes (claims/data/review_reasons.toml), not free text.
        ([{"decision": "reject", "reason": "无拆解视频"}], "decisions[0].reason"),
        ([{"decision": "reject", "reason": "no_such_code"}], "decisions[0].reason"),
        (
            [{"decision": "approve"}, {"decision": "reject", "reason": "evidence_supplied"}],
            "decisions[1].reason",
        ),
        ([{"decision": "reinstate", "reason": "video_missing"}], "decisions[0].reason"),
        ([{"decision": "reject", "reason": "other"}], "decisions[0].note"),
        ([{"decision": "reject", "reason": "other", "note": "   "}], "decisions[0].note"),
        (
            [{"decision": "reject", "reason": "video_missing", "note": "x" * 501}],
            "decisions[0].note",
        ),
        ([{"decision": "approve", "pending_only": "rest"}], "decisions[0].pending_only"),
    ],
)
def test_a_bad_review_names_the_field(
    client: FlaskClient,
    plant: Actor,
    manager: dict[str, str],
    decisions: list[dict[str, Any]],
    field: str,
) -> None:
    claim = client.post("/api/v1/claims", json={"period": "2026Q3"}, headers=manager).get_json()
    submitted = client.post(f"/api/v1/claims/{claim['id']}/submit", headers=manager)
    assert submitted.status_code == 200, submitted.get_json()
    auditor = add_actor(client.application, "REG-JS", "regulator", "auditor", "320000")
    response = client.post(
        f"/api/v1/claims/{claim['id']}/review",
        json={"decisions": decisions},
        headers=auditor.headers,
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    after = client.get(f"/api/v1/claims/{claim['id']}", headers=manager).get_json()
    assert after["state"] == "submitted" and len(after["events"]) == 1
