"""Rules over a plant's records taken together: shares, stock, capacity."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.device_rules import local, pct
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Thresholds
from traceability.devices.models import DeviceState
from traceability.periods import CHINA

#: Scale of the median absolute deviation to a normal standard deviation.
MAD_SCALE = 1.4826
#: Scale of the mean absolute deviation, used when the MAD is zero (Iglewicz & Hoaglin).
MEAN_AD_SCALE = 1.253314


def _times(records: list[AuditedDevice]) -> list[dt.datetime]:
    return sorted(r.facts.dismantled_at for r in records if r.facts.dismantled_at)


def _dismantled_in_period(data: AuditData) -> Iterator[AuditedDevice]:
    for record in data.devices.values():
        f = record.facts
        if f.state == DeviceState.dismantled and data.in_period(f.dismantled_at):
            yield record


@dataclass
class _Group:
    intake_g: int = 0
    fractions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    devices: list[str] = field(default_factory=list)
    last: dt.datetime | None = None
    verified: bool = True


def robust_z(value: float, values: list[float]) -> float:
    """|value − median| over the scaled MAD (the mean absolute deviation when it is 0)."""
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values) * MAD_SCALE
    if mad == 0:
        mad = statistics.fmean(abs(v - median) for v in values) * MEAN_AD_SCALE
    if mad == 0:
        return 0.0
    return abs(value - median) / mad


def output_share_outlier(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Per category and fraction, a plant's output share against the median across plants."""
    groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
    for record in _dismantled_in_period(data):
        f = record.facts
        group = groups[f.dismantled_by or "?", f.category or "?"]
        group.intake_g += f.received_weight_g or 0
        for output in f.outputs:
            group.fractions[output.fraction] += output.weight_g
        group.devices.append(f.qr_id)
        group.last = max(group.last or f.dismantled_at, f.dismantled_at)  # type: ignore[type-var]
        group.verified &= record.verification.verified
    by_category: dict[str, dict[str, _Group]] = defaultdict(dict)
    for (plant, category), group in groups.items():
        if group.intake_g > 0 and len(group.devices) >= t.outlier_min_devices:
            by_category[category][plant] = group
    for category, plants in sorted(by_category.items()):
        if len(plants) < t.outlier_min_plants:
            continue
        fractions = sorted({fr for g in plants.values() for fr in g.fractions})
        for fraction in fractions:
            shares = {p: g.fractions.get(fraction, 0) / g.intake_g for p, g in plants.items()}
            values = list(shares.values())
            median = statistics.median(values)
            for plant, share in sorted(shares.items()):
                z = robust_z(share, values)
                if z <= t.outlier_z_max or abs(share - median) < t.outlier_min_diff:
                    continue
                group = plants[plant]
                yield Finding(
                    "output_share_outlier",
                    plant,
                    group.last or data.as_of,
                    f"{plant}/{category}/{fraction}",
                    {
                        "category": category,
                        "fraction": fraction,
                        "share_pct": pct(share),
                        "median_pct": pct(median),
                        "z": f"{z:.1f}",
                    },
                    devices=tuple(group.devices[:RECORDS_LISTED]),
                    verified=group.verified,
                )


def stock_reconciliation(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Devices in stock by the log (received − dismantled − shipped on) against the plant's count.

    Only when nothing happened after ``as_of`` (the plant's count is of now).
    """
    if not data.current:
        return
    in_stock: dict[str, list[AuditedDevice]] = defaultdict(list)
    for record in data.devices.values():
        if record.facts.state == DeviceState.received:
            in_stock[record.facts.custodian or "?"].append(record)
    plants = {o for o, row in data.orgs.items() if row.kind == "dismantler"}
    for plant in sorted(plants | set(in_stock) | set(data.recorded_stock)):
        logged, recorded = len(in_stock.get(plant, [])), data.recorded_stock.get(plant, 0)
        if logged == recorded:
            continue
        devices = tuple(sorted(r.facts.qr_id for r in in_stock.get(plant, [])))
        yield Finding(
            "stock_reconciliation",
            plant,
            data.as_of - dt.timedelta(microseconds=1),
            plant,
            {"log_stock": logged, "recorded_stock": recorded},
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )


def _day(when: dt.datetime) -> dt.date:
    return when.astimezone(CHINA).date()


def capacity_exceeded(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Devices dismantled in a day above the licence's annual capacity per working day."""
    days: dict[tuple[str, dt.date], list[AuditedDevice]] = defaultdict(list)
    for record in _dismantled_in_period(data):
        f = record.facts
        days[f.dismantled_by or "?", _day(f.dismantled_at)].append(record)  # type: ignore[arg-type]
    for (plant, day), records in sorted(days.items()):
        org = data.orgs.get(plant)
        if org is None or not org.capacity_units:
            continue
        daily = org.capacity_units / t.working_days_per_year
        if len(records) <= daily:
            continue
        devices = tuple(r.facts.qr_id for r in records)
        yield Finding(
            "capacity_exceeded",
            plant,
            _times(records)[-1],
            f"{plant}/{day}",
            {"day": day.isoformat(), "count": len(records), "daily": f"{daily:.0f}"},
            devices=devices[:RECORDS_LISTED],
            verified=data.verified(devices),
        )


def snapshot_in_the_future(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A stored snapshot dated after it was found: forged so it would never look due."""
    plants = sorted(code for code, org in data.orgs.items() if org.kind == "dismantler")
    for found in data.future_snapshots:
        for plant in plants:  # the snapshot spoke for every plant's figures
            yield Finding(
                "snapshot_in_the_future",
                plant,
                found.found_at,
                f"audit snapshot {found.period}",
                {
                    "period": found.period,
                    "claimed": local(found.computed_at),
                    "found": local(found.found_at),
                    "computed_at": found.computed_at.isoformat(),
                },
            )
