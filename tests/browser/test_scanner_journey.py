"""A device's whole journey through the handheld app at 360×640, checked against the API."""

from __future__ import annotations

import uuid
from typing import Any

from babel.messages.pofile import read_po
from sqlmodel import Session, select

from tests.support.browser import open_scanner, queued_items, screenshot, submit, wedge_scan
from tests.support.floor import Handheld, premint, receive
from tests.support.live import LiveServer
from tests.support.manifests import number
from traceability.app import trace_of
from traceability.labels.ids import format_id
from traceability.lots.models import Lot
from traceability.web.i18n import LANGUAGES, TRANSLATIONS


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


def chinese(msgid: str) -> str:
    with (TRANSLATIONS / LANGUAGES["zh-CN"] / "LC_MESSAGES" / "messages.po").open("rb") as f:
        text = read_po(f)[msgid].string
    assert isinstance(text, str) and text
    return text


def test_collect_ship_receive_store_dismantle_and_ship_the_lot(
    server: LiveServer, browser: Any
) -> None:
    collector = server.actor(code("COL"), "collector")
    plant = server.actor(code("DIS"), "dismantler")
    processor = server.actor(code("PRO"), "processor")
    [label] = premint(server.app, collector.org)
    shown = format_id(label)

    # The collector binds a pre-printed label to a CRT television and ships it.
    with_page = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = with_page.new_page()
    open_scanner(page, server.url, collector.username, "collect")
    wedge_scan(page, f"{server.url}/d/{label}")
    assert page.input_value("#scan-input") == shown
    page.select_option("select[name=category]", "tv")
    page.select_option("select[name=attr_display]", "crt")
    page.fill("input[name=attr_screen_in]", "21")
    page.fill("input[name=weight_kg]", "30")
    submit(page)
    page.goto(f"{server.url}/scan/#/ship")
    page.wait_for_selector(".screen[data-step=ship]")
    wedge_scan(page, label)
    page.wait_for_selector(".device-card [data-state=collected]")
    page.select_option("select[name=to]", plant.org)
    submit(page)
    screenshot(page, "journey-ship-zh")
    with_page.close()

    # The plant receives and weighs it, stores it and dismantles it.
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "receive")
    wedge_scan(page, label)
    page.wait_for_selector(".pallet-row .device-card [data-state=in_transit]")
    page.fill(f"input[name='weight_{label}']", "30.5")  # an ID may end in = * ~ $
    submit(page)
    page.goto(f"{server.url}/scan/#/store")
    page.wait_for_selector(".screen[data-step=store]")
    wedge_scan(page, label)
    page.fill("input[name=area]", "A-01")
    submit(page)
    page.goto(f"{server.url}/scan/#/dismantle")
    page.wait_for_selector(".screen[data-step=dismantle]")
    wedge_scan(page, label)
    # The rules for a CRT set are listed before anything is typed.
    page.wait_for_selector(".output.required[data-fraction=crt_funnel_glass]")
    required = page.eval_on_selector_all(
        ".output.required", "els => els.map(e => e.dataset.fraction)"
    )
    assert sorted(required) == ["crt_funnel_glass", "crt_panel_glass", "crt_phosphor", "pcb"]
    page.fill("input[name=out_crt_panel_glass]", "12")
    page.fill("input[name=out_crt_funnel_glass]", "8")
    page.fill("input[name=out_crt_phosphor]", "0.01")
    page.fill("input[name=out_pcb]", "1.5")
    assert "21.51" in page.inner_text(".balance-text")
    page.fill("input[name=batch]", "B-0601")
    page.fill("input[name=line]", "L1")
    screenshot(page, "journey-dismantle-zh")
    submit(page)

    # The plant ships the leaded-glass lot to the processor.
    page.goto(f"{server.url}/scan/#/lot_ship")
    lot_code = f"{plant.org}-crt_funnel_glass-00001"
    page.click(f"button.lot-choice[data-lot='{lot_code}']")
    page.select_option("select[name=to]", processor.org)
    assert page.input_value("fieldset.manifest input[name=hw_code]") == "900-044-49"
    page.fill("fieldset.manifest input[name=number]", number(server.app, 1))
    page.fill("fieldset.manifest input[name=transporter]", "苏州安达危险品运输有限公司")
    page.fill("fieldset.manifest input[name=weight_kg]", "8")
    submit(page)
    context.close()

    # The processor receives it.
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, processor.username, "lot_receive")
    page.click(f"button.lot-choice[data-lot='{lot_code}']")
    page.fill("input[name=weight_kg]", "7.9")
    submit(page)
    assert queued_items(page) == []
    context.close()

    # What the API says happened.
    client = server.client()
    detail = Handheld(client, plant).device(label)
    assert [e["type"] for e in detail["events"]] == [
        "collected", "shipped", "received", "stored", "dismantled",
    ]  # fmt: skip
    assert detail["state"] == "dismantled"
    assert detail["attributes"] == {"display": "crt", "screen_in": 21}
    assert str(detail["received_weight_kg"]) == "30.5"
    assert detail["storage_area"] == "A-01"
    assert (detail["batch"], detail["line"]) == ("B-0601", "L1")
    outputs = {o["fraction"]: str(o["weight_kg"]) for o in detail["outputs"]}
    assert outputs == {
        "crt_panel_glass": "12",
        "crt_funnel_glass": "8",
        "crt_phosphor": "0.01",
        "pcb": "1.5",
    }
    assert [e["org"] for e in detail["events"]] == [collector.org] * 2 + [plant.org] * 3
    with Session(trace_of(server.app).engine) as session:
        lot = session.exec(select(Lot).where(Lot.code == lot_code)).one()
    assert (lot.state, lot.destination, lot.received_weight_g) == ("received", processor.org, 7900)
    assert lot.manifest_no == number(server.app, 1)


