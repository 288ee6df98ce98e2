"""Keys and addresses a deployment is configured with: refused with the reason, never padded."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.keys import address_problem, checked_address, checked_key, key_problem
from ledger.verify import TrustAnchors

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # KEY's address, EIP-55


def test_a_key_one_digit_short_is_refused_not_padded_to_another_address() -> None:
    short = KEY[:-1]
    # what the issue saw: eth-account signs with it, as an address nobody authorised
    assert Account.from_key(short).address != ADDRESS
    assert key_problem(short) == "must be 64 hexadecimal digits (0x optional), not 63"
    with pytest.raises(ValueError, match=r"^TRACE_LEDGER_KEY must be 64 hexadecimal digits"):
        checked_key(short, "TRACE_LEDGER_KEY")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("0x" + "zz" * 32, "must be hexadecimal digits"),
        (KEY + "0", "not 65"),
        ("0x" + "00" * 32, "not a valid secp256k1 private key"),
        ("0x" + "ff" * 32, "not a valid secp256k1 private key"),
    ],
)
def test_malformed_keys_are_refused_without_repeating_them(value: str, problem: str) -> None:
    with pytest.raises(ValueError) as refused:
        checked_key(value, "TRACE_LEDGER_OWNER_KEY")
    assert problem in str(refused.value) and "TRACE_LEDGER_OWNER_KEY" in str(refused.value)
    assert value.removeprefix("0x")[:16] not in str(refused.value)


def test_a_key_with_or_without_0x_and_any_case_is_one_key() -> None:
    assert checked_key(KEY.removeprefix("0x").upper(), "k") == KEY
    assert checked_key(f"  {KEY}\n", "k") == KEY


@pytest.mark.parametrize("written", [ADDRESS, ADDRESS.lower(), "0x" + ADDRESS[2:].upper()])
def test_an_address_in_one_case_or_with_its_checksum_is_accepted(written: str) -> None:
    assert address_problem(written) is None
    assert checked_address(written, "ADDR") == ADDRESS


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (ADDRESS[:-1], "40 hexadecimal digits, not 39"),
        (ADDRESS + "0", "not 41"),
        (ADDRESS[2:], "must start with 0x"),
        ("0x" + "g" * 40, "hexadecimal digits"),
        (ADDRESS.replace("C518", "c518"), "wrong EIP-55 checksum"),
        (ADDRESS.replace("C518", "C519"), "wrong EIP-55 checksum"),  # a digit mistyped
    ],
)
def test_malformed_addresses_are_refused_naming_the_argument(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=r"^ADDR ") as refused:
        checked_address(value, "ADDR")
    assert problem in str(refused.value)


def test_the_trust_file_refuses_a_submitter_with_a_wrong_checksum() -> None:
    with pytest.raises(ValueError, match=r"submitter .* wrong EIP-55 checksum"):
        TrustAnchors(registry=ADDRESS, submitters=(ADDRESS.replace("C518", "c518"),))


def test_revoked_submitters_anchors_count_up_to_the_revocation_block_only() -> None:
    trust = TrustAnchors.from_dict(
        {
            "format": "weee-trace-trust/1",
            "registry": ADDRESS,
            "submitters": [ADDRESS],
            "revoked": {ADDRESS.lower(): 120},
        }
    )
    assert trust.revoked == ((ADDRESS, 120),)
    assert trust.accepts(ADDRESS, 119) and trust.accepts(ADDRESS, 120)
    assert not trust.accepts(ADDRESS, 121)
    assert not trust.accepts(ADDRESS)  # a revoked submitter anchoring now: not accepted
    assert TrustAnchors.from_dict(trust.to_dict()) == trust
