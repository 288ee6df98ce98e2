"""EPCIS capture (``POST /epcis/capture``, SPEC §4.2): another system's EPCIS 2.0 events,
recorded as this system's own.

A collector's or processor's own system sends an EPCIS 2.0 JSON-LD document
(``EPCISDocument``, or an ``EPCISQueryDocument`` as another repository
answers). Its shape is checked first (``epcis.shape``): a document that is
not EPCIS 2.0 is refused whole, a 4xx naming the field, and nothing is
recorded. Each event is then mapped to the event this system records for
it, the reverse of the export (``epcis.mapping``):

=====================  ====================  ==============  ==========================
EPCIS event            CBV bizStep           subject         recorded as
=====================  ====================  ==============  ==========================
ObjectEvent ADD        commissioning         device          collected
ObjectEvent OBSERVE    shipping              device / lot    shipped / lot_shipped
ObjectEvent OBSERVE    receiving             device / lot    received / lot_received
ObjectEvent OBSERVE    receiving, returned   device          refused
ObjectEvent OBSERVE    storing               device          stored
TransformationEvent    disassembling         device → KGM    dismantled
ObjectEvent OBSERVE    destroying            lot             lot_treated
ObjectEvent OBSERVE    cycle_counting        lot             stocktake
=====================  ====================  ==============  ==========================

Anything else (another step, another system's identifiers, an error
declaration) is refused with its reason. The mapped events go through
``custody.ingest.record_events``, the rules of ``POST /events``, under the
caller's organisation and name. An event is recorded only if this system's
own export of it is the same event: its GS1 event hash equals the captured
event's (``epcis.eventhash``), so exporting it again gives the eventID the
sender computes; a field this system would not keep is refused by name.
Idempotent by eventID (the event's hash when it has none): the recorded
event's id is a UUID derived from it, so the same event again is a
``duplicate`` and another event under the same eventID a ``conflict`` (409).

``GS1-Capture-Error-Behaviour``: ``rollback`` (GS1's default) records the
events only if every one can be; ``proceed`` records each one that can.
What happened to each event is kept as a capture job (``epcis.models``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from sqlmodel import Session, col, select

from traceability.accounts.models import Principal
from traceability.catalog.models import Catalog
from traceability.custody.ingest import ItemResult, record_events
from traceability.custody.models import Event, EventType
from traceability.custody.workspace import LicenceChecks
from traceability.epcis import cbv
from traceability.epcis.eventhash import UnsupportedEvent, event_hash, fragments, is_event_hash
from traceability.epcis.mapping import Names, epcis_event
from traceability.epcis.models import CaptureJob
from traceability.epcis.shape import events_of
from traceability.errors import NotFound, TraceabilityError, ValidationFailed

#: The namespace of the ids of captured events: uuid5(NAMESPACE, eventID). Never change it.
NAMESPACE = uuid.UUID("0c1ad3b4-21e0-4e5c-9a7e-45c0a7d1e021")
Behaviour = Literal["rollback", "proceed"]
_OK = ("created", "duplicate")

#: (bizStep, subject kind) → the event recorded; receiving a device is ``received``
#: unless its disposition is ``returned`` (``refused``).
STEPS: dict[tuple[str, str], str] = {
    ("commissioning", "device"): EventType.collected,
    ("shipping", "device"): EventType.shipped,
    ("shipping", "lot"): EventType.lot_shipped,
    ("receiving", "device"): EventType.received,
    ("receiving", "lot"): EventType.lot_received,
    ("storing", "device"): EventType.stored,
    ("disassembling", "device"): EventType.dismantled,
    ("destroying", "lot"): EventType.lot_treated,
    ("cycle_counting", "lot"): EventType.stocktake,
}


class Unmapped(ValidationFailed):
    """The event has no counterpart in this system (or says what it would not keep)."""

    code = "unmapped"


class UnknownCaptureJob(NotFound):
    code = "unknown_capture_job"


@dataclass(frozen=True)
class Rules:
    """What ``record_events`` needs besides the items: the deployment's settings."""

    catalog: Catalog
    now: dt.datetime
    future_skew_s: int
    dismantle_tolerance_pct: Decimal
    licence_checks: LicenceChecks


