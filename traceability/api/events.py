"""POST /events: a batch of steps from a handheld, each all-or-nothing."""

from __future__ import annotations

from traceability.api.auth import current_principal
from traceability.api.body import json_body, plain_text_body
from traceability.api.schemas import EventsResult
from traceability.app import current_trace, get_session
from traceability.custody.ingest import record_events
from traceability.errors import TraceabilityError, ValidationFailed


class TooManyEvents(TraceabilityError):
    code = "too_many_events"
    status = 413


def post_events() -> EventsResult:
    settings = current_trace().settings
    items = json_body(items="events").get("events")
    if not isinstance(items, list) or not items:
        raise ValidationFailed("events must be a non-empty list", field="events")
    if len(items) > settings.max_events_per_request:
        raise TooManyEvents(
            f"at most {settings.max_events_per_request} events per request", field="events"
        )
    results = record_events(
        session=get_session(),
        principal=current_principal(),
        catalog=current_trace().catalog,
        items=items,
        future_skew_s=settings.future_skew_s,
        now=current_trace().now(),
        dismantle_tolerance_pct=settings.dismantle_tolerance_pct,
        strings_checked=plain_text_body(),
        licence_checks=settings.licence_checks,
    )
    return EventsResult(results=results)
