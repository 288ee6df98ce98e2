"""One handheld, several people: a queued record is only ever sent as its recorder.

Issue 15 finding 7 (SPEC §4.4): the scanner re-sent user A's offline queue
under user B's session after a CSRF retry. Here A records while the server
cannot take the records, signs out (online or not), B signs in on the same
phone — A's records are held, visible, never sent as B — and A, signing in
again, sends each exactly once.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.support.accounts import PASSWORD, Actor
from tests.support.browser import (
    FEEDBACK_PROBE,
    TALL_PHONE,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    wedge_scan,
)
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


def plant_with_two_operators(server: LiveServer, count: int) -> tuple[Actor, Actor, list[str]]:
    """Operators A and B of one plant, and ``count`` devices received there (to store)."""
    collector = server.actor(code("COL"), "collector")
    alice = server.actor(code("DIS"), "dismantler")
    bob = server.actor(alice.org, "dismantler")
    client = server.client()
    return alice, bob, [receive(client, collector, alice) for _ in range(count)]


def controlled(page: Any) -> None:
    """The service worker has precached the app and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)


def store(page: Any, qr_id: str) -> None:
    """Record a storage step on the store screen (queued; sent when it can be)."""
    before = int(page.get_attribute("#app", "data-recorded") or 0)
    wedge_scan(page, qr_id)
    page.fill("input[name=area]", "B-07")
    page.click("button.submit")
    page.wait_for_function(
        "n => Number(document.getElementById('app').dataset.recorded) > n", arg=before, polling=50
    )


def stored_by(server: LiveServer, reader: Actor, qr_id: str) -> list[str]:
    """Who recorded each storage step the server has for the device."""
    events = Handheld(server.client(), reader).device(qr_id)["events"]
    return [e["actor"] for e in events if e["type"] == "stored"]


