"""Device QR IDs (SPEC §2.2): Crockford base32 with a mod-37 check symbol.

An ID is 13 data symbols (65 bits from :mod:`secrets`, so IDs cannot be
guessed or enumerated) followed by one check symbol, the data's integer value
modulo 37. Because 37 is prime and larger than the alphabet, the check catches
every single-symbol substitution and every transposition of two adjacent
symbols. Floor staff type IDs with gloves on, so input is forgiving: any case,
spaces and hyphens, full-width characters from a Chinese input method, the
Crockford look-alikes (O→0, I/L→1), or the whole label URL.

The canonical form, stored and put in URLs, is the bare 14 uppercase symbols.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from urllib.parse import unquote, urlsplit

from traceability.errors import ValidationFailed

__all__ = [
    "DATA_BITS",
    "ID_LENGTH",
    "CheckCharacterMismatch",
    "InvalidQrId",
    "format_id",
    "is_valid_id",
    "mint_id",
    "normalise_id",
]

DATA_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: The check position also uses ``*~$=U`` for the values 32..36.
CHECK_ALPHABET = DATA_ALPHABET + "*~$=U"
DATA_LENGTH = 13
DATA_BITS = 5 * DATA_LENGTH  # 65
ID_LENGTH = DATA_LENGTH + 1
#: Display grouping of the 14 symbols: ``7KQ2-M9XD-4TZP-AB``.
GROUPS = (4, 4, 4, 2)

_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_]+")
_DATA_VALUES = {symbol: value for value, symbol in enumerate(DATA_ALPHABET)}
_CHECK_VALUES = {symbol: value for value, symbol in enumerate(CHECK_ALPHABET)}
#: Input already in canonical form (what handhelds send back): only the check is left.
_CANONICAL = re.compile(f"[{DATA_ALPHABET}]{{{DATA_LENGTH}}}[{re.escape(CHECK_ALPHABET)}]")
#: Longer input is refused before any work: nobody types or scans 2 KB as an ID.
_MAX_RAW_LENGTH = 2048


class InvalidQrId(ValidationFailed, ValueError):
    """Input that is not a device ID; ``reason`` is a stable code, the message is for people.

    A domain error (the API maps it to 422 with ``field="qr_id"``) and also a
    ``ValueError``, so schema validators can raise it directly.
    """

    code = "invalid_qr_id"
    field = "qr_id"

    def __init__(self, raw: str, reason: str, message: str) -> None:
        super().__init__(message, field="qr_id", raw=raw, reason=reason)
        self.raw = raw
        self.reason = reason


class CheckCharacterMismatch(InvalidQrId):
    """Well-formed ID whose check symbol does not match: a typo or a misread label."""

    code = "check_character_mismatch"

    def __init__(self, raw: str, expected: str, found: str) -> None:
        super().__init__(
            raw,
            "check_character_mismatch",
            f"{raw!r} is not a valid device ID: the check character is {found!r} "
            "but the other characters need a different one; re-scan or retype it",
        )
        self.expected = expected
        self.found = found


def mint_id() -> str:
    """A new random ID in canonical form (65 random bits plus the check symbol)."""
    data = _encode(secrets.randbits(DATA_BITS))
    return data + _check_symbol(data)


def normalise_id(raw: str) -> str:
    """Canonical form of a scanned or typed ID, or :class:`InvalidQrId` saying why not."""
    if not isinstance(raw, str):
        raise InvalidQrId(str(raw), "not_text", "a device ID must be text")
    if _CANONICAL.fullmatch(raw) and raw[DATA_LENGTH] == _check_symbol(raw[:DATA_LENGTH]):
        return raw
    if len(raw) > _MAX_RAW_LENGTH:
        raise InvalidQrId(raw[:64], "wrong_length", "this is far too long to be a device ID")
    # NFKC folds full-width letters, digits and hyphens typed with a Chinese IME.
    text = unicodedata.normalize("NFKC", raw).strip()
    if "/" in text:
        text = _id_from_url(raw, text)
    candidate = _SEPARATORS.sub("", text).upper().translate(_LOOKALIKES)
    if not candidate:
        raise InvalidQrId(raw, "empty", "no device ID was given")
    bad = sorted({c for c in candidate if c not in _CHECK_VALUES})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidQrId(
            raw, "invalid_character", f"{raw!r} is not a device ID: it contains {shown}"
        )
    if len(candidate) != ID_LENGTH:
        raise InvalidQrId(
            raw,
            "wrong_length",
            f"{raw!r} is not a device ID: it has {len(candidate)} "
            f"character{'' if len(candidate) == 1 else 's'}, a device ID has {ID_LENGTH}",
        )
    data, check = candidate[:DATA_LENGTH], candidate[DATA_LENGTH]
    bad = sorted({c for c in data if c not in _DATA_VALUES})
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        raise InvalidQrId(
            raw,
            "invalid_character",
            f"{raw!r} is not a device ID: {shown} may only appear as the last (check) character",
        )
    expected = _check_symbol(data)
    if check != expected:
        raise CheckCharacterMismatch(raw, expected=expected, found=check)
    return candidate


def format_id(qr_id: str) -> str:
    """Grouped display form for labels and screens, e.g. ``7KQ2-M9XD-4TZP-AB``."""
    canonical = normalise_id(qr_id)
    parts, start = [], 0
    for size in GROUPS:
        parts.append(canonical[start : start + size])
        start += size
    return "-".join(parts)


def is_valid_id(raw: str) -> bool:
    """Whether ``raw`` normalises to a valid ID (bare, grouped or a label URL)."""
    try:
        normalise_id(raw)
    except InvalidQrId:
        return False
    return True


def _encode(value: int) -> str:
    symbols = []
    for _ in range(DATA_LENGTH):
        value, digit = divmod(value, 32)
        symbols.append(DATA_ALPHABET[digit])
    return "".join(reversed(symbols))


def _check_symbol(data: str) -> str:
    value = 0
    for symbol in data:
        value = value * 32 + _DATA_VALUES[symbol]
    return CHECK_ALPHABET[value % 37]


def _id_from_url(raw: str, text: str) -> str:
    """The ``{ID}`` of a label URL ``…/d/{ID}`` (trailing slash, query or fragment allowed)."""
    path = urlsplit(text).path if "://" in text else text.split("?", 1)[0].split("#", 1)[0]
    segments = [unquote(s) for s in path.rstrip("/").split("/")]
    if len(segments) < 2 or segments[-2].lower() != "d":
        raise InvalidQrId(
            raw, "not_a_device_url", f"{raw!r} is not a device label URL (…/d/ID) or an ID"
        )
    return segments[-1]