@dataclass
class Candidate:
    """One captured event: its identity, what it maps to, and what became of it."""

    index: int
    event: Mapping[str, Any]
    event_id: str | None
    hash: str | None = None
    item: dict[str, Any] | None = None
    result: dict[str, Any] = field(default_factory=dict)


# -- mapping one event ------------------------------------------------------------------


def _extensions(value: Mapping[str, Any], prefixes: Mapping[str, str], ns: str) -> dict[str, Any]:
    """The values of ``value``'s keys in this system's namespace, by local name."""
    found = {}
    for key, item in value.items():
        prefix, sep, local = key.partition(":")
        if sep and prefixes.get(prefix) == ns:
            found[local] = item
    return found


def _subject(names: Names, event: Mapping[str, Any]) -> tuple[str, str]:
    listed = event.get("inputEPCList" if event["type"] == "TransformationEvent" else "epcList")
    if not isinstance(listed, list) or len(listed) != 1 or not isinstance(listed[0], str):
        raise Unmapped("an event of this system names one device or lot", field="epcList")
    kind, key = names.parse(listed[0])
    if kind not in ("device", "lot"):
        raise Unmapped(
            f"{listed[0]} is not a device or lot of this system ({names.base}/d/ID, "
            f"{names.base}/lots/CODE)",
            field="epcList",
        )
    return kind, key


def _kind_of(names: Names, event: Mapping[str, Any]) -> tuple[str, str, str]:
    """The event type it is recorded as, and its subject (kind, key)."""
    if "errorDeclaration" in event:
        raise Unmapped(
            "error declarations are not captured: record a correction (POST /events, type "
            "corrected)",
            field="errorDeclaration",
        )
    step = cbv.bare("bizStep", str(event.get("bizStep", "")))
    steps = sorted({s for s, _ in STEPS} - {"disassembling"})
    if (step, event["type"]) not in {(s, "ObjectEvent") for s in steps} | {
        ("disassembling", "TransformationEvent")
    }:
        raise Unmapped(
            f"'{step}' ({event['type']}) has no event in this system: an ObjectEvent "
            f"{', '.join(steps)} or a TransformationEvent disassembling has",
            field="bizStep",
        )
    kind, key = _subject(names, event)
    recorded = STEPS.get((step, kind))
    if recorded is None:
        raise Unmapped(f"'{step}' is not recorded for a {kind} here", field="bizStep")
    if recorded == EventType.received and event.get("disposition") == "returned":
        recorded = EventType.refused
    return recorded, kind, key


def _org(names: Names, entries: Any, key: str) -> str | None:
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get(key), str):
            kind, code = names.parse(entry[key])
            if kind == "org":
                return code
    return None


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _manifests(raw: Any, prefixes: Mapping[str, str], ns: str, shipped: bool) -> Any:
    if not isinstance(raw, list):
        return raw  # the message says what is wrong with it
    listed = []
    for m in raw:
        ext = _extensions(m, prefixes, ns) if isinstance(m, Mapping) else {}
        listed.append(
            _present(number=ext.get("number"), hw_code=ext.get("hwCode"),
                     transporter=ext.get("transporter"), weight_kg=ext.get("weightKg"))
            if shipped else _present(number=ext.get("number"), weight_kg=ext.get("weightKg"))
        )  # fmt: skip
    return listed


