"""Checking the keys and addresses a deployment is configured with (SPEC §3, trust anchors).

A signing key is 32 bytes: exactly 64 hexadecimal digits (``0x`` optional),
neither zero nor beyond the secp256k1 group order. A key one digit short is
not silently padded: it would sign as an address nobody funded or
authorised. An address is ``0x`` and 40 hexadecimal digits; written in mixed
case it carries an EIP-55 checksum, which must be right (a typo in one digit
is caught). Each check names what it checked, never the key itself::

    >>> address_problem("0x52908400098527886E0F7030069857D2E4169EE7")
    >>> address_problem("0x52908400098527886e0F7030069857D2E4169EE7")[:31]
    'has a wrong EIP-55 checksum: a '
    >>> key_problem("ab" * 31 + "c")
    'must be 64 hexadecimal digits (0x optional), not 63'
"""

from __future__ import annotations

import re

from eth_utils import to_checksum_address

__all__ = ["address_problem", "checked_address", "checked_key", "key_problem"]

_HEX = re.compile(r"^[0-9a-fA-F]*$")
#: The order of the secp256k1 group: a private key is 1 … n-1.
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def key_problem(value: str) -> str | None:
    """Why ``value`` is not a private key (None: it is one). Never repeats the value."""
    digits = value.strip().removeprefix("0x").removeprefix("0X")
    if not _HEX.match(digits):
        return "must be hexadecimal digits (0-9, a-f), with 0x optional"
    if len(digits) != 64:
        return f"must be 64 hexadecimal digits (0x optional), not {len(digits)}"
    if not 0 < int(digits, 16) < _SECP256K1_N:
        return "is not a valid secp256k1 private key (zero or beyond the group order)"
    return None


def checked_key(value: str, what: str) -> str:
    """``value`` as ``0x`` and 64 lower-case digits; ValueError naming ``what`` if it is not."""
    problem = key_problem(value)
    if problem:
        raise ValueError(f"{what} {problem}")
    return "0x" + value.strip().removeprefix("0x").removeprefix("0X").lower()


def address_problem(value: str) -> str | None:
    """Why ``value`` is not an Ethereum address (None: it is one)."""
    if not value.startswith("0x"):
        return "must start with 0x"
    digits = value[2:]
    if not _HEX.match(digits):
        return "must be 0x and hexadecimal digits (0-9, a-f)"
    if len(digits) != 40:
        return f"must be 0x and 40 hexadecimal digits, not {len(digits)}"
    mixed = digits not in (digits.lower(), digits.upper())
    if mixed and to_checksum_address("0x" + digits.lower()) != "0x" + digits:
        return (
            "has a wrong EIP-55 checksum: a digit or the case of a letter was mistyped "
            "(copy the address again)"
        )
    return None


def checked_address(value: str, what: str) -> str:
    """``value`` checksummed (EIP-55); ValueError naming ``what`` and the value if it is not."""
    problem = address_problem(value.strip())
    if problem:
        raise ValueError(f"{what} {value.strip()!r} {problem}")
    return str(to_checksum_address(value.strip()))
