"""Canonical event digests: SHA-256 over RFC 8785 (JCS) canonical JSON.

The independent verifier recomputes these without the application, so the
digest is defined only by the event content dictionary built here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
import rfc8785

# The fields an event digest covers, in the order of SPEC §3. ``device``,
# ``lot``, ``claim`` and ``organisation`` (the register, SPEC §2.8) are
# alternatives: an event concerns exactly one of them.
DIGEST_FIELDS = (
    "id",
    "type",
    "device",
    "lot",
    "claim",
    "organisation",
    "org",
    "actor",
    "occurred_at",
    "recorded_at",
    "payload",
    "prev",
)


class NotCanonicalisable(ValueError):
    """The content holds something JCS hashing must not see (floats, non-str keys...)."""


def _reject_floats(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise NotCanonicalisable(f"{path}: floats are not allowed in hashed content")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalisable(f"{path}: keys must be strings")
            _reject_floats(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _reject_floats(item, f"{path}[{index}]")


# For content made only of BMP-keyed objects, arrays, strings, safe integers,
# booleans and null, RFC 8785 output is exactly what orjson writes with sorted
# keys: no whitespace, keys in UTF-8 byte order (= code point order = UTF-16
# order inside the BMP), the same string escapes, integers in plain decimal.
# Anything else goes to the rfc8785 library, which is also the reference the
# tests compare this path against.
_MAX_SAFE_INTEGER = 2**53 - 1


def _fast_path_exact(value: Any) -> bool:
    """Whether ``value`` holds only what the fast encoder writes exactly as RFC 8785 does.

    Iterative (an explicit stack): this runs for every event recorded.
    """
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str or not (key.isascii() or max(key, default="") <= "\uffff"):
                    return False
            extend(item.values())
        elif kind is list:
            extend(item)
        else:
            return False  # floats, tuples, subclasses...: the slow, checked path
    return True


def canonical_json(content: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical bytes of ``content`` (integers and strings only, no floats)."""
    return canonical_value(dict(content))


def canonical_value(content: Any) -> bytes:
    """RFC 8785 canonical bytes of any JSON value (dicts, lists, strings, integers...)."""
    if _fast_path_exact(content):
        try:
            return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # lone surrogates: let the reference implementation decide
    _reject_floats(content, "$")
    return rfc8785.dumps(content)


def event_content(
    *,
    id: str,
    type: str,
    org: str,
    actor: str,
    occurred_at: str,
    recorded_at: str,
    payload: Mapping[str, Any],
    prev: str | None,
    device: str | None = None,
    lot: str | None = None,
    claim: str | None = None,
    organisation: str | None = None,
    batch: str | None = None,
) -> dict[str, Any]:
    """The dictionary an event digest is computed over.

    Exactly one of ``device``/``lot``/``claim``/``organisation``/``batch`` is present;
    the others are omitted so the same function serves every kind of subject
    (and the digest of a device or lot event is what it always was).
    """
    subjects = (device, lot, claim, organisation, batch)
    if sum(s is not None for s in subjects) != 1:
        raise ValueError("an event concerns exactly one device, lot, claim, organisation or batch")
    content: dict[str, Any] = {
        "id": id,
        "type": type,
        "org": org,
        "actor": actor,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "payload": dict(payload),
        "prev": prev,
    }
    if device is not None:
        content["device"] = device
    elif lot is not None:
        content["lot"] = lot
    elif claim is not None:
        content["claim"] = claim
    elif batch is not None:
        content["batch"] = batch
    else:
        content["organisation"] = organisation
    return content


def digest_hex(content: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``content``."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def digest_matches(content: Mapping[str, Any], expected: str) -> bool:
    """Whether ``content`` is what the digest ``expected`` (hex) was computed over.

    For what events hold (strings, integers, keys inside the BMP) the canonical
    bytes are what orjson writes with sorted keys, so that hash is tried first,
    without walking the content to prove the two paths agree: if it gives
    ``expected``, the content is exactly the JSON text that was hashed (equal
    texts are equal values), whichever way that text was produced. Otherwise
    the exact path decides. Content that has no canonical form (a float, a
    non-string key: what a database admin may write) matches nothing.
    """
    try:
        fast = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        fast = None
    if fast is not None and hashlib.sha256(fast).hexdigest() == expected:
        return True
    try:
        return digest_hex(content) == expected
    except (NotCanonicalisable, TypeError, ValueError):
        return False
