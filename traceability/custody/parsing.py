"""Parsing submitted items into their messages: no database, so outside any lock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from traceability import limits
from traceability.accounts.models import Principal
from traceability.custody.fields import canonical_uuid
from traceability.custody.messages import (
    MESSAGES,
    AnyEvent,
    Collected,
    CollectRequest,
    problem_of,
)
from traceability.custody.models import EventType
from traceability.errors import TraceabilityError, ValidationFailed


@dataclass(frozen=True, slots=True)
class Parsed:
    """One item after the checks that need no database: its message, or why not."""

    raw_id: Any
    event_id: str | None  # canonical; set whenever the id itself is well-formed
    type: Any
    message: AnyEvent | None = None
    error: TraceabilityError | None = None


def _event_id(raw: Any, *, required: bool) -> str | None:
    if raw is None:
        if required:
            raise ValidationFailed("id (a client-generated UUID) is required", field="id")
        return None
    if not isinstance(raw, str):
        raise ValidationFailed("id must be a UUID string", field="id")
    try:
        return canonical_uuid(raw)
    except ValueError:
        raise ValidationFailed("id must be a UUID", field="id") from None


def parse_item(
    item: Any, *, id_required: bool, context: dict[str, Any], strings_checked: bool = False
) -> Parsed:
    """The item's message: pure, so it runs before the write lock is taken."""
    if not isinstance(item, Mapping):
        return Parsed(
            None, None, None, error=ValidationFailed("each event must be an object", field="events")
        )
    raw_id, kind = item.get("id"), item.get("type")
    try:
        # Before any field is read: nothing unstorable reaches a query or a row.
        if not strings_checked:
            limits.check_strings(item, "", root="events")
        event_id = _event_id(raw_id, required=id_required)
    except TraceabilityError as exc:
        return Parsed(raw_id, None, kind, error=exc)
    model = MESSAGES.get(kind) if isinstance(kind, str) else None
    if model is None:
        error = ValidationFailed(f"type must be one of {', '.join(EventType)}", field="type")
        return Parsed(raw_id, event_id, kind, error=error)
    try:
        if id_required:
            message = model.model_validate(item, context=context)
        else:  # POST /devices: the id is optional, the server makes one up
            request = CollectRequest.model_validate(item, context=context)
            message = Collected.model_construct(
                **{**dict(request), "id": event_id or str(uuid.uuid4())},
                type=EventType.collected,
            )
    except ValidationError as exc:
        return Parsed(raw_id, event_id, kind, error=problem_of(exc, hints=model.HINTS))
    return Parsed(raw_id, event_id, kind, message=message)


@dataclass(frozen=True)
class Submission:
    """One request's worth of items: whose, and when the server received them."""

    principal: Principal
    items: Sequence[Any]
    now: dt.datetime | None = None


@dataclass
class ParsedSubmission:
    """A submission's items, parsed; ``now`` is when it is (re)played."""

    submission: Submission
    now: dt.datetime
    items: list[Parsed]
