"""What every page carries and where its links point (issue 15 L11).

Security headers on every response; HSTS when the public URL is https;
absolute URLs built from TRACE_PUBLIC_URL, never from the Host header a client
sends; a development instance signs sessions with a key of its own.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Actor, manager_headers
from tests.support.floor import CRT_TV, Handheld
from tests.support.web import sign_in
from traceability import create_app

PUBLIC = "https://trace.example.cn"  # tests/support/databases.py default_settings
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def pages(client: FlaskClient, qr_id: str) -> list[str]:
    return ["/", "/login", f"/d/{qr_id}", "/portal/", "/scan/", "/api/v1/health", "/nowhere"]


def test_every_page_forbids_base_rewriting_and_foreign_form_targets(
    client: FlaskClient, collector: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()
    for path in pages(client, qr_id):
        policy = client.get(path).headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["base-uri"] in ("'none'", "'self'"), path
        assert directives["form-action"] == "'self'", path
        assert directives["object-src"] == "'none'", path


def test_https_pages_ask_browsers_to_stay_on_https(client: FlaskClient, collector: Actor) -> None:
    qr_id = Handheld(client, collector).collect()
    for path in pages(client, qr_id):
        assert client.get(path).headers["Strict-Transport-Security"].startswith("max-age="), path


def test_a_plain_http_instance_sends_no_hsts(settings: dict[str, Any]) -> None:
    app = create_app({**settings, "public_url": "http://localhost:5000"})
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers


def test_absolute_urls_come_from_the_public_url_not_the_host_header(
    client: FlaskClient, collector: Actor, plant: Actor
) -> None:
    collected = client.post("/api/v1/devices", json=CRT_TV, headers={**collector.headers, **EVIL})
    manager = manager_headers(client, plant)
    sheet = client.post("/api/v1/labels", json={"count": 1}, headers={**manager, **EVIL})
    claim = client.post("/api/v1/claims", json={"period": "2025Q4"}, headers=manager)
    shown = client.get(f"/api/v1/claims/{claim.get_json()['id']}", headers={**manager, **EVIL})

    links = [
        collected.get_json()["label_url"],
        collected.get_json()["url"],
        sheet.get_json()["pdf_url"],
        *shown.get_json()["exports"].values(),
    ]
    assert all(link.startswith(f"{PUBLIC}/") for link in links), links
    for response in (collected, sheet, shown):
        assert "evil.example" not in response.get_data(as_text=True)


def test_a_mounted_app_keeps_its_public_url_whole(
    client: FlaskClient, collector: Actor, settings: dict[str, Any]
) -> None:
    app = create_app({**settings, "public_url": "https://plant.example/trace/"})
    with app.test_request_context("/api/v1/devices", base_url="http://evil.example/mount"):
        from flask import url_for

        assert url_for("api.health", _external=True) == "https://plant.example/trace/api/v1/health"
        assert url_for("api.health") == "/mount/api/v1/health"


@pytest.fixture
def portal_client(app: Flask, make_actor: Callable[..., Actor]) -> FlaskClient:
    auditor = make_actor("REG-JS", "regulator", role="auditor", region="320000", password=PASSWORD)
    client = app.test_client()
    assert sign_in(client, auditor.username).status_code == 302
    return client


# "0001000…": its first nine digits (all the portal looked at) are a fine page.
@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A1", "0001" + "0" * 4999, "0" * 4999 + "9" * 8])
@pytest.mark.parametrize(
    "path", ["/portal/ledger", "/portal/anomalies", "/portal/plants/DIS-JS01/batches"]
)
def test_a_portal_page_number_that_is_no_number_is_a_422(
    portal_client: FlaskClient, path: str, page: str
) -> None:
    # Read before anything else: not a page still being computed (503), nor a plant's 403.
    response = portal_client.get(f"{path}?page={page}")
    assert response.status_code == 422
    assert "(page)" in response.get_data(as_text=True)  # the field it names


def test_a_portal_page_number_that_is_one_shows_the_page(portal_client: FlaskClient) -> None:
    assert portal_client.get("/portal/ledger?page=1").status_code == 200


def test_a_development_instance_makes_its_own_secret_key_and_keeps_it(tmp_path: Path) -> None:
    def app_in(data_dir: Path) -> Flask:
        return create_app(
            {"env": "development", "data_dir": data_dir, "ledger_mode": "off",
             "database_url": "sqlite://"}
        )  # fmt: skip

    first, again = app_in(tmp_path / "a"), app_in(tmp_path / "a")
    other = app_in(tmp_path / "b")

    key = first.config["SECRET_KEY"]
    stored = tmp_path / "a" / "secret_key"
    assert len(key) >= 64 and "insecure" not in key
    assert stored.read_text().strip() == key
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert again.config["SECRET_KEY"] == key  # sessions survive a restart
    assert other.config["SECRET_KEY"] != key  # no two instances share one
    assert list((tmp_path / "a").iterdir()) == [stored]
