"""A real browser (Debian's headless Chromium through Playwright) and the handheld app in it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.support.accounts import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


#: The handheld's screen: every browser test of the floor app runs at this size.
PHONE = {"width": 360, "height": 640}
#: A larger phone of today (issue 19's tests of the floor at line speed).
TALL_PHONE = {"width": 390, "height": 844}

#: Records the handheld's feedback (window.__feedback): each vibration pattern
#: and each tone's frequency, as the page asks for them (and in window.__gains, its volume).
FEEDBACK_PROBE = """
window.__feedback = [];
navigator.vibrate = (pattern) => { window.__feedback.push({ vibrate: pattern }); return true; };
if (window.AudioContext) {
  window.__gains = [];  // each tone's volume (the gain node made just before it)
  const createGain = AudioContext.prototype.createGain;
  AudioContext.prototype.createGain = function () {
    window.__lastGain = createGain.call(this);
    return window.__lastGain;
  };
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    const osc = create.call(this);
    const start = osc.start.bind(osc);
    osc.start = (...args) => {
      window.__feedback.push({ tone: osc.frequency.value });
      window.__gains.push(window.__lastGain ? window.__lastGain.gain.value : null);
      return start(...args);
    };
    return osc;
  };
}
"""


#: Screenshots the browser tests take (gitignored): looked at by people, not compared.
ARTIFACTS = Path(__file__).parents[1] / "artifacts"


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()


def phone_context(
    browser: Any, lang: str = "zh-CN", *, size: dict[str, int] = PHONE, **kwargs: Any
) -> Any:
    """A new browser profile on a touch phone (360×640 unless ``size``) in ``lang``."""
    return browser.new_context(viewport=size, locale=lang, has_touch=True, is_mobile=True, **kwargs)


def screenshot(page: Any, name: str) -> Path:
    """Save the page as tests/artifacts/screens/{name}.png and return the path."""
    path = ARTIFACTS / "screens" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path


def sign_in_page(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the /login form as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def queued_items(page: Any) -> list[dict[str, Any]]:
    """What the handheld app holds in its IndexedDB queue."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("weee-scan");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains("queue")) { resolve([]); return; }
                const all = db.transaction("queue").objectStore("queue").getAll();
                all.onsuccess = () => resolve(all.result);
            };
        })"""
    )


def wedge_scan(page: Any, text: str) -> None:
    """What a keyboard-wedge scanner does: the code typed at machine speed, then Enter
    (keys stamped 2 ms apart: ``wedge_keys``)."""
    wedge_keys(page, text, interval_ms=2)


_KEY_CODES = {"-": "Minus", "/": "Slash", ".": "Period", ":": "Semicolon", "=": "Equal",
              "~": "Backquote", "$": "Digit4", "*": "Digit8"}  # fmt: skip


def _key_code(ch: str) -> str:
    if ch.isascii() and ch.isalpha():
        return f"Key{ch.upper()}"
    if ch.isdigit():
        return f"Digit{ch}"
    return _KEY_CODES.get(ch, "")


def wedge_keys(page: Any, text: str, interval_ms: float = 5) -> None:
    """A keyboard-wedge scanner's burst as the phone sees it: each key stamped
    ``interval_ms`` after the one before, then Enter.

    The keys go through Chromium's input pipeline (DevTools Input.dispatchKeyEvent)
    with their own timestamps, so the page reads the scanner's timing however
    slowly a loaded test machine delivers them.
    """
    cdp = page.context.new_cdp_session(page)
    start = time.time()
    try:
        for index, ch in enumerate([*text, "\r"]):
            at = start + index * interval_ms / 1000
            if ch == "\r":
                down = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}
            else:
                down = {"key": ch, "code": _key_code(ch), "text": ch}
            cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "timestamp": at, **down})
            up = {k: v for k, v in down.items() if k != "text"}
            cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "timestamp": at, **up})
    finally:
        cdp.detach()


def open_scanner(page: Any, base_url: str, username: str, step: str | None = None) -> None:
    """Sign in and open the handheld app (at ``step``'s screen if given)."""
    sign_in_page(page, base_url, username)
    page.wait_for_selector("#app[data-ready=true]")
    if step is not None:
        go_to_step(page, base_url, step)


def go_to_step(page: Any, base_url: str, step: str) -> None:
    """Open ``step``'s screen ("" for home) and wait until it, not the screen before, is shown.

    Going to another ``#/step`` is a hash change in the same document: the old
    screen stays until the app routes, so a scan sent before then reaches the old one.
    """
    page.goto(f"{base_url}/scan/#/{step}")
    page.wait_for_selector(f".screen[data-step={step or 'home'}]")


def submit(page: Any, selector: str = "button.submit", timeout_ms: int = 15_000) -> None:
    """Press the screen's record button; wait until what it queued has the server's answer."""
    before = int(page.get_attribute("#app", "data-recorded") or 0)
    page.click(selector)
    page.wait_for_function(
        "n => Number(document.getElementById('app').dataset.recorded || 0) > n",
        arg=before,
        timeout=timeout_ms,
        polling=50,
    )
    page.wait_for_function(
        """() => {
            const app = document.getElementById("app").dataset;
            return Number(app.settled || 0) >= Number(app.recorded || 0);
        }""",
        timeout=timeout_ms,
        polling=50,
    )


def write_y4m(path: Path, image: Any, frames: int = 4, fps: int = 10) -> Path:
    """A YUV4MPEG2 video of ``image`` (a Pillow image) standing still: Chromium's fake camera.

    4:2:0 planes from Pillow's YCbCr conversion (JPEG's full range, so C420jpeg).
    """
    width, height = image.size
    ycbcr = image.convert("RGB").convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (width // 2, height // 2)
    frame = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + frame)
    return path
