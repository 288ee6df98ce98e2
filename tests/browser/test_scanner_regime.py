"""The handheld records what the regime needs (issue 17): a TV's display type and an
LCD's backlight, whether a desktop came with its display and what it was; the
dismantling screen asks for that type's fractions and shows their waste codes."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.browser import open_scanner, phone_context, submit, wedge_scan
from tests.support.floor import Handheld
from tests.support.live import LiveServer


def org(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


def minted(page: Any) -> str:
    """The ID the collection was given (from the handheld's label roll, or by the server)."""
    link = "#recent .recent-item[data-status=sent] a.print-label"
    page.wait_for_selector(link)
    return str(page.get_attribute(link, "href")).rsplit("id=", 1)[1]


def visible(page: Any, name: str) -> bool:
    return page.is_visible(f"[data-attribute={name}]")


def test_a_ccfl_lcd_tv_is_described_and_dismantled_with_its_lamps(
    server: LiveServer, browser: Any
) -> None:
    plant = server.actor(org("DIS"), "dismantler")
    context = phone_context(browser, "en-US")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "collect")
    page.check("#mint")
    page.select_option("select[name=category]", "tv")
    assert not visible(page, "backlight")  # asked only for an LCD
    page.select_option("select[name=attr_display]", "plasma")
    assert not visible(page, "backlight")
    page.select_option("select[name=attr_display]", "lcd")
    assert visible(page, "backlight")
    page.select_option("select[name=attr_backlight]", "ccfl")
    page.fill("input[name=attr_screen_in]", "32")
    submit(page)
    qr_id = minted(page)
    assert Handheld(server.client(), plant).device(qr_id)["attributes"] == {
        "display": "lcd",
        "backlight": "ccfl",
        "screen_in": 32,
    }
    Handheld(server.client(), plant).record({"type": "received", "qr_id": qr_id, "weight_kg": "9"})
    page.goto(f"{server.url}/scan/#/dismantle")
    page.wait_for_selector(".screen[data-step=dismantle]")
    wedge_scan(page, qr_id)
    page.wait_for_selector(".output.required[data-fraction=ccfl_backlight]")
    required = page.eval_on_selector_all(
        ".output.required", "els => els.map(e => e.dataset.fraction)"
    )
    assert sorted(required) == ["ccfl_backlight", "lcd_panel", "pcb"]
    lamps = page.inner_text(".output[data-fraction=ccfl_backlight] label")
    assert "HW29 900-023-29" in lamps
    context.close()


def test_a_desktop_says_whether_its_display_came_and_which(
    server: LiveServer, browser: Any
) -> None:
    collector = server.actor(org("COL"), "collector")
    context = phone_context(browser, "en-US")
    page = context.new_page()
    open_scanner(page, server.url, collector.username, "collect")
    page.check("#mint")
    page.select_option("select[name=category]", "microcomputer")
    page.select_option("select[name=attr_form]", "desktop")
    assert visible(page, "with_display") and not visible(page, "display")
    page.select_option("select[name=attr_with_display]", "true")
    assert visible(page, "display")
    page.select_option("select[name=attr_display]", "crt")
    assert not visible(page, "backlight")
    page.select_option("select[name=attr_with_display]", "false")  # it came alone after all
    assert not visible(page, "display")
    submit(page)
    host = minted(page)
    assert Handheld(server.client(), collector).device(host)["attributes"] == {
        "form": "desktop",
        "with_display": False,
    }
    page.check("#mint")
    page.select_option("select[name=category]", "microcomputer")
    page.select_option("select[name=attr_form]", "desktop")
    page.select_option("select[name=attr_with_display]", "true")
    page.click("button.submit")  # the display's type is asked once it came
    assert page.inner_text(".screen[data-step=collect] .form-error") == "Enter “Display”."
    context.close()
