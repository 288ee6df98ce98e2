"""Stocktakes of open output lots (盘点, SPEC §2.4): a lot event by the plant that fills the lot;
the audit reads the stock per fraction (produced − shipped) against the latest one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from tests.audit.conftest import computed
from tests.support.accounts import Actor
from tests.support.floor import Handheld, new_id, receive
from tests.support.manifests import number, shipped
from traceability.app import trace_of
from traceability.audit.lot_queries import fraction_stock, lot_stocktakes
from traceability.custody.models import Event
from traceability.lots.models import Lot


def lot_of(app: Flask, org: str, fraction: str, state: str = "open") -> str:
    with Session(trace_of(app).engine) as session:
        return session.exec(
            select(Lot.code).where(Lot.org == org, Lot.fraction == fraction, Lot.state == state)
        ).one()


def lot_events(app: Flask, lot: str) -> list[Event]:
    with Session(trace_of(app).engine) as session:
        query = select(Event).where(Event.lot == lot).order_by(col(Event.seq))
        return list(session.exec(query).all())


def stocktake(actor: Actor, client: FlaskClient, lot: str, **fields: Any) -> dict[str, Any]:
    [result] = Handheld(client, actor).post(
        {"id": new_id(), "type": "stocktake", "lot": lot, **fields}
    )
    return result


def test_a_stocktake_weighs_an_open_lot_and_the_audit_compares_it_with_the_book(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    at_plant = Handheld(client, plant)
    at_plant.dismantle(receive(client, collector, plant), {"pcb": "2.5"})
    first = lot_of(app, plant.org, "pcb")
    at_plant.record({"type": "lot_shipped", "lot": first, "to": processor.org,
                     "manifests": [shipped(number(app, 1), "2.5")]})  # fmt: skip
    at_plant.dismantle(receive(client, collector, plant), {"pcb": "1.5"})
    at_plant.dismantle(receive(client, collector, plant), {"pcb": "1.0"})
    second = lot_of(app, plant.org, "pcb")

    taken = stocktake(plant, client, second, weight_kg="2.38")
    at_plant.dismantle(receive(client, collector, plant), {"pcb": "0.5"})

    assert taken["status"] == "created", taken
    [event] = lot_events(app, second)
    assert (event.type, event.payload, event.prev) == ("stocktake", {"weight_g": 2380}, None)
    assert lot_of(app, plant.org, "pcb") == second  # still open
    data = computed(app, None).data
    [take] = lot_stocktakes(data)[second]
    stock = fraction_stock(data)[plant.org, "pcb"]
    assert (stock.produced_g, stock.shipped_g, stock.in_store_g) == (5500, 2500, 3000)
    assert (stock.latest_stocktake, stock.book_at_stocktake_g) == (take, 2500)
    assert stock.stocktake_difference_g == -120  # 2.38 kg weighed, 2.5 kg by the book then


@pytest.mark.parametrize(
    ("who", "lot_state", "fields", "code", "field"),
    [
        ("processor", "open", {"weight_kg": "1"}, "forbidden", "type"),
        ("other_plant", "open", {"weight_kg": "1"}, "not_custodian", "lot"),
        ("plant", "shipped", {"weight_kg": "1"}, "invalid_transition", "type"),
        ("plant", "open", {}, "invalid", "weight_kg"),
        ("plant", "open", {"weight_kg": "0"}, "invalid", "weight_kg"),
    ],
    ids=["processor", "other-plant", "shipped-lot", "no-weight", "zero"],
)
def test_a_stocktake_that_cannot_be_is_refused_and_nothing_recorded(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    make_actor: Callable[..., Actor], who: str, lot_state: str, fields: dict[str, Any],
    code: str, field: str,
) -> None:  # fmt: skip
    actors = {"plant": plant, "processor": processor,
              "other_plant": make_actor("DIS-WX", "dismantler", region="320200")}  # fmt: skip
    Handheld(client, plant).dismantle(receive(client, collector, plant), {"pcb": "2"})
    lot = lot_of(app, plant.org, "pcb")
    if lot_state == "shipped":
        Handheld(client, plant).record({"type": "lot_shipped", "lot": lot, "to": processor.org,
                                        "manifests": [shipped(number(app, 1), "2")]})  # fmt: skip
    before = len(lot_events(app, lot))

    result = stocktake(actors[who], client, lot, **fields)

    assert (result["status"], result["error"]["code"], result["error"]["field"]) == (
        "rejected", code, field,
    )  # fmt: skip
    assert len(lot_events(app, lot)) == before
