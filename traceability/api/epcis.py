"""GET /epcis/events: the EPCIS 2.0 query (SPEC §4.2), as JSON-LD."""

from __future__ import annotations

import datetime as dt

from flask import Response, json

from traceability.api.auth import current_principal
from traceability.api.paging import requested_paging, text_arg
from traceability.app import current_trace, get_session
from traceability.db import to_utc
from traceability.epcis.query import EventQuery, query_document
from traceability.errors import ValidationFailed

MEDIA = "application/ld+json"


def _time(name: str) -> dt.datetime | None:
    raw = text_arg(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace(" ", "+"))  # a bare + reads as a space
    except ValueError:
        raise ValidationFailed(f"{name} must be an ISO 8601 time", field=name) from None
    if value.tzinfo is None:
        raise ValidationFailed(f"{name} needs a UTC offset (Z or +08:00)", field=name)
    try:
        return to_utc(value)
    except OverflowError:
        raise ValidationFailed(f"{name} is out of range", field=name) from None


def events() -> Response:
    paging = requested_paging(per_page=100)
    query = EventQuery(
        ge_event_time=_time("GE_eventTime"),
        lt_event_time=_time("LT_eventTime"),
        eq_biz_step=text_arg("EQ_bizStep"),
        page=paging.page,
        per_page=paging.per_page,
    )
    settings = current_trace().settings
    document = query_document(get_session(), current_principal(), query, settings.public_url)
    body = json.dumps(document, ensure_ascii=False)
    return Response(body, mimetype=MEDIA)
