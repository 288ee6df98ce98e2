"""The app against a real JSON-RPC node: anvil and ganache, as a deployment would run it.

``settings`` switches the app to ``ledger_mode="rpc"`` with the node's dev keys
(owner ``[0]`` deploys the registry on first use, submitter ``[1]`` anchors).
Tests share the session-scoped nodes — every test's fresh database deploys a
registry of its own — except where a test stops, kills or resets its node:
those override ``ledger_node`` with ``private_node``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ledger.node import ManagedNode, NodeKind
from tests.ledger_fixtures import NODE_KINDS, require_node_binary
from tests.rpc_proxy import RpcProxy
from tests.support.ledger import rpc_settings
from traceability import create_app
from traceability.app import trace_of


@pytest.fixture(params=NODE_KINDS)
def node_kind(request: pytest.FixtureRequest) -> NodeKind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def ledger_node(node_kind: NodeKind, request: pytest.FixtureRequest) -> ManagedNode:
    """The node the app talks to: the shared session node of this kind."""
    return request.getfixturevalue(f"{node_kind}_node")  # type: ignore[no-any-return]


@pytest.fixture
def private_node(node_kind: NodeKind, tmp_path: Path) -> Iterator[ManagedNode]:
    """A node of this test's own, for tests that kill, restart or reset it."""
    require_node_binary(node_kind)
    node = ManagedNode(node_kind, data_dir=tmp_path / "node").start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def genesis() -> dt.datetime:
    """When ``dated_node``'s chain is born: a module that uses it says when."""
    raise NotImplementedError("define a `genesis` fixture in the test module")


@pytest.fixture
def dated_node(tmp_path: Path, genesis: dt.datetime) -> Iterator[ManagedNode]:
    """An anvil of this test's own whose chain is born at ``genesis`` and then keeps its
    own time: blocks can be timed after it (``ledger.node.set_chain_time``), the way a
    chain running beside the app would have timed them."""
    require_node_binary("anvil")
    with ManagedNode(
        "anvil", data_dir=tmp_path / "dated-node", genesis_time=int(genesis.timestamp())
    ) as node:
        yield node


@pytest.fixture
def settings(settings: dict[str, Any], ledger_node: ManagedNode) -> dict[str, Any]:
    return rpc_settings(settings, ledger_node)


@pytest.fixture
def proxy(ledger_node: ManagedNode) -> Iterator[RpcProxy]:
    """A proxy in front of the test's node that counts the chain calls passing through."""
    with RpcProxy(ledger_node.url, delay_s=0) as proxy:
        yield proxy


@pytest.fixture
def proxied_app(settings: dict[str, Any], proxy: RpcProxy) -> Iterator[Flask]:
    """The same deployment, its chain reads going through the counting proxy."""
    app = create_app({**settings, "ledger_url": proxy.url})
    yield app
    trace_of(app).engine.dispose()
