"""Anonymous /api/v1/health never shows an RPC provider's credentials or API key."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

SECRET = "s3cr3t-provider-key"


@pytest.fixture(
    params=[
        f"http://user:{SECRET}@127.0.0.1:9/rpc",
        f"http://127.0.0.1:9/rpc?apikey={SECRET}",
        f"https://127.0.0.1:9/v3/{SECRET}0123456789abcdef",
    ]
)
def settings(settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    # Port 9 (discard) refuses at once: the ledger is unavailable, which is when
    # error messages tend to repeat the URL.
    return {**settings, "ledger_mode": "rpc", "ledger_url": request.param}


def test_health_redacts_the_rpc_url(client: FlaskClient) -> None:
    response = client.get("/api/v1/health")

    body = response.get_data(as_text=True)
    assert SECRET not in body
    ledger = response.get_json()["ledger"]
    assert ledger["status"] == "unavailable"
    assert ledger["rpc_url"].startswith(("http://", "https://"))
    assert "127.0.0.1:9" in ledger["rpc_url"] and "***" in ledger["rpc_url"]
