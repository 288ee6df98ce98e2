"""Rules over a plant's records taken together: output shares (against the other plants,
against the category's band), stock."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.device_rules import kg, local, pct
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Thresholds
from traceability.catalog.conditions import matches
from traceability.catalog.models import Band, ShareBand
from traceability.devices.models import DeviceState

#: Scale of the median absolute deviation to a normal standard deviation.
MAD_SCALE = 1.4826
#: Scale of the mean absolute deviation, used when the MAD is zero (Iglewicz & Hoaglin).
MEAN_AD_SCALE = 1.253314


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


def _band_groups(data: AuditData) -> dict[tuple[str, int], _Group]:
    """Per plant and band with share bands (its index in bands.toml): the devices of the
    band dismantled in the period, their intake and their outputs per fraction."""
    bands = data.catalog.bands.bands
    groups: dict[tuple[str, int], _Group] = defaultdict(_Group)
    for record in _dismantled_in_period(data):
        f = record.facts
        if not f.received_weight_g:
            continue
        for index, band in enumerate(bands):
            if not band.shares or band.category != f.category:
                continue
            if not matches(band.match, f.attributes):
                continue
            group = groups[f.dismantled_by or "?", index]
            group.intake_g += f.received_weight_g
            for output in f.outputs:
                group.fractions[output.fraction] += output.weight_g
            group.devices.append(f.qr_id)
            group.last = max(group.last or f.dismantled_at, f.dismantled_at)  # type: ignore[type-var]
            group.verified &= record.verification.verified
    return groups


def _outside(share: float, band: ShareBand) -> bool:
    return (band.min is not None and share < float(band.min)) or (
        band.max is not None and share > float(band.max)
    )


def _pct(bound: Decimal) -> str:
    return f"{bound * 100:.1f}"


def _band_text(band: ShareBand) -> str:
    if band.min is not None and band.max is not None:
        return f"{_pct(band.min)}–{_pct(band.max)} %"
    return f"≥ {_pct(band.min)} %" if band.min is not None else f"≤ {_pct(band.max)} %"  # type: ignore[arg-type]


def _kind(band: Band) -> str:
    """The band's condition as written (``display = crt``); empty: the whole category."""
    return ", ".join(f"{k} = {str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in band.match.items())  # fmt: skip


def fraction_share_band(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A plant's outputs of some fractions, as a share of the intake of all its units of a
    band dismantled in the period, outside the band's share range (bands.toml ``shares``);
    only for a plant with at least ``share_band_min_devices`` units of the band."""
    bands, names = data.catalog.bands, data.catalog
    for (plant, index), group in sorted(_band_groups(data).items()):
        if len(group.devices) < t.share_band_min_devices:
            continue
        band = bands.bands[index]
        category = names.categories.get(band.category)
        for share_band in band.shares:
            grams = sum(group.fractions.get(code, 0) for code in share_band.fractions)
            share = grams / group.intake_g
            if not _outside(share, share_band):
                continue
            fractions = [names.fractions[code] for code in share_band.fractions]
            kind = _kind(band)
            yield Finding(
                "fraction_share_band",
                plant,
                group.last or data.as_of,
                f"{plant}/{band.category}[{kind}]/{'+'.join(share_band.fractions)}",
                {
                    "category_zh": category.zh if category else band.category,
                    "category_en": category.en if category else band.category,
                    "kind_zh": f"（{kind}）" if kind else "",
                    "kind_en": f" ({kind})" if kind else "",
                    "fractions_zh": "+".join(f.zh for f in fractions),
                    "fractions_en": " + ".join(f.en for f in fractions),
                    "share_pct": pct(share),
                    "band": _band_text(share_band),
                    "count": len(group.devices),
                    "intake_kg": kg(group.intake_g),
                    "source": share_band.source or bands.source,
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
