"""Is it an EPCIS 2.0 JSON-LD document? The structural rules of GS1's EPCIS 2.0 JSON Schema
that capture relies on, checked before any event is mapped (SPEC §4.2).

A document that breaks one is refused whole, a 422 naming the field's path
(``epcisBody.eventList[3].eventTime``), as a GS1 capture interface refuses a
document its schema rejects. Checked: the document type and its JSON-LD
context (GS1's), the event list (at most ``max_events`` events), each
event's type, ``eventTime`` and ``eventTimeZoneOffset``, an ObjectEvent's
``action``, the types of the standard fields this system reads (identifier
lists, quantities, locations, parties), and that every other key is a
standard one or a prefixed extension (``trace:weightKg``). GS1's schema
file itself is not shipped with the application; the tests check that the
documents they capture are valid against it, and that documents it refuses
are refused here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from traceability.epcis.eventhash import prefixes_of
from traceability.epcis.mapping import GS1_CONTEXT
from traceability.errors import TraceabilityError, ValidationFailed


class TooManyEvents(TraceabilityError):
    code = "too_many_events"
    status = 413


EVENT_TYPES = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
     "AssociationEvent"}
)  # fmt: skip
_STANDARD = frozenset(
    [
        "@context",
        "type",
        "eventID",
        "eventTime",
        "recordTime",
        "eventTimeZoneOffset",
        "certificationInfo",
        "errorDeclaration",
        "epcList",
        "quantityList",
        "action",
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "ilmd",
        "parentID",
        "childEPCs",
        "childQuantityList",
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
    ]
)
_ID_LISTS = ("epcList", "inputEPCList", "outputEPCList", "childEPCs")
_QUANTITIES = ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList")
_PARTIES = {"sourceList": "source", "destinationList": "destination",
            "bizTransactionList": "bizTransaction"}  # fmt: skip
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_OFFSET = re.compile(r"[+-]([01]\d|2[0-3]):[0-5]\d")


def _invalid(path: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{path} {problem}", field=path)


def _uri(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise _invalid(path, "must be a URI")


def _time(value: Any, path: str) -> None:
    try:
        parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value:
        raise _invalid(path, "must be an ISO 8601 date-time with an offset")


def _lists(event: Mapping[str, Any], path: str) -> None:
    for name in (*_ID_LISTS, *_QUANTITIES, *_PARTIES):
        value = event.get(name)
        if name in event and not isinstance(value, list):
            raise _invalid(f"{path}.{name}", "must be a list")
        for i, item in enumerate(value or []):
            where = f"{path}.{name}[{i}]"
            if name in _ID_LISTS:
                _uri(item, where)
            elif not isinstance(item, Mapping):
                raise _invalid(where, "must be an object")
            elif name in _QUANTITIES:
                _uri(item.get("epcClass"), f"{where}.epcClass")
                quantity = item.get("quantity")
                if isinstance(quantity, bool) or not isinstance(quantity, int | float | Decimal):
                    raise _invalid(f"{where}.quantity", "must be a number")
            else:
                _uri(item.get(_PARTIES[name]), f"{where}.{_PARTIES[name]}")
                if "type" in item and not isinstance(item["type"], str):
                    raise _invalid(f"{where}.type", "must be a string")


def check_event(event: Any, path: str) -> None:
    if not isinstance(event, Mapping):
        raise _invalid(path, "must be an object")
    if event.get("type") not in EVENT_TYPES:
        raise _invalid(f"{path}.type", f"must be one of {', '.join(sorted(EVENT_TYPES))}")
    _time(event.get("eventTime"), f"{path}.eventTime")
    if "recordTime" in event:
        _time(event["recordTime"], f"{path}.recordTime")
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(offset, str) or not _OFFSET.fullmatch(offset):
        raise _invalid(f"{path}.eventTimeZoneOffset", "must be an offset like +08:00")
    if event["type"] == "ObjectEvent" and event.get("action") not in ("ADD", "OBSERVE", "DELETE"):
        raise _invalid(f"{path}.action", "must be ADD, OBSERVE or DELETE")
    for key in ("eventID", "bizStep", "disposition"):
        if key in event and not isinstance(event[key], str):
            raise _invalid(f"{path}.{key}", "must be a string")
    if "eventID" in event:
        _uri(event["eventID"], f"{path}.eventID")
    for key in ("readPoint", "bizLocation"):
        if key in event:
            if not isinstance(event[key], Mapping):
                raise _invalid(f"{path}.{key}", "must be an object")
            _uri(event[key].get("id"), f"{path}.{key}.id")
    _lists(event, path)
    for key in event:
        if key not in _STANDARD and not _URI.fullmatch(key):
            raise _invalid(f"{path}.{key}", "is not an EPCIS field (an extension is prefix:name)")


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def events_of(document: Any, max_events: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The document's events, each checked, and the namespace prefixes its context declares."""
    if not isinstance(document, Mapping):
        raise _invalid("body", "must be an EPCIS 2.0 JSON-LD document (an object)")
    kind = document.get("type")
    if kind not in ("EPCISDocument", "EPCISQueryDocument"):
        raise _invalid("type", "must be EPCISDocument or EPCISQueryDocument")
    context = document.get("@context")
    listed = context if isinstance(context, list) else [context]
    if GS1_CONTEXT not in listed:
        raise _invalid("@context", f"must include {GS1_CONTEXT}")
    if document.get("schemaVersion", "2.0") not in ("2.0", "2.0.0", "2.0.1"):
        raise _invalid("schemaVersion", "must be 2.0")
    body = _get(document, "epcisBody")
    path = "epcisBody.eventList"
    if kind == "EPCISQueryDocument":
        body = _get(_get(body, "queryResults"), "resultsBody")
        path = "epcisBody.queryResults.resultsBody.eventList"
    events = _get(body, "eventList")
    if not isinstance(events, list) or not events:
        raise _invalid(path, "must be a non-empty list of events")
    if len(events) > max_events:
        raise TooManyEvents(f"at most {max_events} events per capture", field=path)
    for i, event in enumerate(events):
        check_event(event, f"{path}[{i}]")
    return events, prefixes_of(context)
