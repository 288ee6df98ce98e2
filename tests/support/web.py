"""Signing in to the HTML pages through Flask's test client, as a browser would."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD

_CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token a page carries (its form field, else its meta tag)."""
    found = _CSRF_FIELD.search(html) or _CSRF_META.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, next_path: str | None = None
) -> Any:
    """Fill in /login as a browser would (with the form's CSRF token); the response."""
    query = f"?next={next_path}" if next_path else ""
    token = csrf_token(client.get(f"/login{query}").get_data(as_text=True))
    return client.post(
        f"/login{query}", data={"username": username, "password": password, "csrf_token": token}
    )
