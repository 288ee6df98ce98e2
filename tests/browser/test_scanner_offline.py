"""Offline first: ten steps recorded while the server is unreachable survive a reload."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.support.browser import open_scanner, phone_context, queued_items, screenshot, wedge_scan
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer


def test_ten_steps_queued_offline_arrive_exactly_once_after_a_reload(
    server: LiveServer, browser: Any
) -> None:
    suffix = uuid.uuid4().hex[:5].upper()
    collector = server.actor(f"COL-{suffix}", "collector")
    plant = server.actor(f"DIS-{suffix}", "dismantler")
    client = server.client()
    devices = [receive(client, collector, plant) for _ in range(10)]

    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "store")
    # The service worker has precached the app and controls the page.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)

    # The server becomes unreachable — for the page and its service worker
    # alike (context routes cover both; Playwright's offline mode does not).
    unreachable = re.compile(rf"^{re.escape(server.url)}/")
    context.route(unreachable, lambda route: route.abort("internetdisconnected"))
    for qr_id in devices:
        before = int(page.get_attribute("#app", "data-recorded") or 0)
        wedge_scan(page, qr_id)
        page.fill("input[name=area]", "B-07")
        page.click("button.submit")
        page.wait_for_function(
            "n => Number(document.getElementById('app').dataset.recorded) > n",
            arg=before,
            polling=50,
        )
    page.wait_for_selector('#status[data-pending="10"].offline')
    screenshot(page, "offline-ten-waiting-zh")

    page.reload()
    page.wait_for_selector("#app[data-ready=true]")
    queued = queued_items(page)
    assert sorted(i["event"]["qr_id"] for i in queued) == sorted(devices)
    assert {i["status"] for i in queued} == {"pending"}
    page.wait_for_selector('#status[data-pending="10"]')

    context.unroute(unreachable)
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert queued_items(page) == []
    context.close()

    for qr_id in devices:
        stored = [
            e for e in Handheld(client, plant).device(qr_id)["events"] if e["type"] == "stored"
        ]
        assert len(stored) == 1, qr_id
        assert stored[0]["payload"]["area"] == "B-07"
    # Sending the very same events again (a retry after a lost answer) changes nothing.
    results = Handheld(client, plant).post(*(i["event"] for i in queued))
    assert {r["status"] for r in results} == {"duplicate"}
    for qr_id in devices:
        assert [e["type"] for e in Handheld(client, plant).device(qr_id)["events"]].count(
            "stored"
        ) == 1
