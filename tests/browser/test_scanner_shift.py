"""Shift work on the handheld (issue 19, "Shift work"): this shift's records with undo,
the home screen's scan box and camera button, the camera's continuous mode and torch.

On a 390×844 phone against the served app. An undo is what the server allows: a
record not yet sent leaves the queue and never reaches the server; a sent one
stays on the log and is undone by a ``corrected`` event changing a field the
correction rules allow (custody/corrections.py); where none applies the screen
says so instead of offering an undo.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, col, select

from tests.support.accounts import PASSWORD, Actor
from tests.support.browser import (
    FEEDBACK_PROBE,
    TALL_PHONE,
    go_to_step,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    wedge_scan,
)
from tests.support.floor import receive
from tests.support.live import LiveServer
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.labels.ids import format_id

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


# -- quick user switch ------------------------------------------------------------


def sign_in_over(page: Any, base_url: str, username: str) -> None:
    """A full sign-in on /login while someone else is signed in on the phone."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("#app[data-ready=true]")
    assert username in page.inner_text("header .who")


def set_pin(page: Any, base_url: str, pin: str) -> None:
    go_to_step(page, base_url, "switch")
    page.fill("input[name=pin]", pin)
    page.fill("input[name=pin_again]", pin)
    page.click("form.set-pin button.submit")
    page.wait_for_selector(".my-pin[data-set=true]")


def switch_to(page: Any, base_url: str, username: str, pin: str) -> None:
    go_to_step(page, base_url, "switch")
    page.click(f"button.switch-user[data-user='{username}']")
    page.fill("input[name=switch_pin]", pin)
    page.click("form.switch-form button.submit")


def test_a_pin_switches_users_and_each_record_stays_its_recorders(
    server: LiveServer, browser: Any
) -> None:
    _, alice, devices = plant(server, 2)
    bob = server.actor(alice.org, "dismantler")
    context = phone_context(browser, "zh-CN", size=TALL_PHONE)
    page = context.new_page()
    bodies: list[str] = []
    context.on("request", lambda r: r.method == "POST" and bodies.append(r.post_data or ""))
    try:
        open_scanner(page, server.url, alice.username)
        set_pin(page, server.url, "2468")
        screenshot(page, "pin-set-zh-CN")
        # Alice records while the server takes no records: hers waits in the queue.
        api = re.compile(rf"^{re.escape(server.url)}/api/v1/events")
        context.route(api, lambda route: route.abort("connectionrefused"))
        go_to_step(page, server.url, "store")
        store(page, devices[0], "A-01")
        page.wait_for_selector('#status[data-pending="1"]')

        # Bob takes the phone with his password and sets his own PIN.
        sign_in_over(page, server.url, bob.username)
        assert page.get_attribute("#status", "data-held") == "1"  # Alice's, held for her
        set_pin(page, server.url, "1357")
        context.unroute(api)
        go_to_step(page, server.url, "store")
        store(page, devices[1], "B-01")
        page.wait_for_selector('#status[data-pending="0"][data-held="1"]', timeout=15_000)

        # A wrong PIN: said, and the phone stays Bob's.
        switch_to(page, server.url, alice.username, "1111")
        page.wait_for_selector("form.switch-form .form-error:not(:empty)")
        assert "快速密码错误" in page.inner_text("form.switch-form .form-error")
        screenshot(page, "pin-switch-wrong-zh-CN")
        assert bob.username in page.inner_text("header .who")
        # Alice's PIN: the phone is hers, and her record goes out, as hers, once.
        switch_to(page, server.url, alice.username, "2468")
        page.wait_for_function(
            "name => document.querySelector('header .who')?.textContent.includes(name)",
            arg=alice.username,
        )
        page.wait_for_selector("#app[data-ready=true]")
        page.wait_for_selector('#status[data-pending="0"][data-held="0"]', timeout=15_000)
        assert [e.actor for e in events(server, "stored", [devices[0]])] == [alice.username]
        assert [e.actor for e in events(server, "stored", [devices[1]])] == [bob.username]
        # And back to Bob with his.
        switch_to(page, server.url, bob.username, "1357")
        page.wait_for_function(
            "name => document.querySelector('header .who')?.textContent.includes(name)",
            arg=bob.username,
        )
        # No PIN ever left the phone in clear.
        assert bodies and not any(pin in body for body in bodies for pin in ("2468", "1357"))
        stored = page.evaluate("localStorage.getItem('pin.users')")
        assert "2468" not in stored and "1357" not in stored

        # Five wrong PINs in a row: the phone forgets Alice's PIN (her password now).
        for n in range(1, 5):
            switch_to(page, server.url, alice.username, f"900{n}")
            page.wait_for_function(
                "n => document.querySelector('form.switch-form .form-error')"
                "?.textContent.includes(`第 ${n} 次`)",
                arg=n,
            )
        switch_to(page, server.url, alice.username, "9005")
        page.wait_for_selector(".switch-notice")
        assert "本手机已删除" in page.inner_text(".switch-notice")
        assert page.is_visible(".no-others")
        assert alice.username not in page.evaluate("localStorage.getItem('pin.users')")
        # Bob signs out: his PIN ends with his session.
        page.click(".topbar .logout button")
        page.wait_for_selector(".signed-out-screen")
        assert page.evaluate("localStorage.getItem('pin.users')") == "{}"
    finally:
        context.close()
