"""Claims run against a real anvil node (the app in rpc mode), with the demo's example
provincial schedule so that 2024-and-later dates have a schedule in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.node import DEV_KEYS, ManagedNode
from tests.claims.quarter import EXAMPLE_RATES
from tests.ledger_fixtures import require_node_binary

ROOT = Path(__file__).parents[2]


@pytest.fixture
def settings(settings: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    base = {**settings, "rate_schedules": ROOT / EXAMPLE_RATES}
    if request.node.get_closest_marker("integration") is None:
        return base
    require_node_binary("anvil")
    node: ManagedNode = request.getfixturevalue("anvil_node")
    keys = DEV_KEYS[node.kind]
    return {
        **base,
        "ledger_mode": "rpc",
        "ledger_url": node.url,
        "ledger_owner_key": keys[0],
        "ledger_key": keys[1],
    }
