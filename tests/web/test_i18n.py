"""Pages in Simplified Chinese and English: the catalogue really loads, the choice is remembered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import get_locale, gettext

from traceability.web.catalogues import export
from traceability.web.i18n import LANGUAGES, TRANSLATIONS


def chinese_catalogue() -> dict[str, str]:
    with (TRANSLATIONS / LANGUAGES["zh-CN"] / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and isinstance(m.id, str)}


def test_every_message_has_a_chinese_translation() -> None:
    catalogue = chinese_catalogue()
    assert catalogue, "the zh catalogue is empty"
    assert [msgid for msgid, text in catalogue.items() if not text] == []


@pytest.mark.parametrize("header", ["zh-CN,zh;q=0.9,en;q=0.5", "zh", "zh-Hans-CN", "zh-TW"])
def test_chinese_browsers_get_the_chinese_catalogue_not_a_silent_english_fallback(
    app: Flask, header: str
) -> None:
    """Fails if Babel looks for another folder name than the catalogue's (zh_CN vs zh_Hans_CN)."""
    with app.test_request_context("/", headers={"Accept-Language": header}):
        assert str(get_locale()) == LANGUAGES["zh-CN"]
        for msgid, text in chinese_catalogue().items():
            assert gettext(msgid) == text, msgid


@pytest.mark.parametrize(
    ("header", "expected_lang"),
    [("en-GB,en;q=0.8", "en"), ("zh-CN", "zh-CN"), ("fr-FR", "zh-CN"), (None, "zh-CN")],
)
def test_the_page_language_follows_the_browser(
    client: FlaskClient, header: str | None, expected_lang: str
) -> None:
    headers = {"Accept-Language": header} if header else {}
    html = client.get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{expected_lang}">' in html
    sign_in_text = "Sign in" if expected_lang == "en" else chinese_catalogue()["Sign in"]
    assert f"<h1>{sign_in_text}</h1>" in html


def test_the_switch_link_is_on_the_page_and_the_choice_is_remembered(
    client: FlaskClient,
) -> None:
    html = client.get("/login?next=/scan/", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    assert 'href="/lang/en?next=/login?next%3D/scan/"' in html
    response = client.get("/lang/en?next=/login?next%3D/scan/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/scan/"
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    again = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in again and "<h1>Sign in</h1>" in again
    assert 'href="/lang/zh-CN?next=/login"' in again


def test_the_switch_stays_on_the_site_and_ignores_unknown_languages(client: FlaskClient) -> None:
    response = client.get("/lang/de?next=https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get_cookie("lang") is None


def test_the_javascript_gets_the_same_catalogue_as_json(tmp_path: Path) -> None:
    export(tmp_path)
    zh = json.loads((tmp_path / "zh-CN.json").read_text())
    catalogue = chinese_catalogue()
    assert zh == catalogue
    assert json.loads((tmp_path / "en.json").read_text()) == {}
