"""The demo served on a real anvil node (rpc mode), for evidence reports and in-browser
verification: the browser reads the registry through the node's JSON-RPC."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from ledger.node import DEV_KEYS, ManagedNode
from tests.support.live import LiveServer, live_server
from traceability import demo
from traceability.anchoring.service import anchor_now
from traceability.app import trace_of
from traceability.audit.refresh import refresh


@contextmanager
def anvil_demo(directory: Path, node: ManagedNode, devices: int = 120) -> Iterator[LiveServer]:
    """The demo quarter on ``node``, anchored and audited. Anchored today, so lateness is
    allowed for widely (the pages, not the lateness rule, are under test)."""
    keys = DEV_KEYS[node.kind]
    with (
        live_server(directory, ledger_mode="rpc", ledger_url=node.url, ledger_owner_key=keys[0],
                    ledger_key=keys[1], anchor_max_delay_s=100 * 365 * 86_400,
                    anchor_in_background=False) as live,
        pytest.MonkeyPatch.context() as mp,
    ):  # fmt: skip
        mp.setattr(
            "traceability.accounts.services.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        trace = trace_of(live.app)
        demo.load(trace, devices=devices, seed=2026)
        assert anchor_now(trace.engine, trace.ledger).events_anchored > 0
        refresh(trace, force=True)
        yield live
