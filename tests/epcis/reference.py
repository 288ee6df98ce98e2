"""GS1's reference event hash (``epcis-event-hash-generator``), as the tests call it.

It hashes a whole EPCIS document and silently leaves out an event it cannot
hash (it logs an error), so ``reference_ids`` insists on one ID per event.
One known failure is worked around, openly: it cannot round an eventTime of
.9995 s or more up to the next second ("microsecond must be in 0..999999");
such an event is hashed with that time written as the millisecond it means.
It reads its bundled copy of GS1's JSON-LD context with a call Python 3.11
deprecates (``importlib.resources.open_text``): that warning alone is ignored.
"""

from __future__ import annotations

import copy
import datetime as dt
import warnings
from typing import Any

from epcis_event_hash_generator import hash_generator, json_to_py


def events_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["epcisBody"]
    if "queryResults" in body:
        return body["queryResults"]["resultsBody"]["eventList"]
    return body["eventList"]


def _hashes(context: Any, events: list[dict[str, Any]]) -> list[str]:
    document = {
        "@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": events},
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "open_text is deprecated", DeprecationWarning)
        parsed = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return hash_generator.epcis_hashes_from_events(parsed)


def rounds_up_to_next_second(event: dict[str, Any]) -> bool:
    when = dt.datetime.fromisoformat(event["eventTime"])
    return when.microsecond >= 999_500


def carried(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its eventTime rounded up to the next second, as the reference cannot."""
    when = dt.datetime.fromisoformat(event["eventTime"]).astimezone(dt.UTC)
    when = when.replace(microsecond=0) + dt.timedelta(seconds=1)
    return {**event, "eventTime": when.isoformat(timespec="milliseconds").replace("+00:00", "Z")}


def reference_ids(document: dict[str, Any]) -> list[str]:
    """The reference implementation's hash of each event of ``document``, in order."""
    events = events_of(document)
    hashes = _hashes(document["@context"], events)
    if len(hashes) == len(events):
        return hashes
    ids = []
    for event in events:  # find the one(s) it left out
        [one] = (
            _hashes(document["@context"], [carried(event)])
            if rounds_up_to_next_second(event)
            else _hashes(document["@context"], [event])
        )
        ids.append(one)
    return ids
