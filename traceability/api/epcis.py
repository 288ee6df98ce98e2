"""The EPCIS 2.0 interfaces (SPEC §4.2): the query and capture.

GET /epcis/events: the query, as JSON-LD, paged GS1's way.

The next page is the URL of the answer's ``Link: <…>; rel="next"`` header
(the same query with its ``nextPageToken``); the last page has none. A
parameter the query does not know is a 422 naming it, as GS1's query
interface refuses one (EPCIS 2.0 §8.2.7, QueryParameterException).

POST /epcis/capture: an EPCIS 2.0 document from another system, recorded
(``epcis.capture``); the answer is GS1's capture job, 202 with its
``Location`` (GET /epcis/capture/{id}), finished by the time it is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal
from urllib.parse import urlencode

from flask import Response, json, request
from pydantic import BaseModel, ConfigDict, Field

from traceability.api.auth import current_principal
from traceability.api.body import json_body
from traceability.app import current_trace, get_session
from traceability.db import iso, to_utc
from traceability.epcis.capture import Rules, capture, job_of
from traceability.epcis.mapping import Names
from traceability.epcis.models import CaptureJob
from traceability.epcis.query import EventQuery, after_of, query_document
from traceability.errors import ValidationFailed
from traceability.paging import whole_number
from traceability.reports.schemas import Timestamp

MEDIA = "application/ld+json"
MAX_PER_PAGE = 500
#: Each parameter and what it does (the OpenAPI document lists them from here).
PARAMETERS: dict[str, str] = {
    "GE_eventTime": "events at or after this time (ISO 8601 with offset)",
    "LT_eventTime": "events before this time",
    "GE_recordTime": "events recorded at or after this time",
    "LT_recordTime": "events recorded before this time",
    "EQ_bizStep": "CBV business steps (commissioning, shipping, receiving, storing, "
    "disassembling, destroying, cycle_counting), several as a|b",
    "EQ_bizLocation": "organisation URIs ({site}/orgs/CODE), several as a|b",
    "MATCH_epc": "objects observed (epcList): device ({site}/d/ID) or lot URIs",
    "MATCH_inputEPC": "inputs of a dismantling (inputEPCList): device URIs",
    "MATCH_anyEPC": "a device's or lot's whole history: any of the above",
    "perPage": f"events per page, 1-{MAX_PER_PAGE} (default 100)",
    "nextPageToken": "the next page, as the Link header of the previous answer names it",
}
_LISTS = ("EQ_bizStep", "EQ_bizLocation", "MATCH_epc", "MATCH_inputEPC", "MATCH_anyEPC")
_MAX_VALUES = 100
_MAX_LENGTH = 512
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s|]+")


def _time(name: str) -> dt.datetime | None:
    raw = _one(name)
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


def _one(name: str) -> str | None:
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ValidationFailed(f"{name} may be given once", field=name)
    raw = values[0] if values else None
    if raw is None or raw == "":
        return None
    if len(raw) > _MAX_LENGTH or not raw.isprintable():
        raise ValidationFailed(f"{name} is not a valid value", field=name)
    return raw


def _many(name: str) -> tuple[str, ...]:
    values = [v for raw in request.args.getlist(name) for v in raw.split("|") if v]
    if len(values) > _MAX_VALUES:
        raise ValidationFailed(f"{name} takes at most {_MAX_VALUES} values", field=name)
    for value in values:
        if len(value) > _MAX_LENGTH or not value.isprintable() or " " in value:
            raise ValidationFailed(f"{name} has a value that is not a URI or term", field=name)
        if name != "EQ_bizStep" and not _URI.fullmatch(value):
            raise ValidationFailed(f"{name} takes URIs, not '{value[:40]}'", field=name)
    return tuple(values)


def _query() -> EventQuery:
    for name in request.args:
        if name not in PARAMETERS:
            raise ValidationFailed(
                f"{name} is not a parameter of this query (see /api/v1/openapi.json)", field=name
            )
    token = _one("nextPageToken")
    lists = {name: _many(name) for name in _LISTS}
    return EventQuery(
        ge_event_time=_time("GE_eventTime"),
        lt_event_time=_time("LT_eventTime"),
        ge_record_time=_time("GE_recordTime"),
        lt_record_time=_time("LT_recordTime"),
        eq_biz_step=lists["EQ_bizStep"],
        eq_biz_location=lists["EQ_bizLocation"],
        match_epc=lists["MATCH_epc"],
        match_input_epc=lists["MATCH_inputEPC"],
        match_any_epc=lists["MATCH_anyEPC"],
        after=after_of(token) if token is not None else None,
        per_page=whole_number(_one("perPage"), name="perPage", default=100, maximum=MAX_PER_PAGE),
    )


def _next_link(public_url: str, token: str) -> str:
    """The same query's next page: every parameter as given, and the new token."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "nextPageToken"]
    url = f"{public_url.rstrip('/')}{request.path}?{urlencode([*args, ('nextPageToken', token)])}"
    return f'<{url}>; rel="next"'


