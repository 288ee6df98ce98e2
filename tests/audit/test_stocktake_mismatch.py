"""Output-fraction stock against stocktakes (issue 17): produced − shipped is the book stock of
the open lot; the latest stocktake weighing far from it is a finding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.audit.conftest import computed
from tests.support.accounts import PASSWORD, Actor
from tests.support.floor import Handheld, new_id, receive
from tests.support.manifests import number, shipped
from tests.support.web import sign_in
from traceability.app import trace_of
from traceability.audit.findings import Finding
from traceability.audit.refresh import refresh
from traceability.audit.ruleset import load_ruleset
from traceability.lots.models import Lot, LotState
from traceability.periods import quarter_of


def open_lot(app: Flask, org: str, fraction: str) -> str:
    with Session(trace_of(app).engine) as session:
        return session.exec(
            select(Lot.code).where(
                Lot.org == org, Lot.fraction == fraction, Lot.state == LotState.open
            )
        ).one()


def stocktake(client: FlaskClient, plant: Actor, lot: str, weight_kg: str) -> dict[str, Any]:
    [result] = Handheld(client, plant).post(
        {"id": new_id(), "type": "stocktake", "lot": lot, "weight_kg": weight_kg}
    )
    assert result["status"] == "created", result
    return result


def mismatches(app: Flask) -> list[Finding]:
    return [f for f in computed(app, None).findings if f.rule == "stocktake_mismatch"]


def pcb_stock(app: Flask, client: FlaskClient, collector: Actor, plant: Actor,
              processor: Actor) -> str:  # fmt: skip
    """A shipped PCB lot (10 kg), then 20 kg of PCB in the open lot: the book stock."""
    at_plant = Handheld(client, plant)
    at_plant.dismantle(receive(client, collector, plant, weight_kg="30"), {"pcb": "10"})
    first = open_lot(app, plant.org, "pcb")
    at_plant.record({"type": "lot_shipped", "lot": first, "to": processor.org,
                     "manifests": [shipped(number(app, 1), "10")]})  # fmt: skip
    at_plant.dismantle(receive(client, collector, plant, weight_kg="30"), {"pcb": "12"})
    at_plant.dismantle(receive(client, collector, plant, weight_kg="30"), {"pcb": "8"})
    return open_lot(app, plant.org, "pcb")


def test_a_stocktake_far_short_of_the_book_is_a_finding(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    lot = pcb_stock(app, client, collector, plant, processor)
    taken = stocktake(client, plant, lot, "14")  # 6 kg of 20 missing

    [found] = mismatches(app)

    spec = load_ruleset().rule("stocktake_mismatch")
    assert (found.org, found.subject, found.events, found.severity_of(spec)) == (
        plant.org, lot, (taken["id"],), "high",
    )  # fmt: skip
    assert (found.params["book_kg"], found.params["weighed_kg"], found.params["difference_kg"],
            found.params["share_pct"]) == ("20.000", "14.000", "-6.000", "70.0")  # fmt: skip
    assert "book 20.000 kg" in found.detail(spec, "en")
    assert "账面 20.000 kg" in found.detail(spec, "zh-CN")


def test_a_stocktake_within_the_tolerance_is_silent(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    lot = pcb_stock(app, client, collector, plant, processor)
    stocktake(client, plant, lot, "19.2")  # 4 %: moisture, the scale
    assert mismatches(app) == []


def test_more_in_store_than_the_book_is_a_finding_too(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    """Outputs of devices never recorded (a surplus) break the balance as a shortfall does."""
    lot = pcb_stock(app, client, collector, plant, processor)
    stocktake(client, plant, lot, "26")
    [found] = mismatches(app)
    assert (found.params["difference_kg"], found.params["share_pct"]) == ("6.000", "130.0")


def test_a_small_difference_in_kg_is_within_the_scales_reach(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    """0.3 kg short of a 0.8 kg book is 37 %, but below the 1 kg a platform scale resolves."""
    at_plant = Handheld(client, plant)
    at_plant.dismantle(receive(client, collector, plant, weight_kg="4"), {"pcb": "0.8"})
    stocktake(client, plant, open_lot(app, plant.org, "pcb"), "0.5")
    assert mismatches(app) == []


def test_the_latest_stocktake_is_the_one_judged(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    """A short weighing corrected by a later stocktake that agrees with the book."""
    lot = pcb_stock(app, client, collector, plant, processor)
    stocktake(client, plant, lot, "14")
    assert len(mismatches(app)) == 1
    stocktake(client, plant, lot, "20.1")
    assert mismatches(app) == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [("zh-CN", "产物库存与盘点不符"), ("en", "Output stock differs from its stocktake")],
)
def test_the_portal_lists_the_finding_with_its_lot_linked(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    make_actor: Callable[..., Actor], lang: str, words: str,
) -> None:  # fmt: skip
    lot = pcb_stock(app, client, collector, plant, processor)
    stocktake(client, plant, lot, "14")
    refresh(trace_of(app), force=True)
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000",
                         password=PASSWORD)  # fmt: skip
    assert sign_in(client, auditor.username).status_code == 302

    period = quarter_of(trace_of(app).now()).name  # the handhelds record "now"
    html = client.get(f"/portal/anomalies?period={period}&rule=stocktake_mismatch",
                      headers={"Accept-Language": lang}).get_data(as_text=True)  # fmt: skip

    assert f'data-rule="stocktake_mismatch" data-subject="{lot}"' in html
    assert f'href="/portal/lots/{lot}" data-lot-link' in html
    assert words in html and "(UTC+8)" in html