def test_a_plant_refuses_a_shipment_that_is_not_its_own(server: LiveServer, browser: Any) -> None:
    collector = server.actor(code("COL"), "collector")
    plant = server.actor(code("DIS"), "dismantler")
    client = server.client()
    qr_id = Handheld(client, collector).collect()
    Handheld(client, collector).record({"type": "shipped", "qr_id": qr_id, "to": plant.org})
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="en-US")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "refuse")
    wedge_scan(page, qr_id)
    page.wait_for_selector(".device-card [data-state=in_transit]")
    page.fill("input[name=reason]", "not on our manifest")
    submit(page)
    context.close()
    detail = Handheld(client, collector).device(qr_id)
    assert detail["events"][-1]["type"] == "refused"
    assert (detail["state"], detail["custodian"]) == ("collected", collector.org)


def test_a_rejected_dismantling_shows_the_servers_reason_in_chinese(
    server: LiveServer, browser: Any
) -> None:
    collector = server.actor(code("COL"), "collector")
    plant = server.actor(code("DIS"), "dismantler")
    qr_id = receive(server.client(), collector, plant, weight_kg="10")
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "dismantle")
    wedge_scan(page, qr_id)
    page.wait_for_selector(".output.required[data-fraction=pcb]")
    page.fill("input[name=out_crt_panel_glass]", "12")
    page.fill("input[name=out_crt_funnel_glass]", "8")
    page.fill("input[name=out_crt_phosphor]", "0.01")
    page.fill("input[name=out_pcb]", "1.5")
    assert "over" in page.get_attribute(".balance", "class")
    page.click("button.submit")
    page.wait_for_selector('#status[data-rejected="1"]')
    page.click("#status")
    page.wait_for_selector(".queue-item.rejected")
    reason = page.inner_text(".queue-item.rejected .reason")
    assert reason == chinese(
        "The outputs weigh more than the device did at intake (plus the tolerance). "
        "Check the weights."
    )
    screenshot(page, "queue-rejected-zh")
    # Fixed and sent again: the rejected record is gone, the new one is created.
    page.click(".queue-item.rejected button.fix")
    page.wait_for_selector(".screen[data-step=dismantle] .output.required[data-fraction=pcb]")
    page.fill("input[name=out_crt_panel_glass]", "5")
    page.fill("input[name=out_crt_funnel_glass]", "3")
    submit(page)
    page.wait_for_selector('#status[data-rejected="0"]')
    context.close()
    assert Handheld(server.client(), plant).device(qr_id)["state"] == "dismantled"
