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

from tests.support.accounts import PASSWORD, Actor
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



# -- home screen and camera ---------------------------------------------------------

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")

#: A camera track with a torch (Chromium's fake camera has none): its capabilities
#: list one and each torch constraint applied is recorded in window.__torch.
TORCH_PROBE = """
window.__torch = [];
const capabilities = MediaStreamTrack.prototype.getCapabilities;
MediaStreamTrack.prototype.getCapabilities = function () {
  return { ...capabilities.call(this), torch: true };
};
MediaStreamTrack.prototype.applyConstraints = function (constraints) {
  window.__torch.push(constraints.advanced[0].torch);
  return Promise.resolve();
};
"""


@pytest.fixture(scope="module")
def labelled(server: LiveServer) -> tuple[Actor, str]:
    collector = server.actor(code("COL"), "collector")
    from tests.support.floor import Handheld

    return collector, Handheld(server.client(), collector).collect()


@pytest.fixture(scope="module")
def camera_browser(
    server: LiveServer, labelled: tuple[Actor, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """Chromium whose fake camera films the device's printed label on a grey case."""
    _, qr_id = labelled
    label = Image.open(
        io.BytesIO(label_png(device_url(server.url, qr_id), format_id(qr_id), box_size=6))
    )
    frame = Image.new("RGB", (640, 480), (128, 132, 128))
    frame.paste(label.convert("RGB"), ((640 - label.width) // 2, (480 - label.height) // 2))
    video = write_y4m(tmp_path_factory.mktemp("camera") / "label.y4m", frame)
    with chromium(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video.resolve()}") as b:
        yield b


def camera_phone(browser: Any, server: LiveServer, lang: str, *scripts: str) -> Any:
    context = phone_context(browser, lang, size=TALL_PHONE)
    context.grant_permissions(["camera"], origin=server.url)
    for script in (FEEDBACK_PROBE, *scripts):
        context.add_init_script(script)
    return context


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_the_home_screen_takes_a_typed_id_and_opens_its_step(
    server: LiveServer, labelled: tuple[Actor, str], camera_browser: Any, lang: str
) -> None:
    collector, qr_id = labelled
    context = camera_phone(camera_browser, server, lang)
    page = context.new_page()
    try:
        open_scanner(page, server.url, collector.username)
        assert page.is_visible(".home .scan-box #scan-input")
        assert page.is_visible(".home .scan-box button.camera-button")
        screenshot(page, f"home-{lang}")
        page.fill("#scan-input", "not-an-id")  # typed garbage: the error, no step opens
        page.press("#scan-input", "Enter")
        page.wait_for_selector(".home-message:not([hidden])")
        assert page.get_attribute("#app", "data-bad-reads") == "1"
        page.fill("#scan-input", format_id(qr_id).lower())
        page.press("#scan-input", "Enter")
        page.wait_for_selector(".screen[data-step=ship] .device-card [data-state=collected]")
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_continuous_camera_keeps_scanning_and_confirms_each_read(
    server: LiveServer, labelled: tuple[Actor, str], camera_browser: Any, lang: str
) -> None:
    collector, qr_id = labelled
    context = camera_phone(camera_browser, server, lang)
    page = context.new_page()
    try:
        open_scanner(page, server.url, collector.username, "ship")
        # Chosen on an earlier shift (the choice is kept on the phone).
        page.evaluate("localStorage.setItem('scan.camera.continuous', '1')")
        page.reload()
        page.wait_for_selector("#app[data-ready=true]")
        page.click("button.camera-button")
        page.wait_for_function(
            "() => Number(document.querySelector('.camera-reads').dataset.count || 0) >= 1",
            timeout=20_000,
            polling=100,
        )
        assert page.is_checked("#camera-continuous")
        # The camera stays open; the read is on the screen behind it and confirmed.
        assert page.is_visible(".camera-layer")
        assert page.input_value("#scan-input") == format_id(qr_id)
        assert page.get_attribute(".camera-reads li", "data-read") == format_id(qr_id)
        assert page.get_attribute(".camera-reads li", "class") == "good"
        assert GOOD in page.evaluate("window.__feedback")
        # The label stays in view: it is not read twice.
        page.wait_for_timeout(1200)
        assert page.get_attribute(".camera-reads", "data-count") == "1"
        # Chromium's fake camera has no torch: no torch button.
        assert page.is_hidden(".camera-torch")
        screenshot(page, f"camera-continuous-{lang}")
        # One read at a time again: the camera closes after its read.
        page.uncheck("#camera-continuous")
        assert page.evaluate("localStorage.getItem('scan.camera.continuous')") == "0"
        page.click(".camera-close")
        page.fill("#scan-input", "")
        page.click("button.camera-button")
        page.wait_for_selector(".camera-layer", state="hidden", timeout=20_000)
        assert page.input_value("#scan-input") == format_id(qr_id)
    finally:
        context.close()


def test_the_torch_is_offered_where_the_track_has_one(
    server: LiveServer, labelled: tuple[Actor, str], camera_browser: Any
) -> None:
    collector, _ = labelled
    context = camera_phone(camera_browser, server, "zh-CN", TORCH_PROBE)
    page = context.new_page()
    try:
        open_scanner(page, server.url, collector.username, "ship")
        # Continuous: the camera stays open after it reads the label in view.
        page.evaluate("localStorage.setItem('scan.camera.continuous', '1')")
        page.reload()
        page.wait_for_selector("#app[data-ready=true]")
        assert page.is_visible(".screen[data-step=ship]")
        page.click("button.camera-button")
        page.wait_for_selector(".camera-torch:not([hidden])", timeout=20_000)
        page.click(".camera-torch")
        page.wait_for_selector(".camera-torch[aria-pressed=true]")
        page.click(".camera-torch")
        page.wait_for_selector(".camera-torch[aria-pressed=false]")
        assert page.evaluate("window.__torch") == [True, False]
    finally:
        context.close()


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
        go_to_step(page, server.url, "store")
        store(page, devices[1], "B-01")
        context.unroute(api)
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
