"""Parsing the fields of one submitted event item. Each failure names its field."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from traceability import limits
from traceability.db import to_utc
from traceability.errors import ValidationFailed

_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_CODE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.:/-]{{0,{limits.CODE - 1}}}$")
_ORG_CODE = re.compile(rf"^[A-Z0-9][A-Z0-9_-]{{1,{limits.ORG_CODE - 1}}}$")


def event_id(item: Mapping[str, Any], *, required: bool, name: str = "id") -> str | None:
    """A client-generated UUID in its canonical spelling."""
    raw = item.get(name)
    if raw is None:
        if required:
            raise ValidationFailed(f"{name} (a client-generated UUID) is required", field=name)
        return None
    if not isinstance(raw, str):
        raise ValidationFailed(f"{name} must be a UUID string", field=name)
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ValidationFailed(f"{name} must be a UUID", field=name) from None


def text(
    item: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    max_len: int = limits.NAMEPLATE,
    multiline: bool = False,
) -> str | None:
    """Trimmed text of at most ``max_len`` characters; one line unless ``multiline``."""
    value = item.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
    problem = limits.text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationFailed(f"{name} {problem}", field=name)
    value = value.strip()
    if not value:
        if required:
            raise ValidationFailed(f"{name} must not be empty", field=name)
        return None
    if len(value) > max_len:
        raise ValidationFailed(f"{name} is longer than {max_len} characters", field=name)
    return value


def code(item: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """An identifier chosen by people: batch codes, line names, manifest numbers."""
    value = text(item, name, required=required, max_len=limits.CODE)
    if value is not None and not _CODE.match(value):
        raise ValidationFailed(f"{name} may contain letters, digits and _ . : / - only", field=name)
    return value


def org_code(item: Mapping[str, Any], name: str) -> str:
    """A required organisation code, well-formed before it is looked up."""
    value = text(item, name, required=True, max_len=limits.ORG_CODE)
    assert value is not None
    if not _ORG_CODE.match(value):
        raise ValidationFailed(f"{name} is not an organisation code", field=name)
    return value


def lot_code(item: Mapping[str, Any], name: str = "lot") -> str:
    """A required output lot code, well-formed before it is looked up."""
    value = text(item, name, required=True, max_len=limits.LOT_CODE)
    assert value is not None
    if not _CODE.match(value):
        raise ValidationFailed(f"{name} is not a lot code", field=name)
    return value


def occurred_at(item: Mapping[str, Any], *, now: dt.datetime, future_skew_s: int) -> dt.datetime:
    raw = item.get("occurred_at")
    if raw is None:
        return now
    if not isinstance(raw, str):
        raise ValidationFailed("occurred_at must be an ISO 8601 string", field="occurred_at")
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            "occurred_at is not an ISO 8601 timestamp", field="occurred_at"
        ) from None
    if value.tzinfo is None:
        raise ValidationFailed(
            "occurred_at needs a UTC offset (e.g. Z or +08:00)", field="occurred_at"
        )
    try:
        value = to_utc(value)
    except OverflowError:  # e.g. year 1 at +01:00 is before datetime.min in UTC
        raise ValidationFailed("occurred_at is out of range", field="occurred_at") from None
    if value > now + dt.timedelta(seconds=future_skew_s):
        raise ValidationFailed("occurred_at is in the future", field="occurred_at")
    if value < _EARLIEST:
        raise ValidationFailed("occurred_at is before 2000", field="occurred_at")
    return value


def mapping(item: Mapping[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = item.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed(f"{name} must be an object", field=name)
    return dict(value)