def sign_in_over(page: Any, base_url: str, username: str) -> None:
    """Sign in on /login while someone is signed in (its header has their sign-out button)."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_load_state()
    assert username in page.inner_text("header .who")


def sign_out(page: Any) -> None:
    page.click(".topbar .logout button")
    page.wait_for_selector(".signed-out-screen")


def test_a_signed_out_users_queue_is_held_for_them_and_sent_once_when_they_return(
    server: LiveServer, browser: Any
) -> None:
    alice, bob, devices = plant_with_two_operators(server, 3)
    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, alice.username, "store")
    controlled(page)
    # The server takes no records (the rest of the site answers).
    events = re.compile(rf"^{re.escape(server.url)}/api/v1/events")
    context.route(events, lambda route: route.abort("connectionrefused"))
    for qr_id in devices:
        store(page, qr_id)
    page.wait_for_selector('#status[data-pending="3"]')

    sign_out(page)
    text = page.inner_text(".signed-out-screen")
    assert f"{alice.username} 有 3 条记录尚未发送" in text
    assert page.locator(".topbar .who").count() == 0
    screenshot(page, "signed-out-three-unsent-zh")
    context.unroute(events)

    # B signs in on the same phone: A's records are held, shown, not sent.
    posted: list[Any] = []
    page.on("request", lambda r: r.method == "POST" and events.match(r.url) and posted.append(r))
    open_scanner(page, server.url, bob.username)
    page.goto(f"{server.url}/scan/#/queue")
    page.wait_for_selector(".queue-item.held >> nth=2")
    held = page.locator(".queue-item.held")
    assert {held.nth(i).get_attribute("data-recorder") for i in range(3)} == {alice.username}
    assert f"暂存：由 {alice.username} 记录" in held.first.inner_text()
    assert page.get_attribute("#status", "data-held") == "3"
    assert page.get_attribute("#status", "data-pending") == "0"
    page.click("button.primary")  # "Send now"
    page.wait_for_timeout(1000)
    assert posted == []  # not even tried: the server would refuse them (test_recorder)
    screenshot(page, "queue-held-for-another-user-zh")
    assert [stored_by(server, alice, qr_id) for qr_id in devices] == [[]] * len(devices)
    assert len(queued_items(page)) == 3

    # B signs out (nothing of B's waits); A signs in: each record goes out once, as A.
    sign_out(page)
    assert "没有待发送的记录" in page.inner_text(".signed-out-screen")
    open_scanner(page, server.url, alice.username)
    page.wait_for_selector('#status[data-pending="0"][data-held="0"]', timeout=30_000)
    assert queued_items(page) == []
    context.close()
    assert [stored_by(server, alice, qr_id) for qr_id in devices] == [[alice.username]] * 3


def test_signing_out_offline_ends_the_session_once_online_and_scan_opens_signed_out(
    server: LiveServer, browser: Any
) -> None:
    alice, _, [qr_id] = plant_with_two_operators(server, 1)
    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, alice.username, "store")
    controlled(page)
    everything = re.compile(rf"^{re.escape(server.url)}/")
    context.route(everything, lambda route: route.abort("internetdisconnected"))
    store(page, qr_id)
    page.wait_for_selector('#status[data-pending="1"]')

    sign_out(page)
    assert page.get_attribute("#app", "data-signed-out") == "pending"
    assert f"{alice.username} 有 1 条记录尚未发送" in page.inner_text(".signed-out-screen")
    assert "无网络" in page.inner_text(".signed-out-screen")

    # Offline, /scan/ opens on the sign-in screen, not on A's cached app.
    page.goto(f"{server.url}/scan/")
    page.wait_for_selector("#sign-in[data-ready=true]")
    assert page.locator("#app").count() == 0
    assert alice.username not in page.inner_text("header")
    assert f"{alice.username} 有 1 条记录尚未发送" in page.inner_text("#held-on-phone")
    page.fill("#username", alice.username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#sign-in-problem:not([hidden])")
    assert "无网络" in page.inner_text("#sign-in-problem")
    screenshot(page, "sign-in-offline-zh")

    # Back online: the sign-out reaches the server before any page of the app.
    context.unroute(everything)
    page.goto(f"{server.url}/scan/")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.request.get(f"{server.url}/scan/context.json").status == 401
    assert [i["status"] for i in queued_items(page)] == ["pending"]
    assert stored_by(server, alice, qr_id) == []

    # A signs in on the sign-in screen: the record goes out once, as A.
    page.goto(f"{server.url}/scan/sign-in")
    page.fill("#username", alice.username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#app[data-ready=true]")
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert queued_items(page) == []
    context.close()
    assert stored_by(server, alice, qr_id) == [alice.username]


def test_a_page_left_open_never_sends_its_users_queue_as_whoever_signed_in_since(
    server: LiveServer, browser: Any
) -> None:
    """The CSRF retry: A's page meets B's session (signed in in another tab) when it syncs."""
    alice, bob, devices = plant_with_two_operators(server, 2)
    context = phone_context(browser, "zh-CN")
    page = context.new_page()
    open_scanner(page, server.url, alice.username, "store")
    events = re.compile(rf"^{re.escape(server.url)}/api/v1/events")
    context.route(events, lambda route: route.abort("connectionrefused"))
    for qr_id in devices:
        store(page, qr_id)
    page.wait_for_selector('#status[data-pending="2"]')

    other_tab = context.new_page()
    sign_in_over(other_tab, server.url, bob.username)  # the cookie is now B's
    context.unroute(events)
    # A's page syncs: its CSRF token fails under B's cookie; a fresh one is
    # B's, so nothing of A's goes out and the page becomes B's.
    with page.expect_response(re.compile(r"/scan/context\.json")):
        page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(1500)  # time for a retry to reach the server
    assert [stored_by(server, alice, qr_id) for qr_id in devices] == [[]] * len(devices)
    page.wait_for_selector(f'#app[data-user="{bob.username}"][data-ready=true]', timeout=15_000)
    page.goto(f"{server.url}/scan/#/queue")
    page.wait_for_selector(".queue-item.held >> nth=1")
    page.wait_for_timeout(500)
    assert [stored_by(server, alice, qr_id) for qr_id in devices] == [[]] * len(devices)
    assert {i["user"] for i in queued_items(page)} == {alice.username}

    sign_in_over(other_tab, server.url, alice.username)
    page.close()
    other_tab.goto(f"{server.url}/scan/")
    other_tab.wait_for_selector("#app[data-ready=true]")
    other_tab.wait_for_selector('#status[data-pending="0"][data-held="0"]', timeout=30_000)
    context.close()
    assert [stored_by(server, alice, qr_id) for qr_id in devices] == [[alice.username]] * 2


def beeps(page: Any) -> list[tuple[float, float]]:
    """Each tone the page played since the last call: (frequency, volume)."""
    played = page.evaluate(
        "() => { const f = window.__feedback.filter((x) => 'tone' in x).map((x) => x.tone);"
        " const g = window.__gains; const out = f.map((t, i) => [t, g[i]]);"
        " window.__feedback = []; window.__gains = []; return out; }"
    )
    return [(float(t), float(g)) for t, g in played]


def test_the_beep_volume_is_the_phones_setting_and_outlives_a_sign_out(
    server: LiveServer, browser: Any
) -> None:
    """A dock is loud: the home screen sets the beep volume (quiet, normal, loud), each
    tap plays the good beep at its level, every later beep — an error too — follows it, and
    it is the phone's setting: still there after a reload and after the next user signs in."""
    org = f"DIS-{uuid.uuid4().hex[:5].upper()}"
    first, second = server.actor(org, "dismantler"), server.actor(org, "dismantler")
    page = phone_context(browser, "zh-CN", size=TALL_PHONE).new_page()
    page.add_init_script(FEEDBACK_PROBE)
    try:
        open_scanner(page, server.url, first.username)
        group = page.locator(".volume-setting")
        assert group.get_attribute("aria-label") == "提示音量"
        levels = {b.get_attribute("data-volume"): b for b in group.locator("button").all()}
        assert list(levels) == ["quiet", "normal", "loud"]
        assert [b.inner_text() for b in levels.values()] == ["小", "中", "大"]
        assert levels["normal"].get_attribute("aria-pressed") == "true"  # the default
        beeps(page)
        levels["quiet"].click()
        levels["loud"].click()
        [(_, quiet), (_, loud)] = beeps(page)
        assert 0 < quiet < loud == 1.0
        pressed = page.locator(".volume-setting [aria-pressed=true]")
        assert pressed.get_attribute("data-volume") == "loud"
        screenshot(page, "scanner-volume-zh-CN")

        wedge_scan(page, "NOT-A-DEVICE-ID")  # an error beep, at the phone's volume
        page.wait_for_function("() => window.__gains.length > 0")
        assert {volume for _, volume in beeps(page)} == {1.0}

        page.reload()
        page.wait_for_selector("#app[data-ready=true]")
        assert pressed.get_attribute("data-volume") == "loud"
        sign_out(page)
        sign_in_over(page, server.url, second.username)
        page.goto(f"{server.url}/scan/")
        page.wait_for_selector("#app[data-ready=true]")
        assert pressed.get_attribute("data-volume") == "loud"
    finally:
        page.context.close()
