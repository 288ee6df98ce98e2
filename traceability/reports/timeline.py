"""A device's timeline as a reviewer reads it (issue 20 item 3): each event with its
verification, who recorded it, the weight it carries, its three times — occurred
(what the handheld says), recorded (what the server says) and anchored (the block's
time, read from the chain: the one a plant cannot set) — and each correction as
old → new values of the event it corrects, as they stood before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from traceability.custody.models import EventType
from traceability.reports.devices import DeviceView, event_public
from traceability.reports.schemas import EventPublic


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class TimelineRow:
    event: EventPublic
    status: str
    anchored_at: dt.datetime | None
    weight_kg: Decimal | None = None
    corrects: str | None = None  # the event type a correction amends
    changes: tuple[Change, ...] = ()


def _kg(grams: Any) -> Decimal | None:
    return Decimal(grams) / 1000 if type(grams) is int else None


def device_timeline(view: DeviceView) -> list[TimelineRow]:
    statuses = dict(view.verification.events)
    current: dict[str, dict[str, Any]] = {}  # each event's payload as corrected so far
    types: dict[str, str] = {}
    rows = []
    for event in view.events:
        payload = event.payload if isinstance(event.payload, dict) else {}
        changes: tuple[Change, ...] = ()
        target = str(payload.get("corrects")) if event.type == EventType.corrected else None
        if target is not None and isinstance(payload.get("fields"), dict) and target in current:
            before = current[target]
            changes = tuple(Change(k, before.get(k), v) for k, v in payload["fields"].items())
            current[target] = {**before, **payload["fields"]}
        else:
            current[event.id], types[event.id] = dict(payload), event.type
        rows.append(
            TimelineRow(
                event=event_public(event, view.anchors.get(event.seq or -1)),
                status=statuses.get(event.id, "unknown"),
                anchored_at=view.verification.anchored_at(event.id),
                weight_kg=_kg(payload.get("weight_g")),
                corrects=types.get(target) if target else None,
                changes=changes,
            )
        )
    return rows
