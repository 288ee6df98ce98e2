"""Transfer manifests (转移联单, SPEC §2.8): a lot shipment carries one or more, each weighed
at dispatch and on receipt; a number that is not one is refused and nothing is recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from tests.support.manifests import TRANSPORTER, number, shipped, year_of
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.lots.models import Lot, LotItem, LotManifest


def open_lot(app: Flask, client: FlaskClient, collector: Actor, plant: Actor, fraction: str,
             kg: str = "154.9") -> str:  # fmt: skip
    """A lot of ``fraction`` at ``plant`` holding one device's output of ``kg``."""
    qr_id = receive(client, collector, plant, weight_kg="200")
    Handheld(client, plant).dismantle(qr_id, {fraction: kg})
    with Session(trace_of(app).engine) as session:
        return session.exec(
            select(LotItem.lot).join(Lot, col(Lot.code) == col(LotItem.lot))
            .where(LotItem.device == qr_id, Lot.fraction == fraction)
        ).one()  # fmt: skip


@pytest.fixture
def pcb_lot(app: Flask, client: FlaskClient, collector: Actor, plant: Actor) -> str:
    return open_lot(app, client, collector, plant, "pcb")


def lot_events(app: Flask, lot: str) -> list[Event]:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(Event.lot == lot).order_by(col(Event.seq))
        return list(session.exec(query).all())


def ship(plant: Actor, client: FlaskClient, lot: str, to: Actor, *manifests: dict[str, Any]
         ) -> dict[str, Any]:  # fmt: skip
    [result] = Handheld(client, plant).post(
        {"id": new_id(), "type": "lot_shipped", "lot": lot, "to": to.org,
         "manifests": list(manifests)}
    )  # fmt: skip
    return result


def test_a_lot_ships_on_two_manifests_and_is_weighed_per_manifest(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str
) -> None:
    first, second = number(app, 1), number(app, 2)
    result = ship(plant, client, pcb_lot, processor,
                  shipped(first, "80.0"), shipped(f" {second[:4]}-{second[4:10]}-{second[10:]} ",
                                                  "74.9"))  # fmt: skip
    assert result["status"] == "created", result
    Handheld(client, processor).record({
        "type": "lot_received", "lot": pcb_lot,
        "manifests": [{"number": second, "weight_kg": "74.5"},
                      {"number": first, "weight_kg": "80"}],
    })  # fmt: skip

    shipped_event, received_event = lot_events(app, pcb_lot)
    assert shipped_event.payload == {
        "to": processor.org,
        "cross_province": False,  # Suzhou to Suzhou
        "manifests": [
            {"number": first, "hw_code": "900-045-49", "transporter": TRANSPORTER,
             "weight_g": 80_000},
            {"number": second, "hw_code": "900-045-49", "transporter": TRANSPORTER,
             "weight_g": 74_900},
        ],
    }  # fmt: skip
    assert received_event.payload == {
        "manifests": [
            {"number": second, "weight_g": 74_500},
            {"number": first, "weight_g": 80_000},
        ],
        "weight_g": 154_500,
    }
    with Session(trace_of(app).engine) as session:
        lot = session.get(Lot, pcb_lot)
        assert lot is not None
        assert (lot.state, lot.manifest_no, lot.received_weight_g, lot.cross_province) == (
            "received", first, 154_500, False,
        )  # fmt: skip
        rows = session.exec(select(LotManifest).order_by(col(LotManifest.id))).all()
        assert [(m.number, m.shipped_weight_g, m.received_weight_g) for m in rows] == [
            (first, 80_000, 80_000), (second, 74_900, 74_500),
        ]  # fmt: skip


