"""The page a phone camera opens from a QR label, in a real headless Chromium."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.support.accounts import Actor, manager_headers
from tests.support.floor import Handheld
from traceability.app import trace_of

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_device_page_shows_category_state_and_id_but_nothing_personal(
    client: FlaskClient, collector: Actor, base_url: str, page: object, tmp_path: Path
) -> None:
    qr_id = Handheld(client, collector).collect(brand="Konka", model="T21-A", serial="SN-778899")
    response = page.goto(f"{base_url}/d/{qr_id.lower()}")  # type: ignore[attr-defined]
    assert response.status == 200
    text = page.inner_text("main")  # type: ignore[attr-defined]
    # One language at a time (SPEC §4.4): Chinese unless the phone asks for English.
    assert "电视机" in text and "Television" not in text
    assert "已回收" in text and "collected" not in text
    assert page.get_attribute("[data-state]", "data-state") == "collected"  # type: ignore[attr-defined]
    assert f"{qr_id[:4]}-{qr_id[4:8]}-{qr_id[8:12]}-{qr_id[12:]}" in text
    # The stylesheet loads under the page's own CSP (no inline styles).
    background = page.evaluate(  # type: ignore[attr-defined]
        "getComputedStyle(document.body).backgroundColor"
    )
    assert background == "rgb(245, 247, 245)"
    html = page.content()  # type: ignore[attr-defined]
    # This server runs without a ledger: the badge says so, not "unreachable".
    assert page.get_attribute("[data-verification]", "data-verification") == "off"  # type: ignore[attr-defined]
    assert "本服务器未接入区块链" in text
    page.click("a.lang-switch, .lang-switch a")  # type: ignore[attr-defined]
    english = page.inner_text("main")  # type: ignore[attr-defined]
    assert "Television" in english and "collected for recycling" in english
    assert "no ledger on this server" in english and "电视机" not in english
    for private in ("Konka", "T21-A", "SN-778899", collector.org, collector.username):
        assert private not in html
    page.screenshot(path=str(tmp_path / "device.png"))  # type: ignore[attr-defined]
    shutil.copy(tmp_path / "device.png", Path("/tmp/device-page.png"))


def test_a_mistyped_id_gets_a_not_found_page_in_the_page_s_language(
    base_url: str, page: object
) -> None:
    response = page.goto(f"{base_url}/d/7KQ2-M9XD-4TZP-AZ")  # type: ignore[attr-defined]
    assert response.status == 422
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "未找到设备" in text and "校验位" in text and "7KQ2-M9XD-4TZP-AZ" in text
    assert "Device not found" not in text and "check character" not in text


class TestVerificationBadge:
    """The badge reflects the ledger: pending, then verified, then failed if altered."""

    @pytest.fixture
    def settings(self, settings: dict) -> dict:
        # Uncached, so each view shows the chain's current word.
        return {**settings, "ledger_mode": "memory", "badge_cache_s": 0}

    def test_badge_follows_anchoring_and_tampering(
        self,
        app: Flask,
        client: FlaskClient,
        collector: Actor,
        plant: Actor,
        base_url: str,
        page: object,
    ) -> None:
        from sqlalchemy import text

        qr_id = Handheld(client, collector).collect()

        def badge() -> str:
            page.goto(f"{base_url}/d/{qr_id}")  # type: ignore[attr-defined]
            return page.get_attribute(  # type: ignore[attr-defined, no-any-return]
                "[data-verification]", "data-verification"
            )

        assert badge() == "pending"
        assert (
            client.post("/api/v1/anchors", headers=manager_headers(client, plant)).status_code
            == 200
        )
        assert badge() == "verified"
        with trace_of(app).engine.begin() as conn:
            conn.execute(
                text("UPDATE event SET actor = 'someone-else' WHERE device = :q"), {"q": qr_id}
            )
        assert badge() == "failed"
