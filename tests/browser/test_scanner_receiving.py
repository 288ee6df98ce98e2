"""Receiving against the shipment, weights from the scale (issue 19, "Build" and "Must show").

On a 390×844 phone in zh-CN (and English for the screenshots and the over/short),
against the served app. A keyboard-wedge scanner and a keyboard-wedge scale are
simulated as keys stamped 5 ms apart and Enter (``wedge_keys``: the page reads the
device's timing, not the test machine's); the page counts every key and every
pointer press it gets, so whatever a person would have to type or tap shows.
Figures (keys, taps and wall time per device) go to tests/artifacts/receiving.json.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from tests.support.accounts import Actor
from tests.support.browser import (
    ARTIFACTS,
    FEEDBACK_PROBE,
    TALL_PHONE,
    go_to_step,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    wedge_keys,
)
from tests.support.floor import Handheld, receive
from tests.support.live import LiveServer
from traceability.app import trace_of
from traceability.custody.models import Event
from traceability.labels.ids import CHECK_ALPHABET, format_id, mint_id

WEDGE_MS = 5
ERROR = ({"vibrate": [120, 80, 120]}, {"tone": 330})
WARNING = ({"vibrate": [60, 60, 60, 60, 60]}, {"tone": 740})

#: Every key and every press (pointer or touch) the page receives, whoever sends it.
INPUT_PROBE = """
window.__input = { keys: 0, taps: 0 };
addEventListener("keydown", () => { window.__input.keys += 1; }, true);
addEventListener("pointerdown", () => { window.__input.taps += 1; }, true);
"""


@dataclass
class Dock:
    collector: Actor
    plant: Actor
    client: Any


@pytest.fixture
def dock(server: LiveServer) -> Dock:
    suffix = uuid.uuid4().hex[:5].upper()
    return Dock(
        collector=server.actor(f"COL-{suffix}", "collector"),
        plant=server.actor(f"DIS-{suffix}", "dismantler"),
        client=server.client(),
    )


def phone_in(browser: Any, lang: str) -> Iterator[Any]:
    context = phone_context(browser, "zh-CN" if lang == "zh-CN" else "en-US", size=TALL_PHONE)
    context.add_init_script(FEEDBACK_PROBE)
    context.add_init_script(INPUT_PROBE)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    yield from phone_in(browser, "zh-CN")


@pytest.fixture(params=["zh-CN", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone_lang(browser: Any, lang: str) -> Iterator[Any]:
    yield from phone_in(browser, lang)


def ship(dock: Dock, n: int, manifest: str) -> list[str]:
    """n devices collected and shipped to the plant under one manifest, in that order."""
    hand = Handheld(dock.client, dock.collector)
    ids = [hand.collect(weight_kg="25") for _ in range(n)]
    hand.record(
        *(
            {"type": "shipped", "qr_id": q, "to": dock.plant.org, "manifest_no": manifest}
            for q in ids
        )
    )
    return ids


def scale_reading(index: int) -> tuple[str, str]:
    """A stable reading in one of the two formats of scales.json, and its kg."""
    kg = f"{18 + index % 9}.{(index * 7) % 100:02d}"
    if index % 2:
        return f"ST,GS,+{float(kg):07.2f}kg", kg
    return f"S S {float(kg):9.2f} kg", kg


def feedback(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.__feedback.splice(0)")  # type: ignore[no-any-return]


def gave(kind: tuple[dict[str, Any], ...], events: list[dict[str, Any]]) -> bool:
    return all(k in events for k in kind)


def inputs(page: Any) -> dict[str, int]:
    return page.evaluate("({...window.__input})")  # type: ignore[no-any-return]


def events_of(server: LiveServer, event_type: str, ids: list[str]) -> dict[str, list[Event]]:
    with Session(trace_of(server.app).engine) as session:
        rows = session.exec(
            select(Event).where(Event.type == event_type, col(Event.device).in_(ids))
        ).all()
    found: dict[str, list[Event]] = {}
    for row in rows:
        found.setdefault(row.device or "", []).append(row)
    return found


def event_count(server: LiveServer, event_type: str, ids: list[str]) -> int:
    with Session(trace_of(server.app).engine) as session:
        query = select(func.count()).where(Event.type == event_type, col(Event.device).in_(ids))
        return int(session.exec(query).one())


def scan_and_weigh(page: Any, qr_id: str, reading: str) -> int:
    """One device: its label scanned, then the scale's burst; the keys the two sent."""
    wedge_keys(page, qr_id, WEDGE_MS)
    page.wait_for_function(f"() => document.activeElement?.name === 'weight_{qr_id}'")
    wedge_keys(page, reading, WEDGE_MS)
    page.wait_for_selector(f".pallet-row[data-id='{qr_id}'][data-status=recorded]")
    return len(qr_id) + 1 + len(reading) + 1


