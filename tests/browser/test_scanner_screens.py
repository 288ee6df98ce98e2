"""Every step screen, in both languages: a wedge scanner's burst is caught, and screenshots.

The screenshots (tests/artifacts/screens/scan-*.png) are for people to look
at; the assertions are about what a burst does on each screen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.accounts import Actor
from tests.support.browser import open_scanner, phone_context, screenshot, wedge_scan
from tests.support.floor import OUTPUTS, Handheld, premint, receive
from tests.support.live import LiveServer
from tests.support.manifests import lot_receipt, lot_shipment
from traceability.labels.ids import format_id
from traceability.web.scanner import FLOOR_KINDS

# Mirrors static/src/scan/steps.js STEPS_BY_KIND: the test fails if a kind's screen is missing.
STEPS = {
    "collector": ["collect", "ship", "correct"],
    "dismantler": [
        "collect", "receive", "refuse", "store", "dismantle", "batch", "ship", "lot_ship",
        "stocktake", "correct",
    ],
    "processor": ["lot_receive", "lot_treat", "correct"],
}  # fmt: skip
#: A field that has the focus when the burst comes (it must not receive the burst).
FOCUS = {
    "collect": "input[name=weight_kg]",
    "ship": "input[name=manifest_no]",
    "refuse": "input[name=reason]",
    "store": "input[name=area]",
    "dismantle": "input[name=line]",
    "lot_ship": "input[name=number]",
    "lot_receive": "input[name=weight_kg]",
    "stocktake": "input[name=weight_kg]",
    "lot_treat": "input[name=method]",
    "correct": "input[name=value]",
}


@dataclass
class Floor:
    users: dict[str, Actor]
    scans: dict[str, str]  # step → what is scanned there


@pytest.fixture(scope="module")
def floor(server: LiveServer) -> Floor:
    suffix = uuid.uuid4().hex[:5].upper()
    collector = server.actor(f"COL-{suffix}", "collector")
    plant = server.actor(f"DIS-{suffix}", "dismantler")
    processor = server.actor(f"PRO-{suffix}", "processor")
    client = server.client()
    at_collector = Handheld(client, collector).collect()
    in_transit = Handheld(client, collector).collect()
    Handheld(client, collector).record({"type": "shipped", "qr_id": in_transit, "to": plant.org})
    received = receive(client, collector, plant)
    for_lots = receive(client, collector, plant)
    Handheld(client, plant).dismantle(for_lots, OUTPUTS)
    shipped_lot, treated_lot = f"{plant.org}-pcb-00001", f"{plant.org}-plastics-00001"
    Handheld(client, plant).record(
        {"type": "lot_shipped", "lot": shipped_lot, "to": processor.org,
         **lot_shipment(server.app, shipped_lot)},
        {"type": "lot_shipped", "lot": treated_lot, "to": processor.org,
         **lot_shipment(server.app, treated_lot)},
    )  # fmt: skip
    Handheld(client, processor).record(
        {"type": "lot_received", "lot": treated_lot, **lot_receipt(server.app, treated_lot, "3")}
    )
    Handheld(client, plant).dismantle(receive(client, collector, plant), OUTPUTS)  # opens new lots
    return Floor(
        users={"collector": collector, "dismantler": plant, "processor": processor},
        scans={
            "collect": "",  # a pre-printed label: set per kind below
            "ship": received,
            "receive": in_transit,
            "refuse": in_transit,
            "store": received,
            "dismantle": received,
            "batch": received,  # before a batch is open: refused, nothing recorded
            "correct": received,
            "lot_ship": f"{plant.org}-plastics-00002",
            "stocktake": f"{plant.org}-plastics-00002",
            "lot_receive": shipped_lot,
            "lot_treat": treated_lot,
            "collector:ship": at_collector,
            "collector:correct": at_collector,
        },
    )


def test_the_screens_cover_every_floor_kind() -> None:
    assert set(STEPS) == {str(k) for k in FLOOR_KINDS}


@pytest.fixture(params=["zh-CN", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pages(browser: Any, lang: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def new_page() -> Any:
        context = phone_context(browser, "zh-CN" if lang == "zh-CN" else "en-US")
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("kind", list(STEPS))
def test_a_wedge_burst_is_caught_on_every_step_screen(
    server: LiveServer, floor: Floor, pages: Any, lang: str, kind: str
) -> None:
    page = pages()
    user = floor.users[kind]
    open_scanner(page, server.url, user.username)
    assert page.get_attribute("html", "lang") == lang
    tiles = page.eval_on_selector_all(".tiles .tile", "els => els.map(e => e.dataset.step)")
    assert tiles == STEPS[kind]
    screenshot(page, f"scan-{kind}-home-{lang}")
    for step in STEPS[kind]:
        page.goto(f"{server.url}/scan/#/{step}")
        page.wait_for_selector(f".screen[data-step={step}]")
        scanned = floor.scans.get(f"{kind}:{step}", floor.scans[step])
        if step == "collect":
            scanned = premint_one(server, user)
        focus = FOCUS.get(step)
        if focus and page.locator(focus).count():
            page.focus(focus)
        if step == "batch":
            line = page.input_value("input[name=line]")
            page.focus("input[name=line]")
        wedge_scan(page, scanned)
        if step == "batch":  # no batch open yet: said on the screen, nothing recorded
            page.wait_for_selector(".batch-head .form-error:not(:empty)")
            assert page.input_value("input[name=line]") == line
            assert page.get_attribute("#app", "data-recorded") is None
        elif step.startswith("lot_") or step == "stocktake":
            page.wait_for_selector(f".chosen-lot[data-lot='{scanned}']")
        elif step == "receive":
            page.wait_for_selector(f".pallet-row[data-id='{scanned}'] .device-card h2")
        else:
            assert page.input_value("#scan-input") == format_id(scanned), step
            page.wait_for_selector(".device-card h2")
        if focus and page.locator(focus).count():
            assert page.input_value(focus) == "", f"the burst leaked into {focus} on {step}"
        if step == "dismantle":
            page.wait_for_selector(".output.required")
        page.wait_for_timeout(150)  # the device card's last paint
        screenshot(page, f"scan-{kind}-{step}-{lang}")
    page.goto(f"{server.url}/scan/#/queue")
    page.wait_for_selector(".screen[data-step=queue]")
    screenshot(page, f"scan-{kind}-queue-{lang}")


def premint_one(server: LiveServer, user: Actor) -> str:
    return premint(server.app, user.org)[0]


def test_a_burst_typed_through_a_chinese_input_method_is_still_a_scan(
    server: LiveServer, floor: Floor, pages: Any
) -> None:
    """With an IME on, keys arrive as 'Process' while composing: read from the physical keys."""
    page = pages()
    open_scanner(page, server.url, floor.users["dismantler"].username, "store")
    page.focus("input[name=area]")
    qr_id = floor.scans["store"]
    page.evaluate(
        """id => {
            const target = document.activeElement;
            const shifted = {"~": "Backquote", "$": "Digit4", "*": "Digit8"};
            for (const ch of id) {
                const code = shifted[ch] || (ch === "=" ? "Equal"
                    : /\\d/.test(ch) ? `Digit${ch}` : `Key${ch}`);
                target.dispatchEvent(new KeyboardEvent("keydown", {
                    key: "Process", code, keyCode: 229, isComposing: true, bubbles: true,
                    shiftKey: ch in shifted,
                }));
            }
            target.dispatchEvent(new KeyboardEvent("keydown", {
                key: "Enter", code: "Enter", bubbles: true, cancelable: true,
            }));
        }""",
        qr_id,
    )
    assert page.input_value("#scan-input") == format_id(qr_id)
    assert page.input_value("input[name=area]") == ""
