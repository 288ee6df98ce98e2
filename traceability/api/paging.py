"""``page`` and ``per_page`` query parameters, checked (a 422 naming the parameter)."""

from __future__ import annotations

from flask import request

from traceability.errors import ValidationFailed
from traceability.limits import whole_number

MAX_PER_PAGE = 500


def whole_arg(name: str, default: int, maximum: int) -> int:
    """The query parameter ``name``: a whole number from 1 to ``maximum``."""
    return whole_number(request.args.get(name), name=name, default=default, maximum=maximum)


def page_args(default_per_page: int = 50) -> tuple[int, int]:
    return whole_arg("page", 1, 10**9), whole_arg("per_page", default_per_page, MAX_PER_PAGE)


def text_arg(name: str, max_length: int = 64) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length or not raw.isprintable():
        raise ValidationFailed(f"{name} is not a valid value", field=name)
    return raw