def progress(page: Any) -> tuple[int, int]:
    bar = page.locator(".receiving .progress")
    return int(bar.get_attribute("data-done")), int(bar.get_attribute("data-total"))


def save_figures(name: str, figures: dict[str, Any]) -> None:
    path = ARTIFACTS / "receiving.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**known, name: figures}, indent=2))
    print(name, figures)


# -- the 50-device pallet -------------------------------------------------------


def test_a_pallet_of_50_is_received_by_one_scan_and_one_weighing_each(
    server: LiveServer, dock: Dock, phone: Any
) -> None:
    page = phone
    manifest = f"M-{uuid.uuid4().hex[:6].upper()}"
    devices = ship(dock, 50, manifest)
    open_scanner(page, server.url, dock.plant.username, "receive")
    key = f"{dock.collector.org}/{manifest}"
    page.wait_for_selector(f".incoming .shipment[data-key='{key}']")
    assert "50" in page.inner_text(f".shipment[data-key='{key}']")
    assert re.search(r"[\u4e00-\u9fff]", page.inner_text(".incoming-age"))
    screenshot(page, "receive-incoming-zh-CN")
    counted = {"keys": 0, "taps": 0}  # the page's counts, summed over its reloads
    start = inputs(page)

    def tally() -> None:
        nonlocal start
        now = inputs(page)
        for k in counted:
            counted[k] += now[k] - start[k]
        start = now

    sent = 0
    weights: dict[str, str] = {}
    begun = time.monotonic()
    for index, qr_id in enumerate(devices):
        reading, kg = scale_reading(index)
        sent += scan_and_weigh(page, qr_id, reading)
        weights[qr_id] = kg
        if index == 0:  # the first scan opened its shipment: no tap
            assert page.get_attribute(".receiving", "data-shipment") == key
        if index == 24:
            assert progress(page) == (25, 50)
            screenshot(page, "receive-progress-zh-CN")
            # The pallet survives a reload, and Back from another screen.
            tally()
            page.reload()
            page.wait_for_selector("#app[data-ready=true]")
            page.wait_for_selector(".screen[data-step=receive] .receiving")
            start = inputs(page)
            assert progress(page) == (25, 50)
            assert page.locator(".pallet-row[data-status=recorded]").count() == 25
            go_to_step(page, server.url, "")
            page.go_back()
            page.wait_for_selector(".screen[data-step=receive] .receiving")
            assert progress(page) == (25, 50)
            assert page.evaluate("window.__input.keys") >= start["keys"]  # the same document
    elapsed = time.monotonic() - begun
    assert progress(page) == (50, 50)
    tally()
    keys_other = counted["keys"] - sent
    taps = counted["taps"]
    # Closing the pallet: nothing over, nothing short.
    page.click(".close-pallet")
    page.wait_for_selector(".os-summary[data-short='0'][data-over='0']")
    page.click(".finish-pallet")
    page.wait_for_selector(".pallet-closed[data-done='50'][data-total='50']")
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    closing_taps = inputs(page)["taps"] - start["taps"]

    received = events_of(server, "received", devices)
    assert {q: [e.payload["weight_g"] for e in received.get(q, [])] for q in devices} == {
        q: [round(float(kg) * 1000)] for q, kg in weights.items()
    }
    figures = {
        "devices": len(devices),
        "keys_per_device_besides_scanner_and_scale": keys_other / len(devices),
        "taps_per_device": taps / len(devices),
        "taps_to_close_the_pallet": closing_taps,
        "wall_seconds_per_device": round(elapsed / len(devices), 3),
    }
    save_figures("pallet_of_50", figures)
    assert keys_other == 0 and taps == 0
    assert closing_taps == 2
    assert queued_items(page) == []


