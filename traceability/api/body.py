"""Reading JSON request bodies without losing decimal precision."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import request

from traceability.errors import TraceabilityError, ValidationFailed


class MalformedJson(TraceabilityError):
    code = "malformed_json"
    status = 400


def json_body() -> dict[str, Any]:
    """The request's JSON object; numbers with a fraction become Decimal, not float."""
    raw = request.get_data(cache=True)
    if not raw:
        raise MalformedJson("the request needs a JSON body", field="body")
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}", field="body") from None
    if not isinstance(data, dict):
        raise MalformedJson("the body must be a JSON object", field="body")
    _reject_lone_surrogates(data, "")
    return data


def _reject_lone_surrogates(value: Any, path: str) -> None:
    """JSON may escape half a UTF-16 pair (\\ud800); such text cannot be stored or hashed."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(
                "text contains an unpaired UTF-16 surrogate", field=path or "body"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_lone_surrogates(key, path or "body")
            _reject_lone_surrogates(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_lone_surrogates(item, f"{path}[{index}]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")
