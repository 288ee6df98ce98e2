"""The audit portal in real headless Chromium, over the demo data set (laptop and tablet sizes).

An auditor sees only the plants of their region, finds a planted anomaly and
opens the device; after an event row is edited directly in the database the
device shows the tampered badge. Managers reach only their own plant,
operators nothing. Screenshots of the main pages in both languages go to
tests/artifacts/screens/portal-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.support.browser import screenshot, sign_in_page
from tests.support.live import LiveServer, live_demo
from traceability import demo
from traceability.app import trace_of
from traceability.custody.models import Event

LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 800, "height": 1100}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo quarter served, anchored and audited (``live_demo``)."""
    with live_demo(tmp_path_factory.mktemp("portal"), devices=1000) as live:
        yield live


def page_in(browser: Any, lang: str, viewport: dict[str, int] = LAPTOP) -> Any:
    context = browser.new_context(viewport=viewport, locale=lang, accept_downloads=True)
    return context.new_page()


@pytest.fixture
def zh(browser: Any) -> Iterator[Any]:
    page = page_in(browser, "zh-CN")
    yield page
    page.context.close()


@pytest.fixture
def en(browser: Any) -> Iterator[Any]:
    page = page_in(browser, "en-US")
    yield page
    page.context.close()


def sign_in(page: Any, server: LiveServer, username: str) -> None:
    sign_in_page(page, server.url, username, demo.PASSWORD)


def test_an_auditor_sees_only_the_plants_of_their_region(server: LiveServer, zh: Any) -> None:
    sign_in(zh, server, "js.auditor")
    assert zh.url == f"{server.url}/portal/"
    plants = zh.eval_on_selector_all("[data-plant]", "rows => rows.map(r => r.dataset.plant)")
    assert plants == ["DIS-CZ01", "DIS-NJ01", "DIS-NT01", "DIS-SZ01", "DIS-WX02"]  # Jiangsu
    assert zh.inner_text("h1").startswith("区域概览")
    zh.wait_for_selector("[data-chart=volumes][data-drawn=true] canvas")
    screenshot(zh, "portal-overview-zh")
    for other in ("DIS-BJ01", "DIS-GZ01"):
        assert zh.goto(f"{server.url}/portal/plants/{other}").status == 403


def test_an_auditor_finds_a_planted_anomaly_and_the_tampered_badge(
    server: LiveServer, en: Any
) -> None:
    sign_in(en, server, "bj.auditor")
    en.goto(f"{server.url}/portal/anomalies?period=2026Q3")
    # the line-day entered weeks late is always Beijing's (with seven plants, the few
    # mass-balance cases of a 1000-device demo may all fall elsewhere)
    en.select_option("select[name=rule]", "backdating")
    en.click("form.filters button[type=submit]")
    rows = en.locator("tr[data-rule=backdating]")
    assert rows.count() >= 1
    assert set(en.eval_on_selector_all("tr[data-rule]", "r => r.map(x => x.dataset.rule)")) == {
        "backdating"
    }
    screenshot(en, "portal-anomalies-filtered-en")
    qr_id = rows.first.get_attribute("data-subject")
    rows.first.locator("a").first.click()
    en.wait_for_url(f"**/portal/devices/{qr_id}")
    statuses = en.eval_on_selector_all("li[data-status]", "r => r.map(x => x.dataset.status)")
    assert statuses and set(statuses) == {"verified"}
    screenshot(en, "portal-device-en")

    with trace_of(server.app).engine.begin() as conn:  # a DB admin edits the intake weight
        received = conn.execute(
            select(Event.id, Event.payload).where(Event.device == qr_id, Event.type == "received")
        ).one()
        payload = {**received.payload, "weight_g": received.payload["weight_g"] + 5000}
        conn.execute(update(Event).where(Event.id == received.id).values(payload=payload))
    en.reload()
    assert en.get_attribute(f"li[data-event='{received.id}']", "data-status") == "tampered"
    assert en.get_attribute("[data-device-verification]", "data-device-verification") == "failed"
    assert en.is_visible(f"li[data-event='{received.id}'] .badge.bad")
    screenshot(en, "portal-device-tampered-en")


