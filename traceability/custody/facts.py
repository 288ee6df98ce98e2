"""A device's facts, derived by replaying its events (SPEC §2.4, §3 "Trust anchors").

The ``device`` table is a projection kept for listing and indexing; anyone
with database access can edit it. Every figure the system reports is read
from here instead: the events in recording order, each ``corrected`` event
amending the payload of the event it names before that event is replayed.

Pure: no database, no Flask. States and event types are compared as their
enums (``DeviceState``, ``EventType``), which are plain strings too.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from traceability.custody.models import EventType
from traceability.devices.models import DeviceState

COLLECTED, IN_TRANSIT = DeviceState.collected, DeviceState.in_transit
RECEIVED, DISMANTLED = DeviceState.received, DeviceState.dismantled

# Facts a projection row caches, compared field by field to find direct edits.
PROJECTED = (
    "category",
    "attributes",
    "brand",
    "model",
    "serial",
    "source",
    "collected_weight_g",
    "received_weight_g",
    "state",
    "custodian",
    "destination",
    "collected_by",
    "collected_at",
    "received_by",
    "received_at",
    "dismantled_by",
    "dismantled_at",
    "line",
    "storage_area",
    "head_digest",
    "event_count",
)


class EventLike(Protocol):
    """What replay reads of an event: an ``Event`` row or anything shaped like it."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def org(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def digest(self) -> str: ...


class Output(NamedTuple):
    """One dismantled fraction (a tuple: a quarter's claim builds close to a million)."""

    fraction: str
    weight_g: int


@dataclass(frozen=True)
class Correction:
    """A ``corrected`` event as applied: which event, which fields, why, and its flag."""

    id: str
    corrects: str
    corrects_type: str | None  # None: the corrected event is not in this device's log
    reason: str | None
    fields: dict[str, Any]
    flag: Any = None
    org: str | None = None
    occurred_at: dt.datetime | None = None


@dataclass(frozen=True)
class DeviceFacts:
    """Everything the log says about one device. ``state`` is None when the log is empty."""

    qr_id: str
    category: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    source: str | None = None
    collected_weight_g: int | None = None
    received_weight_g: int | None = None
    state: str | None = None
    custodian: str | None = None
    destination: str | None = None
    collected_by: str | None = None
    collected_at: dt.datetime | None = None
    received_by: str | None = None
    received_at: dt.datetime | None = None
    dismantled_by: str | None = None
    dismantled_at: dt.datetime | None = None
    batch: str | None = None
    line: str | None = None
    storage_area: str | None = None
    manifest_no: str | None = None
    outputs: tuple[Output, ...] = ()
    corrections: tuple[Correction, ...] = ()
    head_digest: str | None = None
    head_occurred_at: dt.datetime | None = None
    event_count: int = 0
    # Things a well-formed log never holds (a refusal without a shipment, a
    # correction naming an unknown event...): signs of a bug or of tampering.
    anomalies: tuple[str, ...] = ()

    @property
    def flagged(self) -> tuple[Correction, ...]:
        """Corrections the auditor must look at (SPEC §2.4: tier- or mass-deciding fields)."""
        return tuple(c for c in self.corrections if c.flag)


