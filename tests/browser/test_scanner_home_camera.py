"""The handheld's home screen and camera (issue 19, "Shift work"): a scan box and a camera
button on the home screen; the camera's continuous mode and torch.

Chromium's fake camera films a printed label (a generated y4m, as in
test_scanner_camera.py). Its own module: the fake camera is a browser of its own,
and Playwright runs one sync instance per module's fixtures at a time.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.support.accounts import Actor
from tests.support.browser import (
    FEEDBACK_PROBE,
    TALL_PHONE,
    chromium,
    open_scanner,
    phone_context,
    screenshot,
    write_y4m,
)
from tests.support.floor import Handheld
from tests.support.live import LiveServer
from traceability.labels.ids import format_id
from traceability.labels.render import device_url, label_png

GOOD = {"tone": 1320}


def code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:5].upper()}"


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
