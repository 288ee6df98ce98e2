"""AnchorRegistry behaviour through the Python client, on eth-tester, anvil and ganache."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
from eth_utils import keccak

from ledger.chain import ZERO_HASH, Web3Ledger
from ledger.errors import (
    ContractMissing,
    ContractRejected,
    DuplicateRoot,
    NonceTooLow,
    NotAuthorised,
    ReceiptTimeout,
)
from ledger.node import ManagedNode
from tests.ledger_fixtures import RegistryParties, node_parties

GAS = 300_000  # comfortably above an anchor's cost, so nothing needs estimating


def new_root() -> bytes:
    return os.urandom(32)


def anchor(ledger: Web3Ledger, root: bytes, size: int = 1):
    receipt = ledger.wait_receipt(ledger.send_anchor(root, size).tx_hash)
    assert receipt.status
    return receipt


def test_authorised_anchor_is_readable_from_storage(registry_parties: RegistryParties) -> None:
    plant = registry_parties.submitter
    root = new_root()

    receipt = anchor(plant, root, size=42)

    record = plant.get_anchor(root)
    assert record is not None
    assert record.root == "0x" + root.hex()
    assert record.block_number == receipt.block_number
    assert record.submitter == plant.address
    assert (record.size, record.seq, record.prev_root) == (42, 0, ZERO_HASH)
    assert record.timestamp > 0
    assert plant.get_anchor("0x" + root.hex()) == record


def test_unknown_root_reads_as_absent(registry_parties: RegistryParties) -> None:
    assert registry_parties.submitter.get_anchor(new_root()) is None


def test_unauthorised_address_cannot_anchor(registry_parties: RegistryParties) -> None:
    root = new_root()
    with pytest.raises(NotAuthorised, match="NotSubmitter"):
        registry_parties.outsider.send_anchor(root, 1)
    assert registry_parties.submitter.get_anchor(root) is None


def test_revoked_submitter_cannot_anchor_but_keeps_its_history(
    registry_parties: RegistryParties,
) -> None:
    regulator, plant = registry_parties.regulator, registry_parties.submitter
    earlier = new_root()
    anchor(plant, earlier)

    regulator.revoke_submitter(plant.address)

    assert not plant.is_submitter(plant.address)
    with pytest.raises(NotAuthorised):
        plant.send_anchor(new_root(), 1)
    assert plant.get_anchor(earlier) is not None


@pytest.mark.parametrize(
    ("root", "size", "reason"),
    [(bytes(32), 1, "ZeroRoot"), (b"\x01" * 32, 0, "ZeroSize")],
    ids=["zero-root", "zero-size"],
)
def test_degenerate_anchor_is_rejected(
    registry_parties: RegistryParties, root: bytes, size: int, reason: str
) -> None:
    with pytest.raises(ContractRejected) as raised:
        registry_parties.submitter.send_anchor(root, size)
    assert raised.value.reason == reason
    assert registry_parties.submitter.anchor_count(registry_parties.submitter.address) == 0


def test_duplicate_root_is_rejected_even_from_another_submitter(
    registry_parties: RegistryParties,
) -> None:
    regulator, plant, other = (
        registry_parties.regulator,
        registry_parties.submitter,
        registry_parties.outsider,
    )
    root = new_root()
    anchor(plant, root)
    regulator.grant_submitter(other.address)

    with pytest.raises(DuplicateRoot):
        plant.send_anchor(root, 1)
    with pytest.raises(DuplicateRoot):
        other.send_anchor(root, 1)
    record = plant.get_anchor(root)
    assert record is not None and record.submitter == plant.address


def test_duplicate_root_reverts_on_chain_when_not_estimated(
    registry_parties: RegistryParties,
) -> None:
    """The contract itself refuses, not just the client's gas estimate."""
    plant = registry_parties.submitter
    root = new_root()
    anchor(plant, root)

    sent = plant.send_anchor(root, 1, gas=GAS)

    assert plant.wait_receipt(sent.tx_hash).status is False
    assert plant.anchor_count(plant.address) == 1


def test_owner_cannot_grant_itself_the_submitter_role(registry_parties: RegistryParties) -> None:
    regulator = registry_parties.regulator
    assert regulator.owner() == regulator.address
    with pytest.raises(NotAuthorised, match="SelfGrant"):
        regulator.grant_submitter(regulator.address)
    assert not regulator.is_submitter(regulator.address)


@pytest.mark.parametrize("target", ["submitter", "outsider"])
def test_only_the_owner_grants_roles(registry_parties: RegistryParties, target: str) -> None:
    grantee = getattr(registry_parties, target)
    with pytest.raises(NotAuthorised, match="NotOwner"):
        registry_parties.submitter.grant_submitter(grantee.address)
    assert registry_parties.outsider.is_submitter(registry_parties.outsider.address) is False


def test_only_the_owner_revokes_roles(registry_parties: RegistryParties) -> None:
    plant = registry_parties.submitter
    with pytest.raises(NotAuthorised, match="NotOwner"):
        registry_parties.outsider.revoke_submitter(plant.address)
    assert plant.is_submitter(plant.address)


