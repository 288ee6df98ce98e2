"""Ledger fixtures (a pytest plugin): real anvil/ganache nodes and in-process eth-tester.

Nodes are session-scoped because starting them is the slow part; every test
deploys its own registry, which is cheap, so tests never share contract state.
The registry is always deployed by one key (the regulator, the owner) and
anchored to by another (the plant): the contract forbids the owner granting
itself the submitter role.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.chain import Web3Ledger, eth_tester_keys
from ledger.errors import NodeBinaryMissing
from ledger.node import DEV_KEYS, ManagedNode, NodeKind, find_node_binary

NODE_KINDS = [
    pytest.param("anvil", marks=pytest.mark.integration),
    pytest.param("ganache", marks=pytest.mark.integration),
]
ALL_BACKENDS = [pytest.param("eth-tester"), *NODE_KINDS]
# For a test about the app or the verifier rather than the node (tests/integration
# parametrises ``node_kind`` over both kinds): one node kind is enough.
ANVIL_ONLY = pytest.mark.parametrize("node_kind", [NODE_KINDS[0]])


@dataclass(frozen=True)
class RegistryParties:
    """One freshly deployed registry and the three roles that talk to it."""

    backend: str
    regulator: Web3Ledger  # deployer and owner: grants and revokes
    submitter: Web3Ledger  # an authorised plant
    outsider: Web3Ledger  # funded, never authorised


def require_node_binary(kind: NodeKind) -> Path:
    """Skip (rather than fail) when the npm toolchain has not been installed."""
    try:
        return find_node_binary(kind)
    except NodeBinaryMissing as exc:
        pytest.skip(f"{exc}; `make test` installs the contracts/ npm toolchain")


def deploy_parties(backend: str, regulator: Web3Ledger, keys: Sequence[str]) -> RegistryParties:
    """Deploy a registry with ``keys[0]``, authorise ``keys[1]``, leave ``keys[2]`` out."""
    regulator.deploy_registry()
    submitter = regulator.with_key(keys[1])
    regulator.grant_submitter(submitter.address)
    return RegistryParties(backend, regulator, submitter, regulator.with_key(keys[2]))


def node_parties(node: ManagedNode) -> RegistryParties:
    keys = DEV_KEYS[node.kind]
    regulator = Web3Ledger.from_rpc(node.url, private_key=keys[0], contract_address=None)
    return deploy_parties(node.kind, regulator, keys)


def _session_node(
    kind: NodeKind, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ManagedNode]:
    require_node_binary(kind)
    node = ManagedNode(kind, data_dir=tmp_path_factory.mktemp(kind))
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNode]:
    yield from _session_node("anvil", tmp_path_factory)


@pytest.fixture(scope="session")
def ganache_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedNode]:
    yield from _session_node("ganache", tmp_path_factory)


@pytest.fixture(params=NODE_KINDS)
def chain_node(request: pytest.FixtureRequest) -> ManagedNode:
    """Each test using it runs once against anvil and once against ganache."""
    return request.getfixturevalue(f"{request.param}_node")


@pytest.fixture
def chain_parties(chain_node: ManagedNode) -> RegistryParties:
    return node_parties(chain_node)


@pytest.fixture
def chain_ledger(chain_parties: RegistryParties) -> Web3Ledger:
    """A plant's ledger on a real node, authorised on a registry of its own."""
    return chain_parties.submitter


@pytest.fixture
def in_process_ledger() -> Web3Ledger:
    """A plant's ledger on eth-tester: no node process, for fast unit tests."""
    return deploy_parties("eth-tester", Web3Ledger.in_process(), eth_tester_keys()).submitter


@pytest.fixture(params=ALL_BACKENDS)
def registry_parties(request: pytest.FixtureRequest) -> RegistryParties:
    """Regulator, plant and outsider on eth-tester, anvil and ganache in turn."""
    if request.param == "eth-tester":
        return deploy_parties("eth-tester", Web3Ledger.in_process(), eth_tester_keys())
    return node_parties(request.getfixturevalue(f"{request.param}_node"))
