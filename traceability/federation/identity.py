"""Each imported event's identity, recomputed: its eventID is the GS1 event hash of its record.

The plant's EPCIS query names every record in ``trace:proofs`` under its
event's ``eventID`` — the EPCIS/CBV 2.0 event hash (``epcis.eventhash``) of
the event the record exports as — and a correction under its own URN, its
error declaration being an event of the event list. The regulator believes
neither: it exports the verified record itself, the way the plant's software
does (``epcis.mapping.epcis_event``, with the plant's URIs read from the
document's ``@context``), hashes it, and a record whose eventID is not that
hash is refused with both hashes named. A plant that renamed an event, or
exported other content under a record's ID, cannot have it imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.custody.models import Event, EventType
from traceability.custody.wellformed import row_problem
from traceability.epcis.mapping import Names, epcis_event
from traceability.federation.records import Candidate

_EVENT = Event.__table__  # type: ignore[attr-defined]
_NAMESPACE = "/ns/trace#"


def names_of(document: Mapping[str, Any], fallback: str) -> Names:
    """The plant's URIs, as its document's ``@context`` declares its ``trace`` prefix."""
    context = document.get("@context")
    for item in context if isinstance(context, list) else [context]:
        prefix = item.get("trace") if isinstance(item, Mapping) else None
        if isinstance(prefix, str) and prefix.endswith(_NAMESPACE):
            return Names(prefix.removesuffix(_NAMESPACE))
    return Names(fallback)


def event_ids(document: Mapping[str, Any]) -> set[str]:
    """The eventIDs of the document's event list."""
    body = document.get("epcisBody")
    results = body.get("queryResults") if isinstance(body, Mapping) else None
    inner = results.get("resultsBody") if isinstance(results, Mapping) else None
    events = inner.get("eventList") if isinstance(inner, Mapping) else None
    return {
        str(e["eventID"])
        for e in (events if isinstance(events, list) else [])
        if isinstance(e, Mapping) and isinstance(e.get("eventID"), str)
    }


def check_event_ids(
    session: Session, document: Mapping[str, Any], candidates: Sequence[Candidate], base: str
) -> None:
    """Set the ``problem`` of every candidate whose eventID is not its record's event hash."""
    names = names_of(document, base)
    listed = event_ids(document)
    targets = _targets(session, candidates)
    for c in candidates:
        if c.problem is not None or c.row is None:
            continue
        row = c.row
        if row.type != EventType.corrected:
            expected = str(epcis_event(names, row)["eventID"])
            if c.key != expected:
                c.problem = (
                    f"its eventID {c.key[:120]} is not the GS1 event hash of its record "
                    f"({expected}): the plant exported the record under another event's ID"
                )
            continue
        if c.key != names.event(str(row.id)):
            c.problem = (
                f"the correction {row.id} is listed under {c.key[:120]}, not its own URN "
                f"{names.event(str(row.id))}"
            )
            continue
        target = targets.get(str(row.payload.get("corrects")))
        if target is not None and row_problem(target) is not None:
            target = None
        expected = str(epcis_event(names, row, target)["eventID"])
        if expected not in listed:
            c.problem = (
                f"the error declaration of correction {row.id} hashes to {expected}, which the "
                "plant's event list does not hold (its corrected event was exported otherwise)"
            )


def _targets(session: Session, candidates: Sequence[Candidate]) -> dict[str, Any]:
    """The events the page's corrections correct: the page's own records first, then the
    regulator's log."""
    wanted = {
        str(c.row.payload.get("corrects"))
        for c in candidates
        if c.row is not None and c.row.type == EventType.corrected and c.problem is None
    }
    if not wanted:
        return {}
    found: dict[str, Any] = {
        str(c.row.id): c.row for c in candidates if c.row is not None and str(c.row.id) in wanted
    }
    rest = sorted(wanted - set(found))
    for start in range(0, len(rest), 5000):
        for row in session.execute(
            select(_EVENT).where(_EVENT.c.id.in_(rest[start : start + 5000]))
        ):
            found[str(row.id)] = row
    return found
