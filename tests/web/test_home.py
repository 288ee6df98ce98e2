"""The home page leads to the two signed-in faces."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_the_home_page_links_the_scanner_and_the_portal(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/scan/"' in page and 'href="/portal/"' in page
    assert client.get("/scan/").status_code == 302  # both ask for a sign-in first
    assert client.get("/portal/").status_code == 302