def _outputs(names: Names, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    outputs = []
    for q in event.get("outputQuantityList") or []:
        kind, fraction = names.parse(str(q.get("epcClass", "")))
        if kind != "fraction" or q.get("uom") != "KGM":
            raise Unmapped(
                f"an output is a fraction of this system ({names.base}/fractions/CODE) in KGM",
                field="outputQuantityList",
            )
        outputs.append({"fraction": fraction, "weight_kg": q.get("quantity")})
    return outputs


def _fields(
    kind: str, event: Mapping[str, Any], names: Names, prefixes: Mapping[str, str]
) -> dict[str, Any]:
    """The item's fields beyond id, type, subject and time: from the ``trace:`` extensions."""
    ns = names.prefixes["trace"]
    ext = _extensions(event, prefixes, ns)
    weight = ext.get("weightKg")
    if kind == EventType.collected:
        return _present(category=ext.get("category"), attributes=ext.get("attributes"),
                        weight_kg=weight)  # fmt: skip
    if kind in (EventType.shipped, EventType.lot_shipped):
        to = _org(names, event.get("destinationList"), "destination")
        if kind == EventType.shipped:
            return _present(to=to, manifest_no=ext.get("manifestNo"))
        return _present(to=to, manifests=_manifests(ext.get("manifests"), prefixes, ns, True))
    if kind == EventType.lot_received:
        return _present(manifests=_manifests(ext.get("manifests"), prefixes, ns, False),
                        weight_kg=weight if "manifests" not in ext else None)  # fmt: skip
    if kind == EventType.dismantled:
        return _present(outputs=_outputs(names, event), batch=ext.get("batch"),
                        line=ext.get("line"))  # fmt: skip
    named: dict[str, str] = {
        EventType.refused: "reason", EventType.stored: "area", EventType.lot_treated: "method"
    }  # fmt: skip
    if kind in named:
        return _present(**{named[kind]: ext.get(named[kind])})
    return _present(weight_kg=weight)  # received, stocktake


def map_event(
    candidate: Candidate, names: Names, prefixes: Mapping[str, str], org: str
) -> Candidate:
    """The item ``POST /events`` would be sent for the event, or why there is none."""
    event = candidate.event
    try:
        kind, subject_kind, key = _kind_of(names, event)
        location = event.get("bizLocation")
        where = names.parse(str(location.get("id"))) if isinstance(location, Mapping) else None
        if where is not None and where != ("org", org):
            raise Unmapped(f"events are recorded under the caller's organisation ({org})",
                           field="bizLocation")  # fmt: skip
        digest = event_hash(event, prefixes)
        if is_event_hash(candidate.event_id) and candidate.event_id != digest:
            raise Unmapped(f"eventID is an event hash, but this event's is {digest}",
                           field="eventID")  # fmt: skip
        event_id = candidate.event_id or digest
        fields = _fields(kind, event, names, prefixes)
    except UnsupportedEvent as exc:
        return _refused(candidate, Unmapped(f"not recorded here: {exc}", field=exc.field))
    except TraceabilityError as exc:
        return _refused(candidate, exc)
    item = {
        "id": str(uuid.uuid5(NAMESPACE, event_id)), "type": kind,
        "qr_id" if subject_kind == "device" else "lot": key,
        "occurred_at": event.get("eventTime"), **fields,
    }  # fmt: skip
    return replace(candidate, event_id=event_id, hash=digest, item=item)


def _refused(candidate: Candidate, error: TraceabilityError, status: str = "rejected") -> Candidate:
    result = {"status": status, "error": error.to_dict(), "httpStatus": error.status}
    return replace(candidate, item=None, result=result)


# -- recording --------------------------------------------------------------------------


def _differences(captured: Mapping[str, Any], ours: Mapping[str, Any],
                 prefixes: Mapping[str, str], names: Names) -> str:  # fmt: skip
    theirs, mine = fragments(captured, prefixes), fragments(ours, names.prefixes)
    differ = sorted(
        (theirs.get(k) or mine[k])[0]
        for k in theirs.keys() | mine.keys()
        if (theirs.get(k) or ("", ""))[1] != (mine.get(k) or ("", ""))[1]
    )
    return ", ".join(differ) or "the event"


def _checker(candidates: Sequence[Candidate], names: Names, prefixes: Mapping[str, str]) -> Any:
    """A ``before_commit`` that checks each written event exports as the captured one."""

    def check(session: Session, results: list[list[ItemResult]]) -> bool:
        ids = [r.id for r in results[0] if r.status in _OK]
        rows = {r.id: r for r in session.exec(select(Event).where(col(Event.id).in_(ids)))}
        for candidate, result in zip(candidates, results[0], strict=True):
            candidate.result = result.model_dump(exclude_none=True)
            if result.status in _OK:
                exported = epcis_event(names, rows[str(result.id)])
                if exported["eventID"] != candidate.hash:
                    candidate.result = _mismatch(candidate, exported, prefixes, names, result)
            else:
                candidate.result["httpStatus"] = result.http_status
        return False  # a rehearsal: never committed

    return check


def _mismatch(candidate: Candidate, exported: Mapping[str, Any], prefixes: Mapping[str, str],
              names: Names, result: ItemResult) -> dict[str, Any]:  # fmt: skip
    differ = _differences(candidate.event, exported, prefixes, names)
    if result.status == "duplicate":
        error: TraceabilityError = Unmapped(
            f"eventID {candidate.event_id} was captured before as another event ({differ} "
            "differ)", field="eventID",
        )  # fmt: skip
        return {"status": "conflict", "error": error.to_dict(), "httpStatus": 409}
    error = Unmapped(f"this system would not keep the event as sent: {differ}", field=differ)
    return {"status": "rejected", "error": error.to_dict(), "httpStatus": 422}


def _record(session: Session, principal: Principal, rules: Rules,
            items: list[dict[str, Any]], **extra: Any) -> list[ItemResult]:  # fmt: skip
    return record_events(
        session=session, principal=principal, catalog=rules.catalog, items=items,
        future_skew_s=rules.future_skew_s, now=rules.now,
        dismantle_tolerance_pct=rules.dismantle_tolerance_pct,
        licence_checks=rules.licence_checks, **extra,
    )  # fmt: skip


def _rolled_back(event_id: Any) -> dict[str, Any]:
    error = TraceabilityError(
        "not recorded: another event of the document could not be "
        "(GS1-Capture-Error-Behaviour: rollback)"
    )
    error.code = "rolled_back"
    return {"status": "rolled_back", "id": event_id, "error": error.to_dict()}


def _commit_all(session: Session, results: list[list[ItemResult]]) -> bool:
    return all(r.status in _OK for r in results[0])


def _recorded(session: Session, principal: Principal, rules: Rules,
              candidates: list[Candidate], behaviour: Behaviour) -> None:  # fmt: skip
    """Record, for real, the events the rehearsal accepted (with ``rollback``: all or none)."""
    failed = any(c.result.get("status") not in _OK for c in candidates)
    todo = [c for c in candidates if c.result.get("status") == "created"]
    if behaviour == "rollback" and failed:
        for c in todo:
            c.result = _rolled_back(c.result.get("id"))
        return
    if not todo:
        return
    results = _record(session, principal, rules, [c.item for c in todo if c.item],
                      before_commit=_commit_all if behaviour == "rollback" else None)  # fmt: skip
    committed = behaviour == "proceed" or all(r.status in _OK for r in results)
    for c, result in zip(todo, results, strict=True):
        c.result = result.model_dump(exclude_none=True)
        if result.status not in _OK:
            c.result["httpStatus"] = result.http_status
        elif not committed:
            c.result = _rolled_back(result.id)


def capture(
    session: Session, principal: Principal, document: Any, *, names: Names, rules: Rules,
    behaviour: Behaviour = "rollback", max_events: int = 1000,
) -> CaptureJob:  # fmt: skip
    """Record the document's events under ``principal``; the capture job saying how it went."""
    events, prefixes = events_of(document, max_events)
    candidates = [
        map_event(Candidate(i, e, e.get("eventID")), names, prefixes, principal.org_code)
        for i, e in enumerate(events)
    ]
    mapped = [c for c in candidates if c.item is not None]
    if mapped:  # the rules of POST /events, and this system's export of each, rehearsed
        _record(session, principal, rules, [c.item for c in mapped if c.item],
                before_commit=_checker(mapped, names, prefixes))  # fmt: skip
        _recorded(session, principal, rules, candidates, behaviour)
    job = CaptureJob(
        id=uuid.uuid4().hex, org=principal.org_code, actor=principal.username,
        created_at=rules.now, finished_at=rules.now, behaviour=behaviour,
        success=all(c.result.get("status") in _OK for c in candidates),
        outcomes=[{"index": c.index, "eventID": c.event_id, **c.result} for c in candidates],
    )  # fmt: skip
    session.add(job)
    session.commit()
    return job


def job_of(session: Session, principal: Principal, capture_id: str) -> CaptureJob:
    """A capture job of the caller's organisation (another's is as unknown as none)."""
    job = session.get(CaptureJob, capture_id) if len(capture_id) <= 32 else None
    if job is None or job.org != principal.org_code:
        raise UnknownCaptureJob(f"no capture job {capture_id}", field="captureID")
    return job
