"""Shipped against received per transfer manifest (SPEC §2.8): beyond the tolerance (default
2 %, a practice default in rules.toml) it is a finding. Issue 17: a PCB lot shipped at
154.9 kg and "received" at 20.0 kg raised nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.audit.conftest import computed
from tests.support.accounts import Actor
from tests.support.floor import Handheld, receive
from tests.support.manifests import number, shipped
from traceability.app import trace_of
from traceability.audit.findings import Finding
from traceability.audit.ruleset import load_ruleset
from traceability.lots.models import Lot


def pcb_lot(app: Flask, client: FlaskClient, collector: Actor, plant: Actor) -> str:
    qr_id = receive(client, collector, plant, weight_kg="160")
    Handheld(client, plant).dismantle(qr_id, {"pcb": "154.9"})
    with Session(trace_of(app).engine) as session:
        return session.exec(select(Lot.code).where(Lot.fraction == "pcb")).one()


def ship_and_receive(
    app: Flask, client: FlaskClient, plant: Actor, processor: Actor, lot: str,
    weights: list[tuple[str, str]],
) -> None:  # fmt: skip
    numbers = [number(app, i + 1) for i in range(len(weights))]
    Handheld(client, plant).record({
        "type": "lot_shipped", "lot": lot, "to": processor.org,
        "manifests": [shipped(n, out) for n, (out, _) in zip(numbers, weights, strict=True)],
    })  # fmt: skip
    Handheld(client, processor).record({
        "type": "lot_received", "lot": lot,
        "manifests": [{"number": n, "weight_kg": back}
                      for n, (_, back) in zip(numbers, weights, strict=True)],
    })  # fmt: skip


def mismatches(app: Flask) -> list[Finding]:
    return [f for f in computed(app, None).findings if f.rule == "lot_weight_mismatch"]


def test_a_pcb_lot_shipped_at_154_9_kg_and_received_at_20_kg_is_a_finding(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    lot = pcb_lot(app, client, collector, plant)

    ship_and_receive(app, client, plant, processor, lot, [("154.9", "20.0")])

    [finding] = mismatches(app)
    assert (finding.org, finding.subject, finding.severity_of(load_ruleset().rule(
        "lot_weight_mismatch"))) == (plant.org, lot, "high")  # fmt: skip
    params: dict[str, Any] = finding.params
    assert (params["shipped_kg"], params["received_kg"], params["share_pct"]) == (
        "154.900", "20.000", "12.9",
    )  # fmt: skip
    assert len(finding.events) == 2  # the shipment and the receipt
    detail = finding.detail(load_ruleset().rule("lot_weight_mismatch"), "zh-CN")
    assert "发出 154.900 kg，接收 20.000 kg" in detail and number(app, 1) in detail


@pytest.mark.parametrize(
    ("weights", "found"),
    [
        ([("154.9", "151.9")], False),  # −1.94 %: within 2 %
        ([("154.9", "151.7")], True),  # −2.07 %
        ([("154.9", "158.1")], True),  # +2.07 %: more arrived than left
        ([("80.0", "80.1"), ("74.9", "60.0")], True),  # one truck of two short
    ],
    ids=["within", "short", "over", "one-of-two"],
)
def test_each_manifest_is_compared_with_the_tolerance(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor,
    weights: list[tuple[str, str]], found: bool,
) -> None:  # fmt: skip
    lot = pcb_lot(app, client, collector, plant)

    ship_and_receive(app, client, plant, processor, lot, weights)

    found_now = mismatches(app)
    assert bool(found_now) is found
    if len(weights) == 2:
        assert found_now[0].params["manifests"].startswith(number(app, 2))  # only the short one


def test_a_lot_not_yet_received_is_not_compared(
    app: Flask, client: FlaskClient, collector: Actor, plant: Actor, processor: Actor
) -> None:
    lot = pcb_lot(app, client, collector, plant)
    Handheld(client, plant).record({
        "type": "lot_shipped", "lot": lot, "to": processor.org,
        "manifests": [shipped(number(app, 1), "154.9")],
    })  # fmt: skip

    assert mismatches(app) == []
