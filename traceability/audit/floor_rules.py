"""Rules over how a plant's floor works: line speed against its design throughput, working
hours, attributes piling up at subsidy-tier bounds, hazardous outputs left unshipped.

What a plant declares (lines, design throughput per category, working hours)
is data (``audit.operations``); thresholds and tier bounds are the rule set's.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.device_rules import kg, local, pct
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Thresholds, TierBound, load_ruleset
from traceability.custody.models import EventType
from traceability.devices.models import DeviceState
from traceability.periods import CHINA


def _dismantled_in_period(data: AuditData) -> Iterator[AuditedDevice]:
    for record in data.devices.values():
        f = record.facts
        if f.state == DeviceState.dismantled and data.in_period(f.dismantled_at):
            yield record


def _day(when: dt.datetime) -> dt.date:
    return when.astimezone(CHINA).date()


def _clock(when: dt.datetime) -> str:
    return when.astimezone(CHINA).strftime("%H:%M")


def _actor(record: AuditedDevice) -> str:
    """Who recorded the device's dismantling (its last ``dismantled`` event)."""
    event = next((e for e in reversed(record.events) if e.type == EventType.dismantled), None)
    return str(getattr(event, "actor", None) or "?")


# -- fast_dismantling ---------------------------------------------------------------


@dataclass(frozen=True)
class _Work:
    at: dt.datetime
    hours: float  # line-hours the unit takes (1 / design throughput)
    record: AuditedDevice


@dataclass(frozen=True)
class _Peak:
    start: dt.datetime
    end: dt.datetime
    load: float  # line-hours recorded per hour of the window
    work: tuple[_Work, ...]


def busiest_window(work: Sequence[_Work], window: dt.timedelta) -> _Peak | None:
    """The window of ``window`` holding the most line-hours of ``work`` (sorted by time)."""
    best: _Peak | None = None
    left, total = 0, 0.0
    for right, item in enumerate(work):
        total += item.hours
        while item.at - work[left].at >= window:
            total -= work[left].hours
            left += 1
        load = total / (window.total_seconds() / 3600)
        if best is None or load > best.load:
            best = _Peak(work[left].at, item.at, load, tuple(work[left : right + 1]))
    return best


def _mix(work: Sequence[_Work], data: AuditData, zh: bool) -> str:
    counts: dict[str, int] = defaultdict(int)
    for item in work:
        counts[item.record.facts.category or "?"] += 1
    names = data.catalog.categories
    parts = []
    for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        name = (names[code].zh if zh else names[code].en) if code in names else code
        parts.append(f"{name} {n}")
    return ("、" if zh else ", ").join(parts)