def events() -> Response:
    query = _query()
    trace = current_trace()
    settings = trace.settings
    page = query_document(
        get_session(), current_principal(), query, settings.public_url, trace.now()
    )
    response = Response(json.dumps(page.document, ensure_ascii=False), mimetype=MEDIA)
    if page.next_page_token is not None:
        response.headers["Link"] = _next_link(settings.public_url, page.next_page_token)
    return response


# -- capture ---------------------------------------------------------------------------

CAPTURE_BEHAVIOUR = "GS1-Capture-Error-Behaviour"


class CaptureError(BaseModel):
    code: str
    message: str
    field: str | None = None


class CaptureOutcome(BaseModel):
    """What became of one event of the document (``index``: its place in the list)."""

    model_config = ConfigDict(extra="forbid")

    index: int
    eventID: str | None = Field(None, description="as sent, or the event's hash")
    status: Literal["created", "duplicate", "conflict", "rejected", "rolled_back"] = Field(
        description="rolled_back: not recorded because another event of the document was not "
        "(GS1-Capture-Error-Behaviour: rollback)"
    )
    id: str | None = Field(None, description="the recorded event's id in this system")
    digest: str | None = None
    qr_id: str | None = None
    lot: str | None = None
    error: CaptureError | None = None
    httpStatus: int | None = Field(None, description="409: a conflict")


class CaptureJobPublic(BaseModel):
    """GS1's capture job: finished when the answer is sent, with each event's outcome."""

    model_config = ConfigDict(extra="forbid")

    captureID: str
    createdAt: Timestamp
    finishedAt: Timestamp
    running: bool
    success: bool
    captureErrorBehaviour: Literal["rollback", "proceed"]
    errors: list[CaptureOutcome] = Field(description="the events that were not recorded")
    events: list[CaptureOutcome]


def _public(job: CaptureJob) -> CaptureJobPublic:
    outcomes = [CaptureOutcome.model_validate(o) for o in job.outcomes]
    return CaptureJobPublic(
        captureID=job.id, createdAt=iso(job.created_at), finishedAt=iso(job.finished_at),
        running=False, success=job.success,
        captureErrorBehaviour="proceed" if job.behaviour == "proceed" else "rollback",
        errors=[o for o in outcomes if o.status not in ("created", "duplicate")], events=outcomes,
    )  # fmt: skip


def capture_post() -> tuple[CaptureJobPublic, int, dict[str, str]]:
    behaviour = request.headers.get(CAPTURE_BEHAVIOUR, "rollback")
    if behaviour not in ("rollback", "proceed"):
        raise ValidationFailed(
            f"{CAPTURE_BEHAVIOUR} must be rollback or proceed", field=CAPTURE_BEHAVIOUR
        )
    trace = current_trace()
    settings = trace.settings
    rules = Rules(
        catalog=trace.catalog, now=trace.now(), future_skew_s=settings.future_skew_s,
        dismantle_tolerance_pct=settings.dismantle_tolerance_pct,
        licence_checks=settings.licence_checks,
    )  # fmt: skip
    job = capture(
        get_session(), current_principal(), json_body(), names=Names(settings.public_url),
        rules=rules, behaviour="proceed" if behaviour == "proceed" else "rollback",
        max_events=settings.max_events_per_request,
    )  # fmt: skip
    location = f"{settings.public_url.rstrip('/')}/api/v1/epcis/capture/{job.id}"
    return _public(job), 202, {"Location": location}


def capture_show(capture_id: str) -> CaptureJobPublic:
    return _public(job_of(get_session(), current_principal(), capture_id))


class CaptureRequest(BaseModel):
    """An EPCIS 2.0 JSON-LD document (GS1's EPCIS-JSON-Schema); read by the view itself."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: list[Any] | str = Field(alias="@context")
    type: Literal["EPCISDocument", "EPCISQueryDocument"]
    schemaVersion: str = "2.0"
    epcisBody: dict[str, Any] = Field(
        description="eventList: up to 1000 events (queryResults.resultsBody.eventList in an "
        "EPCISQueryDocument)"
    )
