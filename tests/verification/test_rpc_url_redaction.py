"""An RPC provider's credentials or key never reach a verification text (issue 15 L11)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from ledger.redact import redact_text, redact_url
from tests.support.accounts import Actor
from tests.support.floor import Handheld
from traceability.app import trace_of
from traceability.cli import main

SECRET = "s3cr3t-provider-key"
URLS = [
    f"http://user:{SECRET}@127.0.0.1:9/rpc",
    f"http://127.0.0.1:9/rpc?apikey={SECRET}",
    f"https://127.0.0.1:9/v3/{SECRET}0123456789abcdef",
]


@pytest.fixture(params=URLS)
def settings(settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    # Port 9 (discard) refuses at once: the ledger is unavailable, which is when
    # error messages tend to repeat the URL.
    trusted = {
        "ledger_contract": "0x" + "11" * 20,
        "ledger_chain_id": 31337,
        "ledger_genesis_hash": "0x" + "22" * 32,
        "ledger_registry_owner": "0x" + "33" * 20,
    }
    return {**settings, "ledger_mode": "rpc", "ledger_url": request.param, **trusted}


def test_verification_texts_never_show_the_rpc_urls_secrets(
    app: Flask, client: FlaskClient, collector: Actor
) -> None:
    qr_id = Handheld(client, collector).collect()

    shown = [
        client.get(f"/api/v1/devices/{qr_id}/verify", headers=collector.headers),
        client.get(f"/api/v1/devices/{qr_id}", headers=collector.headers),
        client.get(f"/d/{qr_id}"),
        client.get("/api/v1/health"),
    ]
    cli = CliRunner().invoke(main, ["verify", "--all"], obj=trace_of(app))

    texts = [r.get_data(as_text=True) for r in shown] + [cli.output]
    assert all(r.status_code in (200, 503) for r in shown), texts
    assert "127.0.0.1:9" in "".join(texts)  # the node is named, without its key
    for text in texts:
        assert SECRET not in text


@pytest.mark.parametrize("url", URLS)
def test_an_http_librarys_error_text_loses_the_secret_however_it_quotes_the_url(url: str) -> None:
    try:
        requests.post(url, timeout=2)
    except requests.RequestException as exc:
        text = str(exc)
    assert redact_url(url) is not None and SECRET not in str(redact_url(url))
    assert SECRET not in redact_text(f"{url} unreachable ({text})", url)