def test_the_scale_records_only_a_stable_weight_of_the_device_just_scanned(
    server: LiveServer, dock: Dock, phone: Any
) -> None:
    page = phone
    [qr_id] = ship(dock, 1, "M-SCALE")
    open_scanner(page, server.url, dock.plant.username)
    # A reading on a screen that takes no weight: a warning, not a bad barcode.
    feedback(page)
    wedge_keys(page, "ST,GS,+0022.50kg", WEDGE_MS)
    page.wait_for_function("() => document.body.dataset.lastScale === 'stable:22.5'")
    assert gave(WARNING, feedback(page))
    assert page.get_attribute("#app", "data-bad-reads") is None
    go_to_step(page, server.url, "receive")
    wedge_keys(page, "ST,GS,+0022.50kg", WEDGE_MS)  # nothing scanned yet
    page.wait_for_function("() => Number(document.getElementById('app').dataset.scaleReads) === 2")
    assert gave(WARNING, feedback(page))
    wedge_keys(page, qr_id, WEDGE_MS)
    weight = f"input[name='weight_{qr_id}']"
    page.wait_for_function(f"() => document.activeElement?.name === 'weight_{qr_id}'")
    for n, unsteady in enumerate(
        ("US,GS,+0022.46kg", "OL,GS,+9999.99kg", "S D     22.48 kg", "S +"), start=3
    ):
        feedback(page)
        wedge_keys(page, unsteady, WEDGE_MS)
        page.wait_for_function(
            "n => Number(document.getElementById('app').dataset.scaleReads) === n", arg=n
        )
        events = feedback(page)
        assert gave(WARNING, events) and not gave(ERROR, events), unsteady
        assert page.input_value(weight) == "", unsteady
        assert page.get_attribute(f".pallet-row[data-id='{qr_id}']", "data-status") == "waiting"
        if n == 3:
            screenshot(page, "receive-scale-unsteady-zh-CN")
    assert page.get_attribute("#app", "data-recorded") is None
    assert queued_items(page) == []
    wedge_keys(page, "S S     22.52 kg", WEDGE_MS)
    page.wait_for_selector(f".pallet-row[data-id='{qr_id}'][data-status=recorded]")
    assert page.input_value(weight) == "22.52"
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert [e.payload["weight_g"] for e in events_of(server, "received", [qr_id])[qr_id]] == [22520]
    # A second reading has no device to weigh: nothing more is recorded.
    feedback(page)
    wedge_keys(page, "S S     22.52 kg", WEDGE_MS)
    page.wait_for_function("() => Number(document.getElementById('app').dataset.scaleReads) === 8")
    assert gave(WARNING, feedback(page))
    assert event_count(server, "received", [qr_id]) == 1


# -- over/short ---------------------------------------------------------------------