def test_anchors_of_enumerates_a_submitters_linked_list(registry_parties: RegistryParties) -> None:
    regulator, plant, other = (
        registry_parties.regulator,
        registry_parties.submitter,
        registry_parties.outsider,
    )
    regulator.grant_submitter(other.address)
    roots = [new_root() for _ in range(3)]
    for size, root in enumerate(roots, start=1):
        anchor(plant, root, size)
    foreign = new_root()
    anchor(other, foreign)

    records = plant.anchors_of(plant.address)

    assert plant.anchor_count(plant.address) == 3
    assert [r.root for r in records] == ["0x" + root.hex() for root in roots]
    assert [r.seq for r in records] == [0, 1, 2]
    assert [r.size for r in records] == [1, 2, 3]
    assert [r.prev_root for r in records] == [ZERO_HASH, records[0].root, records[1].root]
    assert records == [plant.get_anchor(root) for root in roots]
    assert [(r.root, r.seq, r.prev_root) for r in plant.anchors_of(other.address)] == [
        ("0x" + foreign.hex(), 0, ZERO_HASH)
    ]


def test_stale_nonce_is_reported_as_nonce_too_low(registry_parties: RegistryParties) -> None:
    if registry_parties.backend == "ganache":
        pytest.skip(
            "ganache 7.9 mines a raw transaction with an already-used nonce instead of "
            "rejecting it (ConsenSys-archive/ganache#3794)"
        )
    plant = registry_parties.submitter
    anchor(plant, new_root())
    used = plant.pending_nonce() - 1

    with pytest.raises(NonceTooLow):
        plant.send_anchor(new_root(), 1, nonce=used)


def test_chain_info_and_block_hashes_are_plain_values(registry_parties: RegistryParties) -> None:
    plant = registry_parties.submitter
    receipt = anchor(plant, new_root())

    info = plant.info()

    expected_ids = {"anvil": 31337, "ganache": 1337}
    assert info.chain_id == expected_ids.get(registry_parties.backend, info.chain_id)
    assert info.genesis_hash.startswith("0x") and len(info.genesis_hash) == 66
    assert info.block_number >= receipt.block_number == plant.block_number()
    assert plant.block_hash(receipt.block_number) == receipt.block_hash
    assert plant.block_hash(receipt.block_number + 1000) is None


def test_address_without_registry_code_is_reported_missing(
    registry_parties: RegistryParties,
) -> None:
    # An externally owned account: a valid address with no code behind it.
    stray_registry = registry_parties.submitter.at_address(registry_parties.outsider.address)
    assert stray_registry.contract_code_matches() is False
    with pytest.raises(ContractMissing):
        stray_registry.get_anchor(new_root())


def _rpc(url: str, method: str, params: list[bool | str] | None = None) -> Any:
    response = requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}, timeout=5
    )
    body = response.json()
    assert "error" not in body, body
    return body["result"]


@pytest.mark.integration
def test_resending_a_pending_anchor_returns_the_same_hash(anvil_node: ManagedNode) -> None:
    """A worker that crashed after sending resends the same signed bytes: the node
    already knows them, which must read as success, not as an error."""
    plant = node_parties(anvil_node).submitter
    root = new_root()
    _rpc(anvil_node.url, "evm_setAutomine", [False])
    try:
        nonce = plant.pending_nonce()
        first = plant.send_anchor(root, 1, nonce=nonce, gas=GAS)
        again = plant.send_anchor(root, 1, nonce=nonce, gas=GAS)
        assert again == first
        assert plant.get_receipt(first.tx_hash) is None
        with pytest.raises(ReceiptTimeout):
            plant.wait_receipt(first.tx_hash, timeout=0.3)
        _rpc(anvil_node.url, "evm_mine")
    finally:
        _rpc(anvil_node.url, "evm_setAutomine", [True])
    assert plant.wait_receipt(first.tx_hash).status
    assert plant.anchor_count(plant.address) == 1


def test_anchor_emits_an_event_with_only_hashes_and_numbers(chain_node: ManagedNode) -> None:
    """Topics are the root and the submitter (both fixed-size, so kept in full)."""
    plant = node_parties(chain_node).submitter
    root = new_root()
    anchor(plant, root)
    second = anchor(plant, new_root(), size=9)

    receipt = _rpc(chain_node.url, "eth_getTransactionReceipt", [second.tx_hash])

    (log,) = receipt["logs"]
    signature = keccak(text="Anchored(bytes32,address,uint64,bytes32,uint32)")
    assert log["address"].lower() == str(plant.contract_address).lower()
    assert log["topics"][0] == "0x" + signature.hex()
    assert log["topics"][2] == "0x" + plant.address[2:].lower().rjust(64, "0")
    data = bytes.fromhex(log["data"][2:])
    assert int.from_bytes(data[0:32], "big") == 1  # seq
    assert data[32:64] == root  # prevRoot
    assert int.from_bytes(data[64:96], "big") == 9  # size