def fast_dismantling(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """More line-hours of work recorded in a window than its line (or one operator) can do.

    A unit of category ``c`` dismantled on line ``l`` of plant ``p`` takes
    ``1 / units_per_hour(p, l, c)`` line-hours (the plant's declaration, else the
    practice default). Per line and per operator, each day, the busiest window
    of ``fast_dismantling_window_min`` minutes must not hold more than
    ``fast_dismantling_load_max`` line-hours per hour.
    """
    ops = data.operations
    lines: dict[tuple[str, str, dt.date], list[_Work]] = defaultdict(list)
    operators: dict[tuple[str, str, dt.date], list[_Work]] = defaultdict(list)
    for record in _dismantled_in_period(data):
        f = record.facts
        when, plant = f.dismantled_at, f.dismantled_by or "?"
        assert when is not None  # dismantled
        item = _Work(when, ops.hours_per_unit(plant, f.line, f.category or "?"), record)
        lines[plant, f.line or "?", _day(when)].append(item)
        operators[plant, _actor(record), _day(when)].append(item)
    window = dt.timedelta(minutes=t.fast_dismantling_window_min)
    for kind, groups in (("line", lines), ("operator", operators)):
        for (plant, who, day), work in sorted(groups.items()):
            work.sort(key=lambda w: w.at)
            peak = busiest_window(work, window)
            if peak is None or len(peak.work) < t.fast_dismantling_min_devices:
                continue
            if peak.load <= t.fast_dismantling_load_max:
                continue
            yield _fast_finding(data, t, kind, plant, who, day, peak)


def _fast_finding(
    data: AuditData, t: Thresholds, kind: str, plant: str, who: str, day: dt.date, peak: _Peak
) -> Finding:
    devices = tuple(w.record.facts.qr_id for w in peak.work)
    label = {"line": ("拆解线", "line"), "operator": ("操作员", "operator")}[kind]
    return Finding(
        "fast_dismantling",
        plant,
        peak.end,
        f"{plant}/{kind}:{who}/{day.isoformat()}",
        {
            "kind": kind,
            "who_zh": f"{label[0]} {who}",
            "who_en": f"{label[1]} {who}",
            "day": day.isoformat(),
            "start": local(peak.start),
            "end": _clock(peak.end),
            "count": len(peak.work),
            "mix_zh": _mix(peak.work, data, True),
            "mix_en": _mix(peak.work, data, False),
            "load": f"{peak.load:.2f}",
            "max": f"{t.fast_dismantling_load_max:.2f}",
        },
        devices=devices[:RECORDS_LISTED],
        verified=data.verified(devices),
    )


# -- outside_working_hours ------------------------------------------------------------


def outside_working_hours(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Dismantlings at times the plant did not declare as working hours, per plant-day."""
    days: dict[tuple[str, dt.date], list[AuditedDevice]] = defaultdict(list)
    for record in _dismantled_in_period(data):
        f = record.facts
        plant, when = f.dismantled_by or "?", f.dismantled_at
        assert when is not None
        hours, _source = data.operations.hours_of(plant)
        if not hours.works(when):
            days[plant, _day(when)].append(record)
    for (plant, day), records in sorted(days.items()):
        times = sorted(r.facts.dismantled_at for r in records if r.facts.dismantled_at)
        hours, source = data.operations.hours_of(plant)
        devices = tuple(r.facts.qr_id for r in records)
        yield Finding(
            "outside_working_hours",
            plant,
            times[-1],
            f"{plant}/{day.isoformat()}",
            {
                "day": day.isoformat(),
                "count": len(records),
                "first": local(times[0]),
                "last": _clock(times[-1]),
                "hours": hours.text(),
                "hours_source": source,
            },
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )


# -- tier_upcoding ---------------------------------------------------------------------


@dataclass
class _Band:
    total: int = 0
    inside: list[AuditedDevice] | None = None


def tier_upcoding(
    data: AuditData, t: Thresholds, bounds: Sequence[TierBound] | None = None
) -> Iterator[Finding]:
    """A plant's share of devices just on the paying side of a tier bound, far above the
    other plants' median (``bounds``: the rule set's ``tier_bounds``; over devices dismantled
    in the period)."""
    for bound in load_ruleset().tier_bounds if bounds is None else bounds:
        bands: dict[str, _Band] = defaultdict(lambda: _Band(0, []))
        for record in _dismantled_in_period(data):
            f = record.facts
            if not bound.applies(f.category, f.attributes) or bound.value(f.attributes) is None:
                continue
            band = bands[f.dismantled_by or "?"]
            band.total += 1
            if bound.holds(f.attributes):
                band.inside.append(record)  # type: ignore[union-attr]
        yield from _upcoding(data, t, bound, bands)


def _upcoding(
    data: AuditData, t: Thresholds, bound: TierBound, bands: dict[str, _Band]
) -> Iterator[Finding]:
    reporting = {p: b for p, b in bands.items() if b.total >= t.upcoding_min_devices}
    shares = {p: len(b.inside or ()) / b.total for p, b in reporting.items()}
    for plant, share in sorted(shares.items()):
        peers = [s for p, s in shares.items() if p != plant]
        inside = reporting[plant].inside or []
        if len(peers) < t.upcoding_min_peers or len(inside) < t.upcoding_min_devices:
            continue
        median = statistics.median(peers)
        if share < t.upcoding_share_ratio * median or share - median < t.upcoding_min_excess:
            continue
        category = data.catalog.categories.get(bound.category)
        devices = tuple(r.facts.qr_id for r in inside)
        yield Finding(
            "tier_upcoding",
            plant,
            max(r.facts.dismantled_at for r in inside if r.facts.dismantled_at),
            f"{plant}/{bound.category}/{bound.attribute}/{bound.low}",
            {
                "category_zh": category.zh if category else bound.category,
                "category_en": category.en if category else bound.category,
                "bound": bound.text,
                "band": len(inside),
                "total": reporting[plant].total,
                "share_pct": pct(share),
                "median_pct": pct(median),
                "peers": len(peers),
                "source": bound.source,
            },
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )


# -- hazardous_not_shipped -----------------------------------------------------------


@dataclass
class _Waiting:
    """A plant's outputs of a hazardous fraction not yet in a shipped lot."""

    oldest: dt.datetime | None = None
    grams: int = 0
    devices: list[str] | None = None


def hazardous_not_shipped(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Hazardous outputs waiting in their plant's open lot beyond the limit.

    The outputs of a fraction fill the plant's one open lot until it is shipped
    (as ``figures`` weighs lots): walked in log order, each ``lot_shipped`` of
    the fraction empties what waited before it.
    """
    hazardous = {code for code, f in data.catalog.fractions.items() if f.hazardous}
    steps: list[tuple[int, str, object]] = []
    for record in data.devices.values():
        for event in record.events:
            if event.type == EventType.dismantled:
                steps.append((event.seq, "out", (event, record)))
    for lot in data.lots.values():
        for event in lot.events:
            if event.type == EventType.lot_shipped and lot.fraction in hazardous:
                steps.append((event.seq, "ship", (lot.org, lot.fraction)))
    steps.sort(key=lambda s: s[0])
    waiting: dict[tuple[str, str], _Waiting] = defaultdict(lambda: _Waiting(None, 0, []))
    for _seq, kind, item in steps:
        if kind == "ship":
            waiting.pop(item, None)  # type: ignore[call-overload]
            continue
        event, record = item  # type: ignore[misc]
        for output in record.facts.outputs:
            if output.fraction in hazardous and output.weight_g > 0:
                held = waiting[event.org, output.fraction]
                held.oldest = min(held.oldest or event.occurred_at, event.occurred_at)
                held.grams += output.weight_g
                held.devices.append(record.facts.qr_id)  # type: ignore[union-attr]
    yield from _unshipped(data, t, waiting)


def _unshipped(
    data: AuditData, t: Thresholds, waiting: dict[tuple[str, str], _Waiting]
) -> Iterator[Finding]:
    limit = dt.timedelta(days=t.hazardous_storage_days)
    names = data.catalog.fractions
    for (plant, fraction), held in sorted(waiting.items()):
        if held.oldest is None or data.as_of - held.oldest <= limit:
            continue
        devices = tuple(held.devices or ())
        name = names.get(fraction)
        yield Finding(
            "hazardous_not_shipped",
            plant,
            data.as_of - dt.timedelta(microseconds=1),  # still waiting when audited
            f"{plant}/{fraction}",
            {
                "fraction_zh": name.zh if name else fraction,
                "fraction_en": name.en if name else fraction,
                "count": len(devices),
                "kg": kg(held.grams),
                "oldest": local(held.oldest),
                "days": (data.as_of - held.oldest).days,
            },
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )
