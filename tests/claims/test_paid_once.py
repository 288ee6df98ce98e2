"""Paid once (issue 15, finding 5): a reinstated device claimed again is never approved twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tests.claims.quarter import COLD_OUT, FLAT_OUT, Quarter
from tests.support.accounts import Actor
from traceability.app import trace_of
from traceability.claims.models import ClaimItem

pytestmark = pytest.mark.integration

FRIDGE = ("refrigerator", {"volume_l": 200}, "40", COLD_OUT)
FLAT_42 = ("tv", {"display": "lcd", "backlight": "led", "screen_in": 42}, "12", FLAT_OUT)


@pytest.fixture
def q(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


@pytest.fixture
def auditor(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("REG-JS", "regulator", role="auditor", region="320000")


def submitted(q: Quarter, **asked: Any) -> dict[str, Any]:
    claim = q.claim(**asked)
    response = q.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=q.manager)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def review(q: Quarter, auditor: Actor, claim: dict[str, Any], decisions: list[Any]) -> Any:
    return q.client.post(
        f"/api/v1/claims/{claim['id']}/review",
        json={"decisions": decisions},
        headers=auditor.headers,
    )


def outcomes(q: Quarter, claim: dict[str, Any]) -> dict[str, str | None]:
    shown = q.show(claim["id"], per_page=1000)["devices"]
    return {d["qr_id"]: d["review"] for d in shown}


def test_a_reinstated_device_claimed_again_is_not_approved_by_a_bulk_approval_of_the_first(
    q: Quarter, auditor: Actor
) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    b = q.device("b", *FLAT_42, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    first = submitted(q)
    rejected = review(
        q, auditor, first, [{"decision": "reject", "qr_id": a, "reason": "video_missing"}]
    )
    assert rejected.status_code == 200, rejected.get_json()
    again = review(
        q, auditor, first, [{"decision": "reinstate", "qr_id": a, "reason": "evidence_supplied"}]
    )
    assert again.status_code == 200, again.get_json()
    second = submitted(q, supplementary=True)  # the supplement counts the freed device
    assert set(outcomes(q, second)) == {a}
    paid = review(q, auditor, second, [{"decision": "approve"}])
    assert paid.status_code == 200, paid.get_json()

    bulk = review(q, auditor, first, [{"decision": "approve"}])

    assert bulk.status_code == 200, bulk.get_json()
    assert outcomes(q, first) == {a: "reinstated", b: "approved"}
    assert outcomes(q, second) == {a: "approved"}
    rate = {d["qr_id"]: d["rate_yuan"] for d in q.show(first["id"])["devices"]}
    assert bulk.get_json()["approved_yuan"] == rate[b]


def test_naming_a_reinstated_device_in_its_first_claim_is_a_conflict(
    q: Quarter, auditor: Actor
) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    first = submitted(q)
    steps = [
        {"decision": "reject", "qr_id": a, "reason": "video_missing"},
        {"decision": "reinstate", "qr_id": a, "reason": "evidence_supplied"},
    ]
    assert review(q, auditor, first, steps).status_code == 200
    before = outcomes(q, first)

    response = review(q, auditor, first, [{"decision": "approve", "qr_id": a}])

    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["field"] == "decisions[0].qr_id"
    assert "reinstated" in error["message"]
    assert outcomes(q, first) == before == {a: "reinstated"}


def test_the_database_refuses_a_second_approval_of_a_device(q: Quarter, auditor: Actor) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    first = submitted(q)
    steps = [
        {"decision": "reject", "qr_id": a, "reason": "video_missing"},
        {"decision": "reinstate", "qr_id": a, "reason": "evidence_supplied"},
    ]
    assert review(q, auditor, first, steps).status_code == 200
    second = submitted(q, supplementary=True)
    assert review(q, auditor, second, [{"decision": "approve"}]).status_code == 200
    table = ClaimItem.__table__  # type: ignore[attr-defined]
    engine = trace_of(q.client.application).engine
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.claim_id == first["id"], table.c.qr_id == a)
            .values(review="approved")
        )


def test_a_wiped_reinstatement_is_replayed_and_the_device_stays_approved_once(
    q: Quarter, auditor: Actor
) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    first = submitted(q)
    steps = [
        {"decision": "reject", "qr_id": a, "reason": "video_missing"},
        {"decision": "reinstate", "qr_id": a, "reason": "evidence_supplied"},
    ]
    assert review(q, auditor, first, steps).status_code == 200
    second = submitted(q, supplementary=True)
    assert review(q, auditor, second, [{"decision": "approve"}]).status_code == 200
    # A database administrator wipes the first claim's record of the reinstatement.
    table = ClaimItem.__table__  # type: ignore[attr-defined]
    with trace_of(q.client.application).engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.claim_id == first["id"], table.c.qr_id == a)
            .values(review=None)
        )

    # The review starts from the claim's review events replayed, not from the row: the
    # device is still reinstated there, so the bulk approval leaves it alone, and the
    # wiped row is written back from the events. (The index stays the last guard:
    # test_the_database_refuses_a_second_approval_of_a_device.)
    response = review(q, auditor, first, [{"decision": "approve"}])

    assert response.status_code == 200, response.get_json()
    assert outcomes(q, first) == {a: "reinstated"}
    assert outcomes(q, second) == {a: "approved"}
    with trace_of(q.client.application).engine.begin() as conn:
        approved = conn.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.qr_id == a, table.c.review == "approved")
        ).scalar_one()
    assert approved == 1
