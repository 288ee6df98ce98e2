"""Signing in with a real browser at 360×640: limits, CSRF, signed-out and wrong-kind users."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.support.accounts import PASSWORD
from tests.support.browser import screenshot, sign_in_page
from tests.support.live import LiveServer


def unique(prefix: str) -> str:
    return f"{prefix.upper()}-{uuid.uuid4().hex[:6].upper()}"


def test_a_floor_operator_signs_in_and_out(server: LiveServer, phone: Any) -> None:
    operator = server.actor(unique("col"), "collector")
    phone.goto(f"{server.url}/scan/")
    assert phone.url.startswith(f"{server.url}/login?next=")
    screenshot(phone, "login-zh")
    sign_in_page(phone, server.url, operator.username)
    assert phone.url == f"{server.url}/scan/"
    assert operator.username in phone.inner_text("header")
    phone.click(".logout button")
    # The scanner signs out in the page (also offline) and says what stays on the phone.
    phone.wait_for_selector(".signed-out-screen")
    assert phone.get_attribute("#app", "data-signed-out") == "done"
    phone.goto(f"{server.url}/scan/")
    assert "/login" in phone.url


def test_the_login_page_in_english_has_no_overflow(server: LiveServer, phone_en: Any) -> None:
    phone_en.goto(f"{server.url}/login")
    assert phone_en.inner_text("h1") == "Sign in"
    width = phone_en.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    for box in (phone_en.locator(s).bounding_box() for s in ("#username", "#password", "button")):
        assert box is not None and box["height"] >= 48
    screenshot(phone_en, "login-en")


def test_wrong_passwords_are_limited(server: LiveServer, phone_en: Any) -> None:
    operator = server.actor(unique("col"), "collector")
    for _ in range(5):
        sign_in_page(phone_en, server.url, operator.username, "not the password")
        assert "Wrong username or password" in phone_en.inner_text("[role=alert]")
    sign_in_page(phone_en, server.url, operator.username, PASSWORD)
    assert "/login" in phone_en.url
    assert "Too many failed sign-ins" in phone_en.inner_text("[role=alert]")
    screenshot(phone_en, "login-locked-en")


def test_a_form_without_its_csrf_token_is_refused(server: LiveServer, phone_en: Any) -> None:
    operator = server.actor(unique("col"), "collector")
    phone_en.goto(f"{server.url}/login")
    phone_en.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    phone_en.fill("#username", operator.username)
    phone_en.fill("#password", PASSWORD)
    with phone_en.expect_response(re.compile(r"/login$")) as response:
        phone_en.click("button[type=submit]")
    assert response.value.status == 400
    assert "Form expired" in phone_en.inner_text("h1")
    phone_en.goto(f"{server.url}/scan/")
    assert "/login" in phone_en.url


def test_a_signed_out_browser_reaches_nothing(server: LiveServer, phone_en: Any) -> None:
    for path in ("/scan/", "/scan/?step=receive"):
        response = phone_en.goto(f"{server.url}{path}")
        assert response.status == 200 and "/login?next=" in phone_en.url
    api = phone_en.request.post(f"{server.url}/api/v1/events", data={"events": []})
    assert api.status == 401


def test_a_regulator_gets_403_on_the_scanner(server: LiveServer, phone_en: Any, phone: Any) -> None:
    auditor = server.actor(unique("reg"), "regulator", role="auditor", region="320000")
    sign_in_page(phone_en, server.url, auditor.username)
    response = phone_en.goto(f"{server.url}/scan/")
    assert response.status == 403
    assert phone_en.inner_text("h1") == "No access"
    screenshot(phone_en, "forbidden-en")
    sign_in_page(phone, server.url, auditor.username)
    assert phone.goto(f"{server.url}/scan/").status == 403
    screenshot(phone, "forbidden-zh")
