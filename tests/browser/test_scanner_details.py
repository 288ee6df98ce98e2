"""Smaller promises of the handheld app: typed IDs checked, minting, big targets, re-login."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.browser import (
    go_to_step,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    sign_in_page,
    submit,
    wedge_scan,
)
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer
from traceability.labels.ids import format_id


def org(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


def test_a_typed_id_is_checked_as_it_is_typed(server: LiveServer, browser: Any) -> None:
    collector = server.actor(org("COL"), "collector")
    qr_id = receive(server.client(), collector, server.actor(org("DIS"), "dismantler"))
    context = phone_context(browser, "en-US")
    page = context.new_page()
    open_scanner(page, server.url, collector.username, "ship")
    page.click("#scan-input")
    page.keyboard.type(qr_id[:6], delay=150)  # a person, not a scanner
    assert page.inner_text(".scan-status") == "6 of 14 characters"
    wrong_check = qr_id[:13] + ("0" if qr_id[13] != "0" else "1")
    page.fill("#scan-input", wrong_check.lower())
    assert "Check character wrong" in page.inner_text(".scan-status.bad")
    swapped = qr_id[:3] + qr_id[4] + qr_id[3] + qr_id[5:]
    if swapped != qr_id:  # an adjacent transposition is caught too
        page.fill("#scan-input", swapped)
        assert page.locator(".scan-status.bad").count() == 1
    page.fill("#scan-input", f" {qr_id[:4]} {qr_id[4:8].lower()}-{qr_id[8:]} ")
    assert page.inner_text(".scan-status.good") == f"✓ {format_id(qr_id)}"
    page.press("#scan-input", "Enter")
    assert page.input_value("#scan-input") == format_id(qr_id)
    page.wait_for_selector(".device-card h2")
    context.close()


def test_a_device_without_a_label_gets_a_new_id(server: LiveServer, browser: Any) -> None:
    collector = server.actor(org("COL"), "collector")
    context = phone_context(browser, "en-US")
    page = context.new_page()
    open_scanner(page, server.url, collector.username, "collect")
    page.check("#mint")
    page.select_option("select[name=category]", "microcomputer")
    page.select_option("select[name=attr_form]", "laptop")
    submit(page)
    # The ID is the label roll's next (or the server's): the recent list offers its label.
    link = "#recent .recent-item[data-status=sent] a.print-label"
    page.wait_for_selector(link)
    minted = str(page.get_attribute(link, "href")).rsplit("id=", 1)[1]
    # The new-label card, where the screen still shows one, is that ID's (looked at, not
    # waited for: once the form resets for the next device it is gone).
    shown = page.locator(".new-label")
    assert shown.count() == 0 or shown.first.get_attribute("data-id") == minted
    context.close()
    detail = Handheld(server.client(), collector).device(minted)
    assert (detail["category"], detail["attributes"]) == ("microcomputer", {"form": "laptop"})


def test_touch_targets_are_at_least_48_px(server: LiveServer, browser: Any) -> None:
    plant = server.actor(org("DIS"), "dismantler")
    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, plant.username)
    for step in ("", "collect", "receive", "dismantle", "store", "lot_ship", "queue"):
        go_to_step(page, server.url, step)
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                    '.screen button, .screen input:not([type=checkbox]), .screen select, '
                    + '.tile, .back, .topbar a.lang, .topbar button'
                )].filter(e => e.offsetParent !== null)
                  .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect().height])
                  .filter(([, height]) => height < 48)"""
        )
        assert small == [], step
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, step
    context.close()


def test_a_lost_session_keeps_the_queue_and_a_new_sign_in_sends_it(
    server: LiveServer, browser: Any
) -> None:
    collector = server.actor(org("COL"), "collector")
    plant = server.actor(org("DIS"), "dismantler")
    qr_id = receive(server.client(), collector, plant)
    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "store")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    # Signed out behind the app's back (another tab, an expired session).
    assert page.request.post(f"{server.url}/logout", form={"csrf_token": token}).ok
    wedge_scan(page, qr_id)
    page.fill("input[name=area]", "C-02")
    page.click("button.submit")
    page.wait_for_selector(".banner:not([hidden])")
    assert [i["status"] for i in queued_items(page)] == ["pending"]
    screenshot(page, "signed-out-queue-kept-zh")
    page.click(".banner a")
    sign_in_page(page, server.url, plant.username)
    page.wait_for_selector("#app[data-ready=true]")
    page.wait_for_selector('#status[data-pending="0"]', timeout=20_000)
    assert queued_items(page) == []
    context.close()
    assert Handheld(server.client(), plant).device(qr_id)["storage_area"] == "C-02"


def test_a_handheld_in_another_zone_shows_beijing_time_and_says_so(
    server: LiveServer, browser: Any
) -> None:
    """SPEC §2.9: the device card's history reads in Beijing time, whatever the phone's zone."""
    plant = server.actor(org("DIS"), "dismantler")
    qr_id = Handheld(server.client(), plant).collect(occurred_at="2025-01-06T01:08:00Z")
    context = phone_context(browser, "zh-CN", timezone_id="America/New_York")  # UTC-5
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "ship")
    page.click("#scan-input")
    wedge_scan(page, qr_id)
    page.wait_for_selector(".device-card .history li")
    shown = page.inner_text(".device-card .history li")
    context.close()
    assert "09:08" in shown and "(UTC+8)" in shown, shown  # 20:08 on the 5th in New York
