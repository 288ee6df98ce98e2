"""Claims over time: rates by date, one claim per device ever, reasons that go away, review."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from tests.claims.quarter import COLD_OUT, CRT_OUT, FLAT_OUT, Quarter
from tests.support.accounts import Actor, add_actor, manager_headers
from tests.support.databases import PG_URL
from tests.support.floor import Handheld
from tests.support.manifests import lot_receipt
from traceability.accounts.services import principal_for
from traceability.app import trace_of
from traceability.claims.models import Claim, ClaimedDevice, ClaimExclusion
from traceability.claims.services import create_claim
from traceability.lots.models import LotItem
from traceability.reports.devices import open_reader

pytestmark = pytest.mark.integration

CRT_21 = ("tv", {"display": "crt", "screen_in": 21}, "25", CRT_OUT)
FLAT_42 = ("tv", {"display": "lcd", "backlight": "led", "screen_in": 42}, "12", FLAT_OUT)
FRIDGE = ("refrigerator", {"volume_l": 200}, "40", COLD_OUT)


@pytest.fixture
def q(client: FlaskClient, collector: Actor, plant: Actor, processor: Actor) -> Quarter:
    return Quarter(client, collector, plant, processor)


def devices_of(q: Quarter, claim: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["qr_id"]: d for d in q.show(claim["id"], per_page=1000)["devices"]}


def reasons_of(q: Quarter, claim: dict[str, Any]) -> dict[str, str]:
    shown = q.show(claim["id"], per_page=1000)["excluded"]
    return {e["qr_id"]: e["reasons"][0]["code"] for e in shown}


def submit(q: Quarter, claim: dict[str, Any]) -> dict[str, Any]:
    response = q.client.post(f"/api/v1/claims/{claim['id']}/submit", headers=q.manager)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("device", "first", "second", "periods", "rates", "schedules"),
    [
        (CRT_21, "2021-03-31T23:30:00", "2021-04-01T00:30:00", ("2021Q1", "2021Q2"), (60, 40),
         ("national-fund-2012-2021", "national-fund-2012-2021")),
        (FLAT_42, "2023-12-31T23:30:00", "2024-01-01T00:30:00", ("2023Q4", "2024Q1"), (45, 40),
         ("national-fund-2012-2021", "example-province-2024-2027")),
    ],
)  # fmt: skip
def test_the_rate_is_the_one_in_force_on_the_beijing_dismantling_date(
    q: Quarter,
    device: tuple[Any, ...],
    first: str,
    second: str,
    periods: tuple[str, str],
    rates: tuple[int, int],
    schedules: tuple[str, str],
) -> None:
    a = q.device("a", *device, first)
    b = q.device("b", *device, second)  # the same day as ``a`` in UTC
    q.ship_and_confirm_lots()
    q.anchor()
    for qr_id, period, rate, schedule in zip((a, b), periods, rates, schedules, strict=True):
        claim = q.claim(period)
        [(found, line)] = devices_of(q, claim).items()
        assert found == qr_id
        assert (line["rate_yuan"], line["schedule"]) == (rate, schedule)
        assert [s["id"] for s in claim["schedules"]] == [schedule]


def test_a_plant_no_schedule_covers_gets_a_quantity_certification_not_yuan(
    q: Quarter, make_actor: Callable[..., Actor]
) -> None:
    """No schedule with rates covers a Chengdu plant in 2026: a claim in yuan is refused
    naming the mode; by default its quarter is certified in units, with no yuan."""
    chengdu = make_actor("DIS-CD", "dismantler", region="510100")
    qr_id = q.device("cd", *FLAT_42, "2026-08-03T10:00:00", plant=chengdu)
    q.ship_and_confirm_lots(chengdu)
    q.anchor()
    manager = manager_headers(q.client, chengdu)
    yuan = q.client.post("/api/v1/claims", json={"period": "2026Q3", "mode": "yuan"},
                         headers=manager)  # fmt: skip
    assert yuan.status_code == 422 and yuan.get_json()["error"]["field"] == "mode"
    claim = q.claim(headers=manager)
    assert (claim["mode"], claim["units"], claim["total_yuan"]) == ("quantity", 1, 0)
    [line] = claim["lines"]
    assert (line["tier"], line["units"], line["rate"], line["amount"]) == (
        "tv_crt_25_up_or_flat", 1, 0, 0)  # fmt: skip
    shown = q.client.get(f"/api/v1/claims/{claim['id']}", headers=manager).get_json()
    assert [d["qr_id"] for d in shown["devices"]] == [qr_id] and not shown["excluded"]


def test_a_draft_is_recomputed_and_a_submitted_claim_is_frozen(q: Quarter) -> None:
    first = q.device("first", *FRIDGE, "2026-08-03T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    draft = q.claim()
    response = q.client.post("/api/v1/claims", json={"period": "2026Q3"}, headers=q.manager)
    assert response.status_code == 200 and response.get_json()["id"] == draft["id"]
    submitted = submit(q, draft)
    assert submitted["state"] == "submitted"
    second = q.device("second", *FRIDGE, "2026-08-20T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    refused = q.client.post("/api/v1/claims", json={"period": "2026Q3"}, headers=q.manager)
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "period"
    later = q.claim(supplementary=True)
    assert later["id"] != draft["id"] and later["code"].endswith("-2")
    assert later["supplements"] == [draft["code"]]
    assert set(devices_of(q, later)) == {second}
    assert reasons_of(q, later) == {}  # the supplement adds only what the claim did not hold
    assert set(devices_of(q, q.show(draft["id"]))) == {first}  # unchanged


def test_outputs_moved_into_a_confirmed_lot_in_the_database_stay_unconfirmed(q: Quarter) -> None:
    confirmed = q.device("confirmed", *FLAT_42, "2026-08-03T10:00:00")
    received_lots = q.ship_and_confirm_lots()
    waiting = q.device("waiting", *FLAT_42, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots(confirm=False)
    q.anchor()
    # What a DB admin can do: put the waiting device's outputs in the lots the
    # processor confirmed (same plant, same fractions), in lot_item and lot rows.
    with trace_of(q.client.application).engine.begin() as conn:
        for lot in received_lots:
            fraction = lot.removeprefix(f"{q.plant.org}-").rpartition("-")[0]
            conn.execute(
                update(LotItem)
                .where(col(LotItem.device) == waiting, col(LotItem.lot).contains(f"-{fraction}-"))
                .values(lot=lot)
            )
    claim = q.claim()
    assert set(devices_of(q, claim)) == {confirmed}
    assert reasons_of(q, claim) == {waiting: "hazardous_output_unconfirmed"}


def test_a_device_whose_reason_goes_away_is_claimable_in_a_later_claim(q: Quarter) -> None:
    waiting = q.device("waiting", *FLAT_42, "2026-08-03T10:00:00")
    lots = q.ship_and_confirm_lots(confirm=False)
    pending = q.device("pending", *FRIDGE, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    ok = q.device("ok", *FRIDGE, "2026-08-05T10:00:00")  # recorded after the anchor: pending
    first = q.claim()
    assert reasons_of(q, first) == {waiting: "hazardous_output_unconfirmed", ok: "not_verified"}
    assert set(devices_of(q, first)) == {pending}
    submit(q, first)
    for code in lots:  # the processor returns the manifests
        Handheld(q.client, q.processor).record(
            {"type": "lot_received", "lot": code, **lot_receipt(q.client.application, code, "1")}
        )
    q.ship_and_confirm_lots()  # the lot "ok" put its fractions in
    q.anchor()
    later = q.claim(supplementary=True)
    assert set(devices_of(q, later)) == {waiting, ok}
    assert reasons_of(q, later) == {}


def test_review_rejects_a_device_which_stays_unclaimable_until_reinstated(
    q: Quarter, make_actor: Callable[..., Actor]
) -> None:
    a = q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    b = q.device("b", *FLAT_42, "2026-08-04T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    claim = submit(q, q.claim())
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000")
    outsider = make_actor("REG-BJ", "regulator", role="auditor", region="110000")

    def review(actor: Actor, decisions: list[dict[str, Any]]) -> Any:
        return q.client.post(
            f"/api/v1/claims/{claim['id']}/review",
            json={"decisions": decisions},
            headers=actor.headers,
        )

    assert review(outsider, [{"decision": "approve"}]).status_code == 403
    assert (
        q.client.post(
            f"/api/v1/claims/{claim['id']}/review",
            json={"decisions": [{"decision": "approve"}]},
            headers=q.manager,
        ).status_code
        == 403
    )
    missing = review(auditor, [{"decision": "reject", "qr_id": a}])
    assert missing.status_code == 422
    assert missing.get_json()["error"]["field"] == "decisions[0]"
    done = review(
        auditor,
        [{"decision": "approve"}, {"decision": "reject", "qr_id": a, "reason": "video_missing"}],
    )
    assert done.status_code == 200, done.get_json()
    reviewed = done.get_json()
    assert reviewed["state"] == "partially_approved"
    assert reviewed["approved_yuan"] == devices_of(q, claim)[b]["rate_yuan"]
    assert [e["type"] for e in reviewed["events"]] == ["claim_submitted", "claim_reviewed"]
    assert {e["status"] for e in reviewed["events"]} == {"verified"}  # chained and anchored
    # A supplement does not count again what the quarter's claim holds (a: rejected there).
    assert devices_of(q, q.claim(supplementary=True)) == {}
    again = review(auditor, [{"decision": "reinstate", "qr_id": a, "reason": "evidence_supplied"}])
    assert again.status_code == 200, again.get_json()
    # Reinstated, it left the claim: the supplement (its open draft, recomputed) counts it.
    later = q.claim(supplementary=True)
    assert set(devices_of(q, later)) == {a}


def test_the_database_refuses_a_second_claim_of_a_device(q: Quarter) -> None:
    q.device("a", *FRIDGE, "2026-08-03T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    claim = q.claim()
    [qr_id] = devices_of(q, claim)
    table = ClaimedDevice.__table__  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError), trace_of(q.client.application).engine.begin() as conn:
        conn.execute(insert(table).values(qr_id=qr_id, claim_id=claim["id"], rejected=False))


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="TRACE_TEST_DATABASE_URL is not PostgreSQL")
def test_two_concurrent_creates_never_claim_a_device_twice(q: Quarter) -> None:
    app = q.client.application
    names = [f"n{i}" for i in range(12)]
    for n, name in enumerate(names):
        q.device(name, *FRIDGE, f"2026-08-{3 + n:02d}T10:00:00")
    q.ship_and_confirm_lots()
    q.anchor()
    managers = [add_actor(app, q.plant.org, "dismantler", role="manager") for _ in range(2)]
    start = threading.Barrier(2)
    results: list[Any] = []

    def create(username: str) -> None:
        with app.app_context(), Session(trace_of(app).engine, expire_on_commit=False) as session:
            principal = principal_for(session=session, username=username)
            ledger = open_reader(session, trace_of(app).ledger)
            start.wait()
            claim, _ = create_claim(
                session=session,
                catalog=trace_of(app).catalog,
                principal=principal,
                period="2026Q3",
                ledger=ledger,
                now=trace_of(app).now(),
                settings=trace_of(app).settings,
            )
            results.append(claim.id)

    threads = [threading.Thread(target=create, args=(m.username,)) for m in managers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with Session(trace_of(app).engine) as session:
        held = session.execute(select(ClaimedDevice.qr_id, ClaimedDevice.claim_id)).all()
    assert len(results) == 2
    assert len(held) == len({qr_id for qr_id, _ in held}) == len(names)
    # Both claims exist; the devices are split between them, none counted twice.
    assert {claim_id for _, claim_id in held} <= set(results)
    with Session(trace_of(app).engine) as session:
        for claim_id in results:
            claim = session.get(Claim, claim_id)
            assert claim is not None
            others = session.execute(
                select(ClaimExclusion.reasons).where(ClaimExclusion.claim_id == claim_id)
            ).scalars()
            assert claim.units + sum(r[0][0] == "already_claimed" for r in others) == len(names)
