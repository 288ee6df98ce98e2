"""Reading JSON request bodies without losing decimal precision, nor the worker (SPEC §4.1)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from flask import request

from traceability.errors import TraceabilityError
from traceability.limits import check_strings, json_too_deep

#: How deep arrays and objects may nest in a request body (an event batch needs 5;
#: the scan costs a pass over the body per level).
MAX_DEPTH = 16


class MalformedJson(TraceabilityError):
    code = "malformed_json"
    status = 400


class TooDeep(MalformedJson):
    code = "too_deep"


def json_body(*, items: str | None = None) -> dict[str, Any]:
    """The request's JSON object; numbers with a fraction become Decimal, not float.

    Every string in it must be storable text (no control characters, no lone
    surrogates), except inside the list named ``items``: its elements are
    checked one by one by the service, so one bad item never fails the others.
    """
    raw = request.get_data(cache=True)
    if not raw:
        raise MalformedJson("the request needs a JSON body", field="body")
    if json_too_deep(raw, MAX_DEPTH):
        # Checked before parsing: web3's dependencies raise the recursion limit
        # (ledger/recursion.py), and a parser recursing 100,000 deep overflows
        # the C stack and kills the worker instead of raising.
        raise TooDeep(f"the body nests arrays and objects more than {MAX_DEPTH} deep", field="body")
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise MalformedJson("the body must be a JSON object", field="body")
    outside = {k: v for k, v in data.items() if not (k == items and isinstance(v, list))}
    check_strings(outside, "", root="body")
    return data


# A JSON string holds a control character, a lone surrogate or DEL only as an
# escape (\u...., \b, \f) or, for DEL and the C1 controls, as itself in UTF-8
# (UTF-16/32 bodies contain NUL bytes): a body with none of these holds only
# storable strings. (A false alarm, e.g. an escaped backslash before a "u",
# only means the strings are checked one by one.)
_SUSPECT = re.compile(rb"\\[ubf]|\x00|\x7f|\xc2[\x80-\x9f]")


def plain_text_body() -> bool:
    """Whether no string anywhere in the request body can fail ``text_problem``."""
    return _SUSPECT.search(request.get_data(cache=True)) is None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