def test_a_shipment_with_one_device_missing_and_one_extra_is_closed_over_short(
    server: LiveServer, dock: Dock, phone_lang: Any, lang: str
) -> None:
    page = phone_lang
    devices = ship(dock, 6, "M-OS-1")
    [extra] = ship(dock, 1, "M-OS-2")
    missing = devices[3]
    open_scanner(page, server.url, dock.plant.username, "receive")
    page.wait_for_selector(".incoming .shipment")
    screenshot(page, f"receive-incoming-{lang}")
    arrived = [q for q in devices if q != missing]
    for index, qr_id in enumerate(arrived[:3]):
        scan_and_weigh(page, qr_id, scale_reading(index)[0])
    # The extra: taken onto the pallet with a warning, weighed, held for the close.
    feedback(page)
    wedge_keys(page, extra, WEDGE_MS)
    page.wait_for_selector(f".pallet-row[data-id='{extra}'][data-status=over]")
    assert gave(WARNING, feedback(page))
    wedge_keys(page, "ST,GS,+0031.40kg", WEDGE_MS)
    page.wait_for_function(
        f"() => document.querySelector(\"input[name='weight_{extra}']\").value === '31.4'"
    )
    assert page.get_attribute(f".pallet-row[data-id='{extra}']", "data-status") == "over"
    for index, qr_id in enumerate(arrived[3:], start=3):
        scan_and_weigh(page, qr_id, scale_reading(index)[0])
    assert progress(page) == (5, 6)
    screenshot(page, f"receive-progress-{lang}")

    page.click(".close-pallet")
    page.wait_for_selector(".os-summary[data-short='1'][data-over='1']")
    assert page.get_attribute(".os-line.short", "data-id") == missing
    assert page.get_attribute(".os-line.over", "data-id") == extra
    assert format_id(missing) in page.inner_text(".os-line.short")
    # Every line needs its explicit action before the pallet closes.
    assert page.is_disabled(".finish-pallet")
    page.click(".os-line.short .choice-refuse")
    assert page.is_disabled(".finish-pallet")
    page.click(".os-line.over .choice-receive")
    note = page.input_value(".os-line.over .over-note")
    assert "M-OS-1" in note
    screenshot(page, f"receive-over-short-{lang}")
    # The decisions survive a reload too.
    page.reload()
    page.wait_for_selector(".over-short:not([hidden]) .os-line.over .choice-receive.chosen")
    page.click(".finish-pallet")
    page.wait_for_selector(".pallet-closed[data-short='1'][data-over='1']")
    screenshot(page, f"receive-closed-{lang}")
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)

    refused = events_of(server, "refused", [missing])[missing]
    assert len(refused) == 1 and "M-OS-1" in refused[0].payload["reason"]
    assert Handheld(dock.client, dock.collector).device(missing)["state"] == "collected"
    [taken] = events_of(server, "received", [extra])[extra]
    assert taken.payload == {"weight_g": 31400, "note": note}
    assert event_count(server, "received", arrived) == len(arrived)


# -- malformed reads ----------------------------------------------------------------


def wrong_check(qr_id: str, n: int = 0) -> str:
    others = [c for c in CHECK_ALPHABET if c != qr_id[-1] and c not in "*~$="]
    return qr_id[:-1] + others[n % len(others)]


def ime_burst(page: Any, read: str) -> None:
    """A scanner's keys with a Chinese input method on: each arrives as "Process"."""
    page.evaluate(
        """read => {
            const target = document.activeElement;
            const code = (ch) => /[0-9]/.test(ch) ? `Digit${ch}` : `Key${ch.toUpperCase()}`;
            for (const ch of read) {
                target.dispatchEvent(new KeyboardEvent("keydown", {
                    key: "Process", code: code(ch), keyCode: 229, isComposing: true,
                    bubbles: true, cancelable: true,
                }));
            }
            target.dispatchEvent(new KeyboardEvent("keydown", {
                key: "Enter", code: "Enter", bubbles: true, cancelable: true,
            }));
        }""",
        read,
    )


def test_twenty_malformed_reads_each_give_the_error_and_change_nothing(
    server: LiveServer, dock: Dock, phone: Any
) -> None:
    page = phone
    [qr_id, other] = ship(dock, 2, "M-BAD")
    open_scanner(page, server.url, dock.plant.username, "receive")
    wedge_keys(page, qr_id, WEDGE_MS)
    weight = f"input[name='weight_{qr_id}']"
    page.wait_for_function(f"() => document.activeElement?.name === 'weight_{qr_id}'")
    page.keyboard.type("22.", delay=150)  # a person starts typing the weight
    scan_box = page.input_value("#scan-input")
    reads = [
        *(("wedge", wrong_check(q, n)) for n, q in enumerate([qr_id, other, qr_id, other, qr_id])),
        *(("wedge", ean) for ean in ("6901234567892", "4006381333931", "6920152400128",
                                       "5901234123457", "9787115428028")),
        *(("wedge", junk) for junk in ("x#Q7]k!p2", "PALLET-07", "https://example.com/x/1",
                                        "ST,GS,+00ab.cdkg")),
        *(("wedge", wrong_check(q, n + 5).lower()) for n, q in enumerate([qr_id, other, qr_id])),
        *(("ime", read) for read in (wrong_check(other, 9), "6901234567892", qr_id[:10])),
    ]  # fmt: skip
    assert len(reads) == 20
    for n, (how, read) in enumerate(reads, start=1):
        feedback(page)
        page.focus(weight)
        if how == "ime":
            ime_burst(page, read)
            shown = read.upper()
        else:
            wedge_keys(page, read, WEDGE_MS)
            shown = read
        page.wait_for_function(
            "n => Number(document.getElementById('app').dataset.badReads) === n", arg=n
        )
        assert page.evaluate("document.body.dataset.lastBadRead") in (read, shown), read
        assert gave(ERROR, feedback(page)), read
        assert page.input_value(weight) == "22.", read
        assert page.input_value("#scan-input") == scan_box, read
        assert page.locator(".pallet-row").count() == 1, read
    screenshot(page, "receive-bad-reads-zh-CN")
    assert page.get_attribute("#app", "data-recorded") is None
    assert page.get_attribute("#app", "data-scale-reads") is None
    assert queued_items(page) == []
    assert event_count(server, "received", [qr_id, other]) == 0


