"""Output lots on the handheld (SPEC §2.8, §4.4): a shipment on two trucks, each with its
transfer manifest; the processor weighs each manifest; a stocktake of an open lot."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, col, select

from tests.support.browser import open_scanner, queued_items, submit
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer
from tests.support.manifests import number
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.lots.models import LotManifest


def test_a_lot_ships_on_two_trucks_is_weighed_per_manifest_and_a_lot_is_counted(
    server: LiveServer, browser: Any
) -> None:
    suffix = uuid.uuid4().hex[:5].upper()
    collector = server.actor(f"COL-{suffix}", "collector")
    plant = server.actor(f"DIS-{suffix}", "dismantler")
    processor = server.actor(f"PRO-{suffix}", "processor")
    client = server.client()
    Handheld(client, plant).dismantle(
        receive(client, collector, plant, "200"), {"pcb": "154.9", "plastics": "20"}
    )
    pcb, plastics = f"{plant.org}-pcb-00001", f"{plant.org}-plastics-00001"
    first, second = number(server.app, 901), number(server.app, 902)

    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-US")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "lot_ship")
    page.click(f"button.lot-choice[data-lot='{pcb}']")
    page.select_option("select[name=to]", processor.org)
    page.click("button.add-manifest")
    trucks = page.locator("fieldset.manifest")
    assert trucks.count() == 2
    for index, (manifest, kg) in enumerate([(first, "80"), (second, "74.9")]):
        truck = trucks.nth(index)
        assert truck.locator("input[name=hw_code]").input_value() == "900-045-49"
        truck.locator("input[name=number]").fill(manifest)
        truck.locator("input[name=transporter]").fill("苏州安达危险品运输有限公司")
        truck.locator("input[name=weight_kg]").fill(kg)
    submit(page)
    page.goto(f"{server.url}/scan/#/stocktake")
    page.wait_for_selector(".screen[data-step=stocktake]")
    page.click(f"button.lot-choice[data-lot='{plastics}']")
    page.fill("input[name=weight_kg]", "19.8")
    submit(page)
    assert queued_items(page) == []
    context.close()

    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, processor.username, "lot_receive")
    page.click(f"button.lot-choice[data-lot='{pcb}']")
    weights = page.locator(".manifest-weights input[name=weight_kg]")
    assert weights.count() == 2
    weights.nth(0).fill("79.8")
    weights.nth(1).fill("20")
    submit(page)
    assert queued_items(page) == []
    context.close()

    with Session(trace_of(server.app).engine) as session:
        rows = session.exec(
            select(LotManifest).where(LotManifest.lot == pcb).order_by(col(LotManifest.id))
        ).all()
        take = session.exec(
            select(Event).where(Event.lot == plastics, Event.type == "stocktake")
        ).one()
    assert [(m.number, m.shipped_weight_g, m.received_weight_g) for m in rows] == [
        (first, 80_000, 79_800), (second, 74_900, 20_000),
    ]  # fmt: skip
    assert take.payload == {"weight_g": 19_800}