BAD_MANIFESTS: list[tuple[str, Callable[[int], dict[str, Any]], str]] = [
    ("a bare word", lambda year: {"number": "X"}, "manifests[0].number"),
    ("no national format", lambda year: {"number": "M-1"}, "manifests[0].number"),
    ("another province's number", lambda year: {"number": f"{year}110000" + "00000001"},
     "manifests[0].number"),
    ("a year long past", lambda year: {"number": f"{year - 5}320500" + "00000001"},
     "manifests[0].number"),
    ("a 1999 paper number of another HW category", lambda year: {"number": "3205290001"},
     "manifests[0].number"),
    ("no waste code on a hazardous lot", lambda year: {"hw_code": None}, "manifests[0].hw_code"),
    ("another fraction's waste code", lambda year: {"hw_code": "900-044-49"},
     "manifests[0].hw_code"),
    ("not a waste code", lambda year: {"hw_code": "HW49"}, "manifests[0].hw_code"),
    ("no transporter", lambda year: {"transporter": " "}, "manifests[0].transporter"),
    ("no weight", lambda year: {"weight_kg": None}, "manifests[0].weight_kg"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"), [(c, f) for _, c, f in BAD_MANIFESTS], ids=[i for i, _, _ in BAD_MANIFESTS]
)
def test_a_manifest_that_is_not_one_is_refused_naming_its_field_and_nothing_is_recorded(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str,
    change: Callable[[int], dict[str, Any]], field: str,
) -> None:  # fmt: skip
    manifest = {**shipped(number(app, 1), "154.9"), **change(year_of(app))}

    result = ship(plant, client, pcb_lot, processor,
                  {k: v for k, v in manifest.items() if v is not None})  # fmt: skip

    assert result["status"] == "rejected", result
    assert result["error"]["field"] == field, result
    assert lot_events(app, pcb_lot) == []


def test_the_1999_paper_format_is_accepted_with_the_lots_category(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str
) -> None:
    result = ship(plant, client, pcb_lot, processor, shipped("3205490001", "154.9"))
    assert result["status"] == "created", result


def test_a_bare_manifest_no_is_refused_asking_for_the_manifests(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str
) -> None:
    [result] = Handheld(client, plant).post(
        {"id": new_id(), "type": "lot_shipped", "lot": pcb_lot, "to": processor.org,
         "manifest_no": number(app, 1)}
    )  # fmt: skip
    assert (result["status"], result["error"]["field"]) == ("rejected", "manifests")
    assert "转移联单" in result["error"]["message"]
    assert lot_events(app, pcb_lot) == []


def test_a_manifest_number_serves_one_truck_only(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    pcb_lot: str,
) -> None:  # fmt: skip
    same = number(app, 7)
    twice = ship(plant, client, pcb_lot, processor, shipped(same, "80"), shipped(same, "74.9"))
    assert (twice["status"], twice["error"]["field"]) == ("rejected", "manifests[1].number")
    assert ship(plant, client, pcb_lot, processor, shipped(same, "154.9"))["status"] == "created"
    glass = open_lot(app, client, collector, plant, "crt_funnel_glass", "20")

    again = ship(plant, client, glass, processor, shipped(same, "20", hw_code="900-044-49"))

    assert (again["status"], again["error"]["code"], again["error"]["field"]) == (
        "rejected", "manifest_in_use", "manifests[0].number",
    )  # fmt: skip


def test_a_non_hazardous_lot_carries_a_shipping_document_without_a_waste_code(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    plastics = open_lot(app, client, collector, plant, "plastics", "40")
    coded = ship(plant, client, plastics, processor, shipped("GB-2026-0815", "40"))
    assert (coded["status"], coded["error"]["field"]) == ("rejected", "manifests[0].hw_code")
    word = ship(plant, client, plastics, processor, shipped("X", "40", hw_code=None))
    assert (word["status"], word["error"]["field"]) == ("rejected", "manifests[0].number")

    ok = ship(plant, client, plastics, processor, shipped("gb-2026-0815", "40", hw_code=None))

    assert ok["status"] == "created", ok
    assert lot_events(app, plastics)[0].payload["manifests"][0]["number"] == "GB-2026-0815"


def test_the_receipt_weighs_every_manifest_of_the_lot_and_no_other(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str
) -> None:
    first, second = number(app, 1), number(app, 2)
    ship(plant, client, pcb_lot, processor, shipped(first, "80"), shipped(second, "74.9"))
    at_processor = Handheld(client, processor)

    def receipt(**fields: Any) -> dict[str, Any]:
        return at_processor.post({"id": new_id(), "type": "lot_received", "lot": pcb_lot,
                                  **fields})[0]  # fmt: skip

    one = receipt(manifests=[{"number": first, "weight_kg": "80"}])
    other = receipt(manifests=[{"number": first, "weight_kg": "80"},
                               {"number": number(app, 3), "weight_kg": "74"}])  # fmt: skip
    whole = receipt(weight_kg="154.9")

    assert (one["status"], one["error"]["field"]) == ("rejected", "manifests")
    assert (other["status"], other["error"]["field"]) == ("rejected", "manifests[1].number")
    assert (whole["status"], whole["error"]["field"]) == ("rejected", "manifests")
    assert [e.type for e in lot_events(app, pcb_lot)] == ["lot_shipped"]


def test_a_shipment_to_another_province_is_marked(
    app: Flask, client: FlaskClient, plant: Actor, make_actor: Callable[..., Actor],
    pcb_lot: str,
) -> None:  # fmt: skip
    anhui = make_actor("PRO-AH", "processor", region="341282")

    assert ship(plant, client, pcb_lot, anhui, shipped(number(app, 1), "154.9"))["status"] == (
        "created"
    )

    assert lot_events(app, pcb_lot)[0].payload["cross_province"] is True
    with Session(trace_of(app).engine) as session:
        lot = session.get(Lot, pcb_lot)
        assert lot is not None and lot.cross_province is True


def test_a_resent_shipment_is_a_duplicate_and_other_manifests_a_conflict(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, pcb_lot: str
) -> None:
    item = {"id": new_id(), "type": "lot_shipped", "lot": pcb_lot, "to": processor.org,
            "manifests": [shipped(number(app, 1), "154.9")]}  # fmt: skip
    handheld = Handheld(client, plant)
    [first] = handheld.post(item)

    [again] = handheld.post(item)
    [other] = handheld.post({**item, "manifests": [shipped(number(app, 2), "154.9")]})

    assert (first["status"], again["status"], again["digest"]) == (
        "created", "duplicate", first["digest"],
    )  # fmt: skip
    assert other["status"] == "conflict"
    receipt = {"id": new_id(), "type": "lot_received", "lot": pcb_lot,
               "manifests": [{"number": number(app, 1), "weight_kg": "154.8"}]}  # fmt: skip
    [received] = Handheld(client, processor).post(receipt)
    [resent] = Handheld(client, processor).post(receipt)
    assert (received["status"], resent["status"]) == ("created", "duplicate")
