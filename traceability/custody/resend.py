"""An event id sent again: the same event (``duplicate``) or another one (``conflict``).

A handheld that lost the answer to a batch sends it again, and each item it
had recorded is confirmed as a ``duplicate`` with its digest (SPEC §4.1). An
id re-sent with other content is no retry: answering ``duplicate`` would let
the handheld drop a record the server never took, so it is a ``conflict``
the user sees.

"The same content" is what the sender said, compared with what was recorded
of it: the subject, ``occurred_at`` when the sender gave one, and every
field of the payload (weights in grams, as stored; numbers by value, so
``30`` and ``"30.000"`` kg are the same weight).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from traceability.catalog.services import get_category, validate_attributes
from traceability.custody.messages import AnyEvent, Collected
from traceability.custody.workspace import EVENT_TABLE, Workspace
from traceability.db import to_utc
from traceability.errors import TraceabilityError

# Payload keys the server adds (a correction after dismantling is flagged; a lot
# shipment says whether it crosses a provincial border; a batch closing counts its devices
# and their intake).
_SERVER_KEYS = frozenset({"flag", "cross_province", "devices", "intake_g"})


def same_content(ws: Workspace, event_id: str, message: AnyEvent) -> bool:
    """Whether ``message`` says what the event recorded under ``event_id`` says."""
    recorded = _recorded(ws, event_id)
    if recorded is None:  # pragma: no cover - the id was just found
        return False
    occurred_at, device, lot, payload = recorded
    qr_id, lot_code = getattr(message, "qr_id", None), getattr(message, "lot", None)
    if qr_id is not None and qr_id != device:
        return False
    if lot_code is not None and lot_code != lot:
        return False
    if message.occurred_at is not None and to_utc(message.occurred_at) != to_utc(occurred_at):
        return False
    said = message.model_dump(
        exclude_none=True, exclude={"id", "type", "occurred_at", "qr_id", "lot"}
    )
    if isinstance(message, Collected):
        try:
            category = get_category(ws.catalog, message.category)
            # What was recorded may hold a value since retired ("flat"): compare, not judge.
            said["attributes"] = validate_attributes(category, message.attributes, legacy=True)
        except TraceabilityError:
            return False
    stored = {k: v for k, v in payload.items() if k not in _SERVER_KEYS}
    if "manifests" in stored and "manifests" in said and "weight_kg" not in said:
        stored.pop("weight_g", None)  # a receipt's total, added from its manifests
    return _same(_in_grams(said), stored)


def _recorded(
    ws: Workspace, event_id: str
) -> tuple[dt.datetime, str | None, str | None, Mapping[str, Any]] | None:
    for new in ws.new_rows:  # recorded earlier in this batch
        if new["id"] == event_id:
            return new["occurred_at"], new["device"], new["lot"], new["payload"]
    columns = [EVENT_TABLE.c[n] for n in ("occurred_at", "device", "lot", "payload")]
    found = ws.session.connection().execute(select(*columns).where(EVENT_TABLE.c.id == event_id))
    row = found.first()
    return None if row is None else (row[0], row[1], row[2], row[3] or {})


def _in_grams(value: Any) -> Any:
    """The sender's fields as they are stored: ``weight_kg`` becomes ``weight_g``."""
    if isinstance(value, Mapping):
        return {
            ("weight_g" if k == "weight_kg" else k): (
                Decimal(str(v)) * 1000 if k == "weight_kg" else _in_grams(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_in_grams(v) for v in value]
    return value


def _same(said: Any, stored: Any) -> bool:
    if isinstance(said, Mapping) or isinstance(stored, Mapping):
        return (
            isinstance(said, Mapping)
            and isinstance(stored, Mapping)
            and said.keys() == stored.keys()
            and all(_same(said[k], stored[k]) for k in said)
        )
    if isinstance(said, list) or isinstance(stored, list):
        return (
            isinstance(said, list)
            and isinstance(stored, list)
            and len(said) == len(stored)
            and all(_same(a, b) for a, b in zip(said, stored, strict=True))
        )
    if said == stored and type(said) is type(stored):
        return True
    return _number(said) is not None and _number(said) == _number(stored)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