def effective_payloads(events: Iterable[EventLike]) -> dict[str, Mapping[str, Any]]:
    """Each event's payload with every correction naming it applied, in recording order
    (an uncorrected payload is the event's own, not a copy: read it, never change it)."""
    payloads: dict[str, Mapping[str, Any]] = {}
    corrected: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.type != EventType.corrected:
            payloads[event.id] = event.payload
            continue
        target_id = str(event.payload.get("corrects"))
        changes = event.payload.get("fields")
        if target_id not in payloads or not isinstance(changes, Mapping):
            continue
        if target_id not in corrected:
            corrected[target_id] = dict(payloads[target_id])
            payloads[target_id] = corrected[target_id]
        corrected[target_id].update(changes)
    return payloads


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _outputs(raw: Any) -> tuple[Output, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for o in raw:  # a loop, not a generator: a quarter's claim replays ~100,000 of these
        if type(o) is dict or isinstance(o, Mapping):  # the ABC check alone is slow
            weight = o.get("weight_g")
            grams = weight if type(weight) is int else _int(weight)
            # Interned: a claim holds a quarter's outputs, a few fraction names many times.
            out.append(Output(sys.intern(str(o.get("fraction"))), grams or 0))
    return tuple(out)


class _Replay:
    """The mutable state of one replay; frozen into ``DeviceFacts`` at the end."""

    def __init__(self, qr_id: str) -> None:
        self.facts: dict[str, Any] = {"qr_id": qr_id}
        self.before_shipping: str | None = None
        self.corrections: list[Correction] = []
        self.anomalies: list[str] = []
        self.types: dict[str, str] = {}

    def apply(self, event: EventLike, payload: Mapping[str, Any]) -> None:
        f = self.facts
        kind, org, when = event.type, event.org, event.occurred_at
        if kind != EventType.collected and f.get("state") is None:
            self.anomalies.append(f"{kind} event {event.id} before the device was collected")
        else:
            self.check_custody(event)
        if kind == EventType.collected:
            if f.get("state") is not None:
                self.anomalies.append(f"second collected event {event.id}")
            attributes = payload.get("attributes")
            f.update(
                category=payload.get("category"),
                attributes=dict(attributes) if isinstance(attributes, Mapping) else {},
                brand=payload.get("brand"),
                model=payload.get("model"),
                serial=payload.get("serial"),
                source=payload.get("source"),
                collected_weight_g=_int(payload.get("weight_g")),
                state=COLLECTED,
                custodian=org,
                collected_by=org,
                collected_at=when,
            )
        elif kind == EventType.shipped:
            self.before_shipping = f.get("state")
            f.update(
                state=IN_TRANSIT,
                destination=payload.get("to"),
                manifest_no=payload.get("manifest_no"),
            )
        elif kind == EventType.refused:
            # Back with the sender, as it was before it left; the custodian never changed.
            f.update(state=self.before_shipping or f.get("state"), destination=None)
        elif kind == EventType.received:
            f.update(
                state=RECEIVED,
                custodian=org,
                destination=None,
                received_weight_g=_int(payload.get("weight_g")),
                received_by=org,
                received_at=when,
            )
        elif kind == EventType.stored:
            f["storage_area"] = payload.get("area")
        elif kind == EventType.dismantled:
            f.update(
                state=DISMANTLED,
                dismantled_by=org,
                dismantled_at=when,
                outputs=_outputs(payload.get("outputs")),
                batch=payload.get("batch"),
                line=payload.get("line"),
            )
        elif kind == EventType.corrected:
            self.correct(event)
        else:
            self.anomalies.append(f"unknown event type {kind!r} ({event.id})")

    def check_custody(self, event: EventLike) -> None:
        """The custody rules the ingest enforced: a log that breaks them was recorded
        against an edited projection (or edited itself), whatever its digests say."""
        f, kind, org = self.facts, event.type, event.org
        state, custodian = f.get("state"), f.get("custodian")
        # An if-chain, not a table: it runs for every event of a quarter's claim.
        if kind == EventType.shipped:
            allowed = state in (COLLECTED, RECEIVED) and org == custodian
        elif kind == EventType.refused:
            allowed = state == IN_TRANSIT and org == f.get("destination")
        elif kind == EventType.received:
            allowed = (state == IN_TRANSIT and org == f.get("destination")) or (
                state == COLLECTED and org == custodian
            )
        elif kind == EventType.stored or kind == EventType.dismantled:
            allowed = state == RECEIVED and org == custodian
        else:
            return
        if not allowed:
            self.anomalies.append(
                f"{kind} event {event.id} by {org} breaks the custody rules "
                f"(device {state}, held by {custodian})"
            )

    def correct(self, event: EventLike) -> None:
        corrects = str(event.payload.get("corrects"))
        target_type = self.types.get(corrects)
        if target_type is None:
            self.anomalies.append(f"correction {event.id} names no earlier event of this device")
        changes = event.payload.get("fields")
        reason = event.payload.get("reason")
        self.corrections.append(
            Correction(
                id=event.id,
                corrects=corrects,
                corrects_type=target_type,
                reason=reason if isinstance(reason, str) else None,
                fields=dict(changes) if isinstance(changes, Mapping) else {},
                flag=event.payload.get("flag"),
                org=event.org,
                occurred_at=event.occurred_at,
            )
        )


def _replayable(event: EventLike) -> bool:
    payload = event.payload
    return (type(payload) is dict or isinstance(payload, Mapping)) and isinstance(
        event.occurred_at, dt.datetime
    )


def replay(qr_id: str, events: Iterable[EventLike]) -> DeviceFacts:
    """The facts of device ``qr_id`` from its events, given in recording order."""
    events = list(events)
    state = _Replay(qr_id)
    # A row written by hand with no readable payload or time cannot be replayed: it is
    # named (and verifies as tampered) and the rest of the log still is replayed.
    readable = [e for e in events if _replayable(e)]
    if len(readable) != len(events):
        state.anomalies += [
            f"event {e.id} cannot be replayed (its payload or time is unreadable)"
            for e in events
            if not _replayable(e)
        ]
    payloads = effective_payloads(readable)
    for event in readable:
        if event.type != EventType.corrected:
            state.types[event.id] = event.type
        state.apply(event, payloads.get(event.id, event.payload))
    if events:
        state.facts.update(
            head_digest=events[-1].digest,
            head_occurred_at=events[-1].occurred_at,
            event_count=len(events),
        )
    return DeviceFacts(
        **state.facts, corrections=tuple(state.corrections), anomalies=tuple(state.anomalies)
    )


def projection_mismatch(facts: DeviceFacts, row: Any, batch: tuple[str, str] | None) -> list[str]:
    """Fields where a projection row disagrees with the log: signs of a direct edit.

    ``batch`` is the (plant, code) of the batch the row points at, if any.
    """
    fields = [name for name in PROJECTED if getattr(row, name, None) != getattr(facts, name)]
    logged = (facts.dismantled_by, facts.batch) if facts.batch and facts.dismantled_by else None
    if batch != logged:
        fields.append("batch")
    return fields
