"""The floor at line speed (issue 19, "Broken today" items 1–5) on a 390×844 phone.

A keyboard-wedge scanner is simulated as keys stamped 5 ms apart and Enter
(``wedge_keys``: the phone reads the scanner's timing, not the test machine's); the
handheld's sound and vibration are recorded by ``FEEDBACK_PROBE``. Screenshots
go to tests/artifacts/screens/floor-*.png.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.accounts import Actor
from tests.support.browser import (
    FEEDBACK_PROBE,
    TALL_PHONE,
    open_scanner,
    phone_context,
    queued_items,
    screenshot,
    submit,
    wedge_keys,
)
from tests.support.floor import OUTPUTS, Handheld, premint, receive
from tests.support.live import LiveServer
from traceability.labels.ids import CHECK_ALPHABET, format_id, mint_id

WEDGE_MS = 5
ERROR_VIBRATION = [120, 80, 120]
ERROR_TONE = 330


@dataclass
class Plant:
    collector: Actor
    plant: Actor
    client: Any


@pytest.fixture
def floor(server: LiveServer) -> Plant:
    suffix = uuid.uuid4().hex[:5].upper()
    return Plant(
        collector=server.actor(f"COL-{suffix}", "collector"),
        plant=server.actor(f"DIS-{suffix}", "dismantler"),
        client=server.client(),
    )


@pytest.fixture(params=["zh-CN", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Any, lang: str) -> Iterator[Any]:
    context = phone_context(browser, "zh-CN" if lang == "zh-CN" else "en-US", size=TALL_PHONE)
    context.add_init_script(FEEDBACK_PROBE)
    try:
        yield context.new_page()
    finally:
        context.close()


def in_transit(floor: Plant) -> str:
    qr_id = Handheld(floor.client, floor.collector).collect()
    Handheld(floor.client, floor.collector).ship(qr_id, floor.plant)
    return qr_id


def wrong_check(qr_id: str) -> str:
    """The ID with another check character: what a misprinted or misread label gives."""
    other = next(c for c in CHECK_ALPHABET if c != qr_id[-1] and c not in "*~$=")
    return qr_id[:-1] + other


def feedback(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.__feedback.splice(0)")  # type: ignore[no-any-return]


def errors_given(events: list[dict[str, Any]]) -> bool:
    return {"vibrate": ERROR_VIBRATION} in events and {"tone": ERROR_TONE} in events


# -- item 1 -------------------------------------------------------------------


def test_a_wedge_read_that_is_not_a_device_id_is_an_error_and_never_lands_in_the_weight(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    qr_id = in_transit(floor)
    open_scanner(page, server.url, floor.plant.username, "receive")
    wedge_keys(page, qr_id, WEDGE_MS)
    weight = f"input[name='weight_{qr_id}']"
    page.wait_for_selector(f".pallet-row[data-id='{qr_id}'] .device-card [data-state=in_transit]")
    # The scan focused the weight; a person types part of it, at a person's pace.
    assert page.evaluate("document.activeElement.name") == f"weight_{qr_id}"
    page.keyboard.type("22.", delay=150)
    feedback(page)
    reads = {
        "wrong check character": wrong_check(qr_id),
        "EAN-13": "6901234567892",
        "damaged label": qr_id[:9],
        "garbage": "x#Q7]k!p2",
        "lower case, wrong check": wrong_check(qr_id).lower(),
    }
    for what, read in reads.items():
        wedge_keys(page, read, WEDGE_MS)
        page.wait_for_function("t => document.body.dataset.lastBadRead === t", arg=read)
        assert errors_given(feedback(page)), what
        assert page.input_value(weight) == "22.", what
        toast = page.inner_text("#toast")
        shown = read.upper() if what == "EAN-13" else read
        assert shown in toast or read in toast, (what, toast)
        if lang == "zh-CN":
            assert re.search(r"[\u4e00-\u9fff]", toast), toast
    # The same with a Chinese input method on: the keys arrive as "Process".
    page.focus(weight)
    page.evaluate(
        """read => {
            const target = document.activeElement;
            for (const ch of read) {
                target.dispatchEvent(new KeyboardEvent("keydown", {
                    key: "Process", code: `Digit${ch}`, keyCode: 229, isComposing: true,
                    bubbles: true, cancelable: true,
                }));
            }
            target.dispatchEvent(new KeyboardEvent("keydown", {
                key: "Enter", code: "Enter", bubbles: true, cancelable: true,
            }));
        }""",
        "4006381333931",
    )
    page.wait_for_function("() => document.body.dataset.lastBadRead === '4006381333931'")
    assert errors_given(feedback(page))
    assert page.input_value(weight) == "22."
    assert int(page.get_attribute("#app", "data-bad-reads") or 0) == len(reads) + 1
    assert int(page.get_attribute("#app", "data-recorded") or 0) == 0
    assert page.locator(".pallet-row").count() == 1
    assert queued_items(page) == []
    screenshot(page, f"floor-bad-read-{lang}")
    # The weight goes on where the person left it, and the pallet is received.
    page.focus(weight)
    page.keyboard.type("5", delay=150)
    submit(page)
    received = Handheld(floor.client, floor.plant).device(qr_id)
    assert received["received_weight_kg"] == 22.5


def test_a_product_barcode_is_named_as_one(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    open_scanner(page, server.url, floor.plant.username)
    wedge_keys(page, "6901234567892", WEDGE_MS)
    page.wait_for_selector(".home-message[data-reason=bad_read]")
    text = page.inner_text(".home-message")
    assert "6901234567892" in text
    assert ("EAN/UPC" in text) and (
        ("商品条码" in text) if lang == "zh-CN" else ("product" in text)
    )
    assert errors_given(feedback(page))
    assert page.evaluate("location.hash") in ("", "#/")


# -- item 2 -------------------------------------------------------------------


def test_lot_codes_are_read_in_any_case_checked_as_typed_and_printed(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    Handheld(floor.client, floor.plant).dismantle(
        receive(floor.client, floor.collector, floor.plant), OUTPUTS
    )
    lot = f"{floor.plant.org}-pcb-00001"
    open_scanner(page, server.url, floor.plant.username, "stocktake")
    box = "#scan-input"
    assert page.get_attribute(box, "autocapitalize") == "off"
    assert page.get_attribute(box, "autocorrect") == "off"
    chosen = ".chosen-lot"
    # A scanner reading the label in lower case, then in upper case.
    for read in (lot.lower(), lot.upper()):
        page.evaluate("document.querySelector('.chosen-lot').removeAttribute('data-lot')")
        wedge_keys(page, read, WEDGE_MS)
        page.wait_for_selector(f"{chosen}[data-lot='{lot}']")
        assert page.input_value(box) == lot
    # Typed by a person, in lower case: checked as it is typed, taken in the canonical case.
    page.fill(box, "")
    page.evaluate("document.querySelector('.chosen-lot').removeAttribute('data-lot')")
    page.focus(box)
    page.keyboard.type(lot.lower()[:-1], delay=30)
    assert page.get_attribute(".scan-status", "class") == "scan-status"
    page.keyboard.type(lot[-1], delay=30)
    page.wait_for_selector(".scan-status.good")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{chosen}[data-lot='{lot}']")
    # Any other text is not a lot, and a lot that is not this plant's open lot is not taken.
    page.evaluate("document.querySelector('.chosen-lot').removeAttribute('data-lot')")
    for typed in ("pallet 7", f"{floor.plant.org}-pcb-00009", "DIS-ELSE-pcb-00001"):
        page.fill(box, typed)
        page.click("button.ok-button")
        page.wait_for_selector(".scan-status.bad")
        assert page.get_attribute(chosen, "data-lot") is None, typed
    screenshot(page, f"floor-lot-refused-{lang}")
    # A scanned lot code whose plant code has digits keeps them all.
    feedback(page)
    wedge_keys(page, "dis-sz01-pcb-00007", WEDGE_MS)
    page.wait_for_function("() => document.body.dataset.lastScan === 'dis-sz01-pcb-00007'")
    assert "DIS-SZ01-pcb-00007" in page.inner_text(".scan-status")
    assert errors_given(feedback(page))
    # Each open lot's label prints from the list.
    href = page.get_attribute(f"a.lot-label[data-lot='{lot}']", "href")
    assert href == f"/scan/label/{lot}"
    page.goto(f"{server.url}{href}")
    page.wait_for_selector(f".label-sheet[data-code='{lot}'] svg")
    screenshot(page, f"floor-lot-label-{lang}")


def test_a_dismantling_that_opens_a_lot_offers_its_label(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    qr_id = receive(floor.client, floor.collector, floor.plant)
    open_scanner(page, server.url, floor.plant.username, "dismantle")
    wedge_keys(page, qr_id, WEDGE_MS)
    page.wait_for_selector(".output.required[data-fraction=pcb]")
    for fraction, kg in {
        "crt_panel_glass": "12",
        "crt_funnel_glass": "8",
        "crt_phosphor": "0.01",
        "pcb": "1.5",
    }.items():
        page.fill(f"input[name=out_{fraction}]", kg)
    submit(page)
    lot = f"{floor.plant.org}-pcb-00001"
    page.wait_for_selector(f"#new-lots .new-lot[data-lot='{lot}'] a.print-label")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"floor-new-lot-{lang}")
    assert page.locator("#new-lots .new-lot").count() == 4


def test_refusing_a_device_already_received_says_so_before_anything_is_sent(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    qr_id = receive(floor.client, floor.collector, floor.plant)
    open_scanner(page, server.url, floor.plant.username, "refuse")
    wedge_keys(page, qr_id, WEDGE_MS)
    page.wait_for_selector(".device-card [data-state=received]")
    page.fill("input[name=reason]", "错发")
    page.click("button.submit")
    message = page.inner_text(".form-error")
    assert ("已在本厂入厂" in message) if lang == "zh-CN" else ("already been received" in message)
    assert "custody" not in message and "保管" not in message
    assert int(page.get_attribute("#app", "data-recorded") or 0) == 0
    assert queued_items(page) == []
    screenshot(page, f"floor-refuse-received-{lang}")


# -- items 3 and 4 ------------------------------------------------------------


def test_a_scan_from_home_opens_the_step_the_device_allows_or_says_why_not(
    server: LiveServer, floor: Plant, phone: Any, lang: str
) -> None:
    page = phone
    at_collector = Handheld(floor.client, floor.collector).collect()
    never_issued = mint_id()
    dismantled = receive(floor.client, floor.collector, floor.plant)
    Handheld(floor.client, floor.plant).dismantle(dismantled, OUTPUTS)
    on_its_way = in_transit(floor)
    [label] = premint(server.app, floor.plant.org)
    in_store = receive(floor.client, floor.collector, floor.plant)
    open_scanner(page, server.url, floor.plant.username)

    def from_home(qr_id: str) -> None:
        page.goto(f"{server.url}/scan/#/")
        page.wait_for_selector(".screen[data-step=home]")
        feedback(page)
        wedge_keys(page, qr_id, WEDGE_MS)

    for qr_id, reason in (
        (at_collector, "not_yours"),
        (never_issued, "never_issued"),
        (dismantled, "dismantled_here"),
    ):
        from_home(qr_id)
        page.wait_for_selector(f".home-message[data-reason={reason}]")
        assert page.evaluate("location.hash") in ("", "#/"), reason
        assert format_id(qr_id) in page.inner_text(".home-message")
        assert errors_given(feedback(page)), reason
        screenshot(page, f"floor-home-{reason}-{lang}")
    # Already dismantled here: the way to a correction is offered, not taken.
    assert page.get_attribute(".home-message a", "href") == f"#/correct?id={dismantled}"

    for qr_id, step in ((label, "collect"), (in_store, "dismantle")):
        from_home(qr_id)
        page.wait_for_selector(f".screen[data-step={step}]")

    # Item 4: the first scan from home opens Receive with the weight focused;
    # what is typed next is the weight.
    from_home(on_its_way)
    page.wait_for_selector(f".pallet-row[data-id='{on_its_way}']")
    page.wait_for_function(f"() => document.activeElement?.name === 'weight_{on_its_way}'")
    page.keyboard.type("31.2", delay=120)
    assert page.input_value(f"input[name='weight_{on_its_way}']") == "31.2"
    screenshot(page, f"floor-home-receive-{lang}")
    page.keyboard.press("Enter")
    page.wait_for_function("() => Number(document.getElementById('app').dataset.settled || 0) >= 1")
    assert Handheld(floor.client, floor.plant).device(on_its_way)["received_weight_kg"] == 31.2


# -- item 5 -------------------------------------------------------------------


def collect_without_label(page: Any) -> None:
    page.check("#mint")
    page.select_option("select[name=category]", "tv")
    page.select_option("select[name=attr_display]", "crt")
    page.fill("input[name=attr_screen_in]", "21")
    page.fill("input[name=weight_kg]", "30")


def test_an_id_minted_at_collection_has_its_label_at_once_online_and_offline(
    server: LiveServer, floor: Plant, browser: Any, lang: str
) -> None:
    context = phone_context(browser, "zh-CN" if lang == "zh-CN" else "en-US", size=TALL_PHONE)
    context.add_init_script("window.__printed = 0; window.print = () => { window.__printed++; };")
    page = context.new_page()
    open_scanner(page, server.url, floor.collector.username, "collect")
    # Opening Collect fills the handheld's label roll from POST /labels, with each ID's label.
    page.wait_for_function(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("weee-scan");
            open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains("roll")) return resolve(false);
                const n = db.transaction("labels").objectStore("labels").count();
                n.onsuccess = () => resolve(n.result >= 25);
            };
        })""",
        polling=200,
    )
    collect_without_label(page)
    submit(page)
    online = page.get_attribute(".new-label", "data-id")
    assert online
    assert page.get_attribute(".new-label a.print-label", "href") == f"#/label?id={online}"
    screenshot(page, f"floor-collect-label-{lang}")
    assert Handheld(floor.client, floor.collector).device(online)["state"] == "collected"
    label_page = context.new_page()
    label_page.goto(f"{server.url}/scan/label/{online}")
    label_page.wait_for_selector(f".label-sheet[data-code='{format_id(online)}'] svg")
    screenshot(label_page, f"floor-device-label-{lang}")
    label_page.close()

    # Offline: the next device gets the roll's next ID before anything is sent.
    unreachable = re.compile(rf"^{re.escape(server.url)}/")
    context.route(unreachable, lambda route: route.abort("internetdisconnected"))
    collect_without_label(page)
    page.click("button.submit")
    page.wait_for_function(
        "old => document.querySelector('.new-label')?.dataset.id !== old",
        arg=online,
    )
    offline = page.get_attribute(".new-label", "data-id")
    [queued] = [i for i in queued_items(page) if i["status"] == "pending"]
    assert queued["event"]["qr_id"] == offline
    screenshot(page, f"floor-collect-offline-{lang}")
    # Its label prints with no network: the roll kept each ID's QR label.
    page.click(".new-label a.print-label")
    image = page.wait_for_selector(f".screen[data-step=label][data-id='{offline}'] img.label-image")
    assert image.get_attribute("data-source") == "handheld"
    assert str(image.get_attribute("src")).startswith("data:image/svg+xml")
    page.wait_for_function("() => document.querySelector('img.label-image').naturalWidth > 0")
    page.click("button.print")
    assert page.evaluate("window.__printed") == 1
    screenshot(page, f"floor-label-offline-{lang}")
    page.emulate_media(media="print")  # what the printer gets: the label alone
    assert not page.is_visible("#status") and not page.is_visible("button.print")
    assert page.is_visible("img.label-image")
    screenshot(page, f"floor-label-print-{lang}")
    page.emulate_media(media="screen")
    page.click("a.button[href='#/collect']")
    page.wait_for_selector(".screen[data-step=collect]")
    context.unroute(unreachable)
    page.wait_for_selector('#status[data-pending="0"]', timeout=30_000)
    assert Handheld(floor.client, floor.collector).device(offline)["state"] == "collected"
    context.close()
