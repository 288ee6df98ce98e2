"""An id the server already holds for other content is shown as refused, never as sent."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.browser import open_scanner, phone_context, queued_items, wedge_scan
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer


def test_a_conflicting_id_stays_in_the_queue_as_refused(server: LiveServer, browser: Any) -> None:
    suffix = uuid.uuid4().hex[:5].upper()
    collector = server.actor(f"COL-{suffix}", "collector")
    plant = server.actor(f"DIS-{suffix}", "dismantler")
    client = server.client()
    qr_id = receive(client, collector, plant)
    context = phone_context(browser, "en")
    page = context.new_page()
    open_scanner(page, server.url, plant.username, "store")

    def taken_meanwhile(route: Any) -> None:
        # Before the handheld's step arrives, its id is recorded with other content
        # (a second handheld that reused it, a restored backup of the queue).
        [event] = json.loads(route.request.post_data)["events"]
        [result] = Handheld(client, plant).post({**event, "area": "A-01"})
        assert result["status"] == "created", result
        route.continue_()

    page.route(f"{server.url}/api/v1/events", taken_meanwhile)
    wedge_scan(page, qr_id)
    page.fill("input[name=area]", "C-02")
    page.click("button.submit")

    page.wait_for_selector('#status[data-rejected="1"]', timeout=20_000)
    [item] = queued_items(page)
    assert item["status"] == "rejected"
    assert item["error"]["code"] == "id_conflict"
    page.click("#status")  # the queue screen lists it as refused, with the reason
    page.wait_for_selector(".queue-item.rejected")
    assert "conflicts with an earlier record" in page.inner_text(".queue-item.rejected")
    context.close()
    assert Handheld(client, plant).device(qr_id)["storage_area"] == "A-01"
