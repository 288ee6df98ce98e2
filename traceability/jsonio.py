"""JSON responses: decimals as numbers, timestamps in the one ISO form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider

from traceability.db import iso


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Exact decimals (weights, tonnes) render as the shortest float
        # literal; money never reaches here (integer yuan/fen).
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class TraceJSONProvider(DefaultJSONProvider):
    ensure_ascii = False
    sort_keys = False
    default = staticmethod(_default)
