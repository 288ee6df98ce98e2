"""What a submitted field may hold: its length and its characters.

The parsers (custody/fields.py, the event handlers, corrections) and the
column sizes of the models read these numbers, so a value the API accepts
always fits the database (tests/custody/test_limits.py keeps them in step).
"""

from __future__ import annotations

import re
from typing import Any

from traceability.errors import ValidationFailed

# -- identifiers -------------------------------------------------------------
ORG_CODE = 32  # organisation codes (`to`, custodian, destination)
QR_ID = 14  # normalised device IDs
EVENT_ID = 36  # canonical UUIDs
CODE = 64  # people's identifiers: batch codes, line names, manifest numbers
BATCH_SUBJECT = ORG_CODE + 1 + CODE  # a batch as an event's subject: "{org}/{code}"
LOT_CODE = 64  # "{org}-{fraction}-{number:05d}"
CATEGORY = 32
FRACTION = 32
SOURCE = 16
MANIFEST_NO = 40  # a transfer manifest's or shipping document's number (lots/manifests.py)
HW_CODE = 10  # a 国家危险废物名录 waste code, 900-045-49

# -- text --------------------------------------------------------------------
NAMEPLATE = 100  # brand, model, manufacturer serial
AREA = 64  # storage area
METHOD = 64  # treatment method of a lot
REASON = 500  # why a correction or a refusal was made
TRANSPORTER = 100  # the carrier named on a transfer manifest

# C0 controls (but tab, line feed and carriage return, which multi-line text
# such as a reason may hold), DEL and C1 controls: invisible in every report,
# and PostgreSQL cannot store NUL at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Single-line fields (codes, names) refuse the line controls too.
_LINE_BREAKS = re.compile(r"[\t\n\r]")


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` cannot be stored and hashed as text, or None."""
    if not value.isascii():  # (ASCII cannot hold a surrogate)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # half a UTF-16 pair, from a JSON \\ud800 escape
            return "contains an unpaired UTF-16 surrogate"
    found = _CONTROL.search(value) or (None if multiline else _LINE_BREAKS.search(value))
    if found is not None:
        return f"contains the control character U+{ord(found.group()):04X}"
    return None


def check_strings(value: Any, path: str, *, root: str) -> None:
    """Refuse any string (value or key) in a JSON value that ``text_problem`` objects to.

    The error names the string's full path (``brand``, ``outputs[0].fraction``,
    ``attributes.screen_in``); a bad key is reported at its parent, or at
    ``root`` when it sits at the top.
    """
    if not _clean(value):
        _find_problem(value, path, root=root)


def _clean(value: Any) -> bool:
    """Whether every string in ``value`` is storable (the common case, without paths)."""
    if isinstance(value, str):
        return text_problem(value) is None
    if isinstance(value, dict):
        return all(
            (not isinstance(k, str) or text_problem(k) is None) and _clean(v)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    return True


def _find_problem(value: Any, path: str, *, root: str) -> None:
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValidationFailed(f"{path or root} {problem}", field=path or root)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and text_problem(key) is not None:
                raise ValidationFailed(
                    f"a field name in {path or root} {text_problem(key)}", field=path or root
                )
            _find_problem(item, f"{path}.{key}" if path else str(key), root=root)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _find_problem(item, f"{path}[{index}]", root=root)


# -- JSON nesting ------------------------------------------------------------

# A JSON string, escapes included (unrolled: no backtracking on long strings).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Everything but brackets goes; opening ones become "[", closing ones "]".
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects more than ``limit`` deep.

    A scan before any parser runs, at C speed: strings are dropped, then each
    pass removes the innermost bracket pairs. What is left after ``limit``
    passes was nested deeper, or is unclosed: a parser recurses into an
    unclosed bracket before it finds that the text ends, so those count too.
    """
    brackets = _JSON_STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    for passes in range(limit + 1):
        inner = brackets.replace(b"[]", b"")
        if inner == brackets:  # no pair left: "]]][[[" remains, if anything
            return passes + brackets.count(b"[") > limit
        brackets = inner
    return True
