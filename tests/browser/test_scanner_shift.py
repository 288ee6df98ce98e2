"""Shift work on the handheld (issue 19, "Shift work"): this shift's records with undo,
the home screen's scan box and camera button, the camera's continuous mode and torch.

On a 390×844 phone against the served app. An undo is what the server allows: a
record not yet sent leaves the queue and never reaches the server; a sent one
stays on the log and is undone by a ``corrected`` event changing a field the
correction rules allow (custody/corrections.py); where none applies the screen
says so instead of offering an undo.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, col, select

from tests.support.accounts import Actor
from tests.support.browser import (
    FEEDBACK_PROBE,
    TALL_PHONE,
    chromium,
    go_to_step,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    submit,
    wedge_scan,
    write_y4m,
)
from tests.support.floor import receive
from tests.support.live import LiveServer
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.labels.ids import format_id
from traceability.labels.render import device_url, label_png

GOOD = {"tone": 1320}
ERROR = {"tone": 330}


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


def plant(server: LiveServer, count: int) -> tuple[Actor, Actor, list[str]]:
    """A collector, a plant and ``count`` devices received there (to store)."""
    collector = server.actor(code("COL"), "collector")
    operator = server.actor(code("DIS"), "dismantler")
    client = server.client()
    return collector, operator, [receive(client, collector, operator) for _ in range(count)]


def events(server: LiveServer, event_type: str, devices: list[str]) -> list[Event]:
    with Session(trace_of(server.app).engine) as session:
        return list(
            session.exec(
                select(Event).where(Event.type == event_type, col(Event.device).in_(devices))
            ).all()
        )


def store(page: Any, qr_id: str, area: str) -> None:
    """A storage step recorded on the store screen (queued; sent when it can be)."""
    before = int(page.get_attribute("#app", "data-recorded") or 0)
    wedge_scan(page, qr_id)
    page.wait_for_selector(".device-card h2")
    page.fill("input[name=area]", area)
    page.click("button.submit")
    page.wait_for_function(
        "n => Number(document.getElementById('app').dataset.recorded) > n", arg=before, polling=50
    )


@pytest.fixture(params=["zh-CN", "en-US"])
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = phone_context(browser, request.param, size=TALL_PHONE)
    context.add_init_script(FEEDBACK_PROBE)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_shifts_history_undoes_a_queued_record_and_corrects_a_sent_one(
    server: LiveServer, phone: Any
) -> None:
    page = phone
    lang = "zh-CN" if page.evaluate("navigator.language") == "zh-CN" else "en"
    _, operator, (sent_one, queued_one) = plant(server, 2)
    open_scanner(page, server.url, operator.username, "store")
    store(page, sent_one, "B-07")
    page.wait_for_selector('#status[data-pending="0"]')

    # The server cannot be reached: the next record waits in the queue.
    context = page.context
    api = re.compile(rf"^{re.escape(server.url)}/api/v1/events")
    context.route(api, lambda route: route.abort("connectionrefused"))
    store(page, queued_one, "B-08")
    page.wait_for_selector('#status[data-pending="1"]')

    go_to_step(page, server.url, "history")
    rows = page.locator(".history-item")
    page.wait_for_selector(".history-item >> nth=1")
    assert rows.count() == 2
    # Newest first, each with its status.
    assert rows.nth(0).get_attribute("data-status") == "pending"
    assert rows.nth(1).get_attribute("data-status") == "sent"
    assert format_id(queued_one) in rows.nth(0).inner_text()
    assert format_id(sent_one) in rows.nth(1).inner_text()
    screenshot(page, f"history-{lang}")

    # Undo the queued one: it leaves the queue; nothing of it ever reaches the server.
    page.once("dialog", lambda dialog: dialog.accept())
    rows.nth(0).locator("button.undo").click()
    page.wait_for_selector(".history-item[data-status=removed]")
    assert queued_items(page) == []
    assert page.get_attribute("#status", "data-pending") == "0"
    context.unroute(api)

    # Undo the sent one: a correction of the field the rules allow (a stored step's area).
    sent_row = page.locator(".history-item[data-status=sent][data-type=stored]")
    sent_row.locator("button.correct").click()
    form = sent_row.locator("form.correct-form")
    assert form.locator("select[name=field]").input_value() == "area"
    assert form.locator("input[name=value]").input_value() == "B-07"  # what was sent
    form.locator("button.submit").click()  # no reason: refused on the screen
    assert form.locator(".form-error").inner_text().strip() != ""
    form.locator("input[name=value]").fill("B-09")
    form.locator("input[name=reason]").fill("wrong shelf")
    form.locator("button.submit").click()
    page.wait_for_selector(".history-item[data-type=corrected][data-status=sent]", timeout=15_000)
    # A sent correction says it cannot itself be undone (the server refuses that).
    corrected_row = page.locator(".history-item[data-type=corrected]")
    assert corrected_row.locator("button.undo").count() == 0
    assert corrected_row.locator(".no-undo").inner_text().strip() != ""
    screenshot(page, f"history-undone-{lang}")

    # The server: the queued record never arrived; the sent one stands, corrected.
    assert events(server, "stored", [queued_one]) == []
    [stored] = events(server, "stored", [sent_one])
    [correction] = events(server, "corrected", [sent_one])
    assert correction.payload["corrects"] == stored.id
    assert correction.payload["fields"] == {"area": "B-09"}
    assert correction.actor == operator.username

