"""Rules over what reaches a plant: weight lost on the way, shells (空壳机), refusals."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.device_rules import event_ids, kg, local, pct
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Thresholds
from traceability.catalog.dismantling import unit_weight
from traceability.custody.models import EventType


def _received(data: AuditData) -> Iterator[AuditedDevice]:
    """Devices weighed in at a plant within the period."""
    for record in data.devices.values():
        f = record.facts
        if f.received_weight_g is not None and data.in_period(f.received_at):
            yield record


def _category(data: AuditData, code: str | None) -> tuple[str, str]:
    category = data.catalog.categories.get(code or "")
    return (category.zh, category.en) if category else (code or "?", code or "?")


def weight_drop(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Weighed in at the plant far lighter than at its collection point."""
    least = round(t.weight_drop_min_kg * 1000)
    for record in _received(data):
        f = record.facts
        collected, received = f.collected_weight_g, f.received_weight_g or 0
        if not collected or f.collected_by == f.received_by:
            continue
        drop = collected - received
        if drop < least or drop / collected <= t.weight_drop_share_max:
            continue
        yield Finding(
            "weight_drop",
            f.received_by or "?",
            f.received_at,  # type: ignore[arg-type]  # _received: set
            f.qr_id,
            {
                "collected_kg": kg(collected),
                "received_kg": kg(received),
                "drop_pct": pct(drop / collected),
                "collector": f.collected_by,
            },
            events=event_ids(record, EventType.collected, EventType.received),
            devices=(f.qr_id,),
            verified=record.verification.verified,
        )


def underweight_unit(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Weighed in below the least a whole unit of its kind weighs (a stripped shell): the
    catalogue's unit-weight bands (``catalog/data/bands.toml``, the ones claims read)."""
    for record in _received(data):
        f = record.facts
        minimum = unit_weight(data.catalog, f.category or "", f.attributes).min_g
        if minimum is None or (f.received_weight_g or 0) >= minimum:
            continue
        zh, en = _category(data, f.category)
        yield Finding(
            "underweight_unit",
            f.received_by or "?",
            f.received_at,  # type: ignore[arg-type]
            f.qr_id,
            {
                "category_zh": zh,
                "category_en": en,
                "received_kg": kg(f.received_weight_g or 0),
                "minimum_kg": kg(minimum),
            },
            events=event_ids(record, EventType.received),
            devices=(f.qr_id,),
            verified=record.verification.verified,
        )


@dataclass(frozen=True)
class _Refusal:
    record: AuditedDevice
    event: Any  # the ``refused`` event
    sender: str  # whose shipment it was


def _refusals(record: AuditedDevice) -> Iterator[_Refusal]:
    sender: str | None = None
    for event in record.events:
        if event.type == EventType.shipped:
            sender = event.org
        elif event.type == EventType.refused and sender is not None:
            yield _Refusal(record, event, sender)


def repeated_refusals(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """One sender's shipments refused by plants at least ``refusals_min`` times in the period."""
    by_sender: dict[str, list[_Refusal]] = defaultdict(list)
    for record in data.devices.values():
        for refusal in _refusals(record):
            if data.in_period(refusal.event.occurred_at):
                by_sender[refusal.sender].append(refusal)
    for sender, refusals in sorted(by_sender.items()):
        if len(refusals) < t.refusals_min:
            continue
        devices = tuple(sorted({r.record.facts.qr_id for r in refusals}))
        reasons = sorted({str(r.event.payload.get("reason") or "—") for r in refusals})
        yield Finding(
            "repeated_refusals",
            sender,
            max(r.event.occurred_at for r in refusals),
            sender,
            {
                "count": len(refusals),
                "plants": ", ".join(sorted({r.event.org for r in refusals})),
                "reasons": "; ".join(reasons)[:400],
            },
            events=tuple(r.event.id for r in refusals)[:RECORDS_LISTED],
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )


def refused_elsewhere(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A device one plant refused, then received by another plant."""
    for record in data.devices.values():
        refused: dict[str, Any] = {}  # refusing plant → its (last) refusal
        for event in record.events:
            if event.type == EventType.refused:
                refused[event.org] = event
            elif event.type == EventType.received and refused:
                elsewhere = [e for org, e in refused.items() if org != event.org]
                if elsewhere:
                    yield _elsewhere(record, elsewhere[-1], event)


def _elsewhere(record: AuditedDevice, refusal: Any, receipt: Any) -> Finding:
    when: dt.datetime = receipt.occurred_at
    return Finding(
        "refused_elsewhere",
        receipt.org,
        when,
        record.facts.qr_id,
        {
            "refused_by": refusal.org,
            "refused": local(refusal.occurred_at),
            "reason": str(refusal.payload.get("reason") or "—"),
            "received_by": receipt.org,
            "received": local(when),
        },
        events=(refusal.id, receipt.id),
        devices=(record.facts.qr_id,),
        verified=record.verification.verified,
    )