# -- offline ------------------------------------------------------------------------


def test_the_pallet_received_offline_is_sent_exactly_once_on_reconnection(
    server: LiveServer, dock: Dock, phone: Any
) -> None:
    page = phone
    devices = ship(dock, 50, "M-OFF")
    already = receive(dock.client, dock.collector, dock.plant)  # in the kept custody list
    open_scanner(page, server.url, dock.plant.username, "receive")
    page.wait_for_selector(".incoming .shipment")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context = page.context
    unreachable = re.compile(rf"^{re.escape(server.url)}/")
    context.set_offline(True)
    context.route(unreachable, lambda route: route.abort("internetdisconnected"))
    page.wait_for_selector("#status.offline")
    for index, qr_id in enumerate(devices):
        scan_and_weigh(page, qr_id, scale_reading(index)[0])
        if index == 9:
            # Errors caught on the screen, offline: a malformed read, and a device
            # this pallet already received (a wrong state).
            # Item 1: a read that is no ID (a wrong check character, a product's
            # EAN-13) with a weight field focused gives the error and names what
            # was read; it lands in no field and records nothing.
            weight = f"input[name='weight_{qr_id}']"
            page.focus(weight)
            typed, recorded = page.input_value(weight), page.get_attribute("#app", "data-recorded")
            for n, read in enumerate([wrong_check(qr_id), "6901234567892"], start=1):
                feedback(page)
                wedge_keys(page, read, WEDGE_MS)
                page.wait_for_function(
                    "n => Number(document.getElementById('app').dataset.badReads) === n", arg=n
                )
                assert gave(ERROR, feedback(page)), read
                assert read in page.inner_text("#toast"), read
                assert page.input_value(weight) == typed, read
                assert page.get_attribute("#app", "data-recorded") == recorded, read
            wedge_keys(page, devices[3], WEDGE_MS)
            page.wait_for_function(
                "id => document.querySelector('.scan-status.bad')?.textContent.includes(id)",
                arg=format_id(devices[3]),
            )
            assert gave(ERROR, feedback(page))
            screenshot(page, "receive-offline-wrong-state-zh-CN")
            wedge_keys(page, already, WEDGE_MS)  # received here before: the kept list says so
            page.wait_for_function(
                "id => document.querySelector('.scan-status.bad')?.textContent.includes(id)",
                arg=format_id(already),
            )
            assert "已在本厂入厂" in page.inner_text(".scan-status")
            assert gave(ERROR, feedback(page))
            assert page.locator(f".pallet-row[data-id='{already}']").count() == 0
    page.wait_for_selector('#status[data-pending="50"].offline')
    assert progress(page) == (50, 50)
    assert len(queued_items(page)) == 50
    assert event_count(server, "received", devices) == 0
    # The pallet survives a reload offline.
    page.reload()
    page.wait_for_selector(".screen[data-step=receive] .receiving")
    assert progress(page) == (50, 50)

    context.unroute(unreachable)
    context.set_offline(False)
    page.wait_for_selector('#status[data-pending="0"]', timeout=60_000)
    # Once more, as if the network came and went: nothing is sent twice.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    assert queued_items(page) == []
    received = events_of(server, "received", devices)
    assert sorted(received) == sorted(devices)
    assert all(len(events) == 1 for events in received.values())
    assert event_count(server, "received", [already]) == 1


