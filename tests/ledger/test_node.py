"""The managed node keeps its chain across restarts and fails fast when it is gone."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from ledger.chain import Web3Ledger
from ledger.errors import LedgerUnavailable, NodeBinaryMissing
from ledger.node import DEV_KEYS, ManagedNode, NodeKind, find_node_binary
from tests.ledger_fixtures import node_parties, require_node_binary
from tests.support.ledger import wait_for_state_dump
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def anchored_node(kind: NodeKind, data_dir: Path) -> tuple[ManagedNode, Web3Ledger, bytes]:
    """A started node holding one registry with one anchor; returns the plant's ledger."""
    require_node_binary(kind)
    node = ManagedNode(kind, data_dir=data_dir).start()
    plant = node_parties(node).submitter
    root = os.urandom(32)
    assert plant.wait_receipt(plant.send_anchor(root, 7).tx_hash).status
    return node, plant, root


def reconnect(node: ManagedNode, plant: Web3Ledger) -> Web3Ledger:
    return Web3Ledger.from_rpc(
        node.url, private_key=DEV_KEYS[node.kind][1], contract_address=plant.contract_address
    )


@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_chain_survives_a_graceful_restart(kind: NodeKind, tmp_path: Path) -> None:
    node, plant, root = anchored_node(kind, tmp_path)
    before_info, before_record = plant.info(), plant.get_anchor(root)
    assert before_record is not None
    try:
        node.stop()
        assert node.state_path.exists()

        node.start()
        after = reconnect(node, plant)

        assert after.info().genesis_hash == before_info.genesis_hash
        assert after.get_anchor(root) == before_record
        assert after.block_hash(before_record.block_number) == plant.block_hash(
            before_record.block_number
        )
        assert after.contract_code_matches()
        assert after.pending_nonce() == plant.pending_nonce()
    finally:
        node.stop()


def test_anvil_genesis_stays_the_same_over_many_restarts(tmp_path: Path) -> None:
    """The genesis hash is our chain identity: restarts must not change it,
    however long apart (anvil rebuilds block 0 when it loads its state)."""
    node, plant, root = anchored_node("anvil", tmp_path)
    genesis = plant.info().genesis_hash
    stamp = int((node.data_dir / "anvil-genesis-timestamp").read_text())
    try:
        for _ in range(3):
            # A second after genesis, a fresh block 0 would hash differently.
            wait_until(lambda: time.time() >= stamp + 1, timeout=5, what="a new second")
            node.stop()
            node.start()
            again = reconnect(node, plant)
            assert again.info().genesis_hash == genesis
            assert again.get_anchor(root) is not None
    finally:
        node.stop()


def test_fresh_data_dir_means_a_fresh_chain(tmp_path: Path) -> None:
    """Sanity check for the restart test: state really comes from the data directory."""
    node, plant, _ = anchored_node("anvil", tmp_path / "first")
    node.stop()
    other = ManagedNode("anvil", data_dir=tmp_path / "second").start()
    try:
        assert reconnect(other, plant).block_number() == 0
    finally:
        other.stop()


def test_anvil_state_interval_survives_a_crash(tmp_path: Path) -> None:
    """--state-interval 1 dumps the chain every second, so SIGKILL loses at most that."""
    node, plant, root = anchored_node("anvil", tmp_path)
    record = plant.get_anchor(root)
    assert record is not None
    wait_for_state_dump(node.state_path, record.block_number)  # a periodic dump, not on exit
    node.kill()

    node.start()
    try:
        assert reconnect(node, plant).get_anchor(root) == record
    finally:
        node.stop()


def test_killed_node_leaves_the_port_dead_and_fails_fast(tmp_path: Path) -> None:
    require_node_binary("anvil")
    node = ManagedNode("anvil", data_dir=tmp_path).start()
    ledger = Web3Ledger.from_rpc(node.url, private_key=DEV_KEYS["anvil"][0], contract_address=None)
    assert ledger.info().chain_id == 31337

    node.kill()

    assert not node.is_running()
    with socket.socket() as probe:
        assert probe.connect_ex((node.host, node.port or 0)) != 0
    started = time.monotonic()
    with pytest.raises(LedgerUnavailable):
        ledger.info()
    assert time.monotonic() - started < 3


def test_start_refuses_a_port_already_in_use(tmp_path: Path, anvil_node: ManagedNode) -> None:
    squatter = ManagedNode("anvil", data_dir=tmp_path, port=anvil_node.port)
    with pytest.raises(LedgerUnavailable, match="in use"):
        squatter.start()
    assert anvil_node.is_running()


def test_context_manager_stops_the_node(tmp_path: Path) -> None:
    require_node_binary("anvil")
    with ManagedNode("anvil", data_dir=tmp_path) as node:
        url = node.url
        assert Web3Ledger.from_rpc(url, private_key=None, contract_address=None).block_number() == 0
    with pytest.raises(LedgerUnavailable):
        Web3Ledger.from_rpc(url, private_key=None, contract_address=None, timeout=1).info()


def test_missing_binary_explains_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(NodeBinaryMissing, match="make test"):
        find_node_binary("anvil", contracts_dir=tmp_path)
