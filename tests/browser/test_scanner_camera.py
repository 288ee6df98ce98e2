"""Camera scanning: Chromium's fake camera shows a printed label; the app decodes it on-device."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.support.browser import chromium, open_scanner, phone_context, screenshot, write_y4m
from tests.support.floor import Handheld
from tests.support.live import LiveServer
from traceability.labels.ids import format_id
from traceability.labels.render import device_url, label_png

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


@pytest.fixture(scope="module")
def labelled(server: LiveServer) -> tuple[Any, str]:
    collector = server.actor(f"COL-{uuid.uuid4().hex[:5].upper()}", "collector")
    return collector, Handheld(server.client(), collector).collect()


@pytest.fixture(scope="module")
def camera_browser(
    server: LiveServer, labelled: tuple[Any, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A Chromium whose camera films the device's label, as printed (a label on a grey case)."""
    _, qr_id = labelled
    label = Image.open(
        io.BytesIO(label_png(device_url(server.url, qr_id), format_id(qr_id), box_size=6))
    )
    frame = Image.new("RGB", (640, 480), (128, 132, 128))
    frame.paste(label.convert("RGB"), ((640 - label.width) // 2, (480 - label.height) // 2))
    video = write_y4m(tmp_path_factory.mktemp("camera") / "label.y4m", frame)
    with chromium(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video.resolve()}") as browser:
        yield browser


@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_the_camera_decodes_a_label_and_opens_the_device_without_leaving_the_origin(
    server: LiveServer, labelled: tuple[Any, str], camera_browser: Any, lang: str
) -> None:
    collector, qr_id = labelled
    context = phone_context(camera_browser, lang)
    context.grant_permissions(["camera"], origin=server.url)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    open_scanner(page, server.url, collector.username, "ship")
    page.click("button.camera-button")
    page.wait_for_function(
        "id => document.getElementById('scan-input').value === id",
        arg=format_id(qr_id),
        timeout=20_000,
        polling=100,
    )
    assert page.get_attribute("body", "data-last-scan-how") == "camera"
    page.wait_for_selector(".device-card [data-state=collected]")
    assert page.is_hidden(".camera-layer")
    screenshot(page, f"camera-decoded-{lang}")
    context.close()
    assert any(url.endswith("/static/dist/scan/zxing_reader.wasm") for url in requests), requests
    outside = [url for url in requests if not url.startswith(f"{server.url}/")]
    assert outside == []


def test_wasm_is_served_by_the_app_itself(server: LiveServer) -> None:
    response = server.client().get("/static/dist/scan/zxing_reader.wasm")
    assert response.status_code == 200
    assert response.data[:4] == b"\0asm"
    response.close()