# -- check before submit, offline -----------------------------------------------------


def test_a_step_is_checked_offline_against_the_kept_custody_list(
    server: LiveServer, dock: Dock, phone_lang: Any, lang: str
) -> None:
    page = phone_lang
    held = receive(dock.client, dock.collector, dock.plant)
    [on_its_way] = ship(dock, 1, "M-CHK")
    unknown = mint_id()  # a well-formed ID this plant never held
    open_scanner(page, server.url, dock.plant.username, "store")
    page.wait_for_function(
        "u => JSON.parse(localStorage.getItem(`scan.custody.${u}`) || '{}').devices?.length === 2",
        arg=dock.plant.username,
    )
    context = page.context
    unreachable = re.compile(rf"^{re.escape(server.url)}/")
    context.set_offline(True)
    context.route(unreachable, lambda route: route.abort("internetdisconnected"))
    page.wait_for_selector("#status.offline")
    page.fill("input[name=area]", "B-07")
    for qr_id, why in ((on_its_way, "wrong state"), (unknown, "unknown")):
        feedback(page)
        wedge_keys(page, qr_id, WEDGE_MS)
        page.wait_for_selector(f".device-card[data-id='{qr_id}'][data-problem]")
        assert gave(ERROR, feedback(page)), why
        problem = page.inner_text(".card-problem")
        assert format_id(qr_id) in problem, why
        if why == "wrong state":
            assert ("运输中" in problem) if lang == "zh-CN" else ("in transit" in problem)
            screenshot(page, f"check-offline-wrong-state-{lang}")
        else:
            age = page.inner_text(".device-card .muted")
            assert re.search(r"\(UTC\+8\)", age) and re.search(r"\d", age), age
            screenshot(page, f"check-offline-unknown-{lang}")
        page.click("button.submit")  # refused on the screen, nothing queued
        page.wait_for_selector(".form-error:has-text('✗')")
        assert queued_items(page) == [], why
    wedge_keys(page, held, WEDGE_MS)
    page.wait_for_selector(f".device-card[data-id='{held}'][data-cached=true]")
    assert page.locator(".device-card [data-state=received]").count() == 1
    assert page.locator(".device-card[data-problem]").count() == 0
    assert "UTC+8" in page.inner_text(".cached-note")
    page.click("button.submit")
    page.wait_for_selector('#status[data-pending="1"]')
    [item] = queued_items(page)
    assert (item["event"]["qr_id"], item["event"]["area"]) == (held, "B-07")
    context.unroute(unreachable)
    context.set_offline(False)
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert Handheld(dock.client, dock.plant).device(held)["storage_area"] == "B-07"
    assert event_count(server, "stored", [on_its_way, held]) == 1


def test_a_pallet_of_the_plants_own_collections_closes_without_a_shipment(
    server: LiveServer, dock: Dock, phone: Any
) -> None:
    page = phone
    own = [Handheld(dock.client, dock.plant).collect() for _ in range(2)]
    open_scanner(page, server.url, dock.plant.username, "receive")
    for index, qr_id in enumerate(own):
        scan_and_weigh(page, qr_id, scale_reading(index)[0])
    assert page.locator(".receiving").count() == 0  # no shipment: nothing over or short
    page.reload()
    page.wait_for_selector(".screen[data-step=receive] .pallet-row[data-status=recorded]")
    assert page.locator(".pallet-row[data-status=recorded]").count() == 2
    page.click(".close-pallet")
    page.wait_for_selector(".os-summary[data-short='0'][data-over='0']")
    page.click(".finish-pallet")
    page.wait_for_selector(".pallet-closed")
    assert page.locator(".pallet-row").count() == 0
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert event_count(server, "received", own) == 2
    page.reload()
    page.wait_for_selector(".screen[data-step=receive]")
    assert page.locator(".pallet-row").count() == 0
