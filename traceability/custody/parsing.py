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
from traceability.errors import Forbidden, TraceabilityError, ValidationFailed


class RecorderMismatch(Forbidden):
    """The item names another user as its recorder: never recorded in this session's name."""

    code = "recorder_mismatch"


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


def _check_recorder(raw: Any, principal: Principal | None) -> None:
    """``recorded_by`` (optional) must name the caller: SPEC §4.4, a handheld's queue.

    A handheld queues steps offline and sends them later; it names who
    recorded each one, so a queue sent under someone else's session (a stale
    page after a sign-in elsewhere, a retry after a CSRF failure) is refused
    item by item instead of being recorded in the wrong person's name.
    """
    if raw is None or principal is None:
        return
    if not isinstance(raw, Mapping):
        raise ValidationFailed(
            "recorded_by must be an object {username, user_id}", field="recorded_by"
        )
    username, user_id = raw.get("username"), raw.get("user_id")
    if not isinstance(username, str) or not username:
        raise ValidationFailed(
            "recorded_by.username must be the recorder's username", field="recorded_by.username"
        )
    if user_id is not None and (isinstance(user_id, bool) or not isinstance(user_id, int)):
        raise ValidationFailed(
            "recorded_by.user_id must be the recorder's user id (an integer)",
            field="recorded_by.user_id",
        )
    if username != principal.username or (user_id is not None and user_id != principal.user_id):
        raise RecorderMismatch(
            f"recorded by '{username}', but sent as '{principal.username}': "
            "a record is only sent in its recorder's own session",
            field="recorded_by",
        )


def parse_item(
    item: Any,
    *,
    id_required: bool,
    context: dict[str, Any],
    strings_checked: bool = False,
    principal: Principal | None = None,
) -> Parsed:
    """The item's message: pure, so it runs before the write lock is taken.

    With ``principal``, an item's ``recorded_by`` must name them; otherwise
    the item is refused without its id (not even confirmed as a duplicate).
    """
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
        _check_recorder(item.get("recorded_by"), principal)
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
