"""Parsing the fields of one submitted event item. Each failure names its field."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from traceability.db import to_utc
from traceability.errors import ValidationFailed

_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")


def event_id(item: Mapping[str, Any], *, required: bool) -> str | None:
    raw = item.get("id")
    if raw is None:
        if required:
            raise ValidationFailed("id (a client-generated UUID) is required", field="id")
        return None
    if not isinstance(raw, str):
        raise ValidationFailed("id must be a UUID string", field="id")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise ValidationFailed("id must be a UUID", field="id") from None


def text(
    item: Mapping[str, Any], name: str, *, required: bool = False, max_len: int = 100
) -> str | None:
    value = item.get(name)
    if value is None:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{name} must be a string", field=name)
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
    value = text(item, name, required=required, max_len=64)
    if value is not None and not _CODE.match(value):
        raise ValidationFailed(f"{name} may contain letters, digits and _ . : / - only", field=name)
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