def test_the_proof_bundle_downloads_from_the_device_page(server: LiveServer, en: Any) -> None:
    sign_in(en, server, "js.auditor")
    en.goto(f"{server.url}/portal/plants/DIS-SZ01/batches?period=2026Q3")
    en.locator("[data-table=batches] a").first.click()
    en.locator("table a").first.click()
    with en.expect_download() as download:
        en.click("[data-proof]")
    bundle = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert bundle["format"] == "weee-trace-proof/1" and bundle["events"]
    assert en.url.endswith(f"/portal/devices/{bundle['subject']['device']}")


def test_the_sample_of_the_closed_quarter_names_its_block(server: LiveServer, zh: Any) -> None:
    sign_in(zh, server, "js.auditor")
    zh.goto(f"{server.url}/portal/plants/DIS-SZ01/sample?period=2026Q3")
    assert zh.get_attribute("[data-sample]", "data-sample") == "drawn"
    days = zh.eval_on_selector_all("[data-day]", "r => r.map(x => x.dataset.day)")
    assert len(days) == 5 and all(d.startswith("2026-0") for d in days)
    zh.reload()
    assert zh.eval_on_selector_all("[data-day]", "r => r.map(x => x.dataset.day)") == days
    screenshot(zh, "portal-sample-drawn-zh")


def test_managers_reach_only_their_plant_and_operators_nothing(
    server: LiveServer, en: Any, browser: Any
) -> None:
    sign_in(en, server, "bj.manager")
    assert en.goto(f"{server.url}/portal/plants/DIS-BJ01").status == 200
    for path in ("/portal/plants/DIS-SZ01", "/portal/plants/DIS-SZ01/sample",
                 "/portal/anomalies?plant=DIS-SZ01"):  # fmt: skip
        assert en.goto(f"{server.url}{path}").status == 403, path
    plants = en.eval_on_selector_all("[data-plant]", "r => r.map(x => x.dataset.plant)")
    assert plants == []  # the 403 page
    en.goto(f"{server.url}/portal/")
    assert en.eval_on_selector_all("[data-plant]", "r => r.map(x => x.dataset.plant)") == [
        "DIS-BJ01"
    ]
    operator = page_in(browser, "en-US")
    try:
        sign_in(operator, server, "bj.intake")
        assert operator.goto(f"{server.url}/portal/").status == 403
        assert operator.goto(f"{server.url}/portal/anomalies").status == 403
    finally:
        operator.context.close()


MAIN_PAGES = {
    "overview": "/portal/?period=2026Q3",
    "plant": "/portal/plants/DIS-SZ01?period=2026Q3",
    "anomalies": "/portal/anomalies?period=2026Q3",
    "batches": "/portal/plants/DIS-SZ01/batches?period=2026Q3",
    "sample": "/portal/plants/DIS-SZ01/sample?period=2026Q3",
    "ledger": "/portal/ledger",
    "search": "/portal/devices",
}


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_screenshots_of_the_main_pages(server: LiveServer, browser: Any, lang: str) -> None:
    short = lang[:2]
    for size, viewport in (("laptop", LAPTOP), ("tablet", TABLET)):
        page = page_in(browser, lang, viewport)
        try:
            sign_in(page, server, "js.auditor")
            for name, path in MAIN_PAGES.items():
                assert page.goto(f"{server.url}{path}").status == 200, path
                if page.locator("[data-chart]").count():
                    page.wait_for_selector("[data-chart][data-drawn=true] canvas")
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], (name, size, width)
                page.screenshot(
                    path=str(screenshot(page, f"portal-{name}-{short}-{size}")), full_page=True
                )
        finally:
            page.context.close()
