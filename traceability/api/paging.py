"""``page`` and ``per_page`` query parameters, checked (a 422 naming the parameter)."""

from __future__ import annotations

from flask import request

from traceability.errors import ValidationFailed

MAX_PER_PAGE = 500


def _positive(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ValidationFailed(f"{name} must be a whole number", field=name)
    value = int(raw)
    if not 1 <= value <= maximum:
        raise ValidationFailed(f"{name} must be between 1 and {maximum}", field=name)
    return value


def page_args(default_per_page: int = 50) -> tuple[int, int]:
    return _positive("page", 1, 10**9), _positive("per_page", default_per_page, MAX_PER_PAGE)


def text_arg(name: str, max_length: int = 64) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length or not raw.isprintable():
        raise ValidationFailed(f"{name} is not a valid value", field=name)
    return raw
