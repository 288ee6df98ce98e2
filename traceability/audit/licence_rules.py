"""Rules over what a plant's 处理资格证书 allows (SPEC §2.7, §2.8): the categories it may
dismantle, when, and how many a year.

Both read the licences replayed from the register (``AuditData.licences``),
each dismantling against the terms in force on its day (Beijing calendar),
as the register now says: a licence amended or revoked after the fact with an
earlier effect reads as amended for the days it covers.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from traceability.accounts.licences import DISMANTLING, Licence, LicenceBook, china_day
from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.audit.device_rules import event_ids, local
from traceability.audit.findings import RECORDS_LISTED, Finding
from traceability.audit.ruleset import Thresholds
from traceability.custody.models import EventType
from traceability.devices.models import DeviceState
from traceability.periods import Period, quarter_of

#: The group key of a plant without a licence in the register: its one register figure
#: (``capacity_units``) covers every category together.
ALL_CATEGORIES = "*"


def _dismantled(data: AuditData) -> Iterator[AuditedDevice]:
    """Every device dismantled by ``as_of`` (of any period: a quarter is counted whole)."""
    for record in data.devices.values():
        f = record.facts
        if f.state == DeviceState.dismantled and f.dismantled_at is not None:
            yield record


def _days(period: Period) -> Iterator[dt.date]:
    day, end = period.start.date(), period.end.date()  # both midnight in Beijing
    while day < end:
        yield day
        day += dt.timedelta(days=1)


def _year_days(day: dt.date) -> int:
    return 366 if calendar.isleap(day.year) else 365


@dataclass
class Allowance:
    """What a plant may dismantle of a category in a quarter: its yearly capacity on each
    day of the quarter, pro rata (``units``), over ``days`` days with a capacity."""

    units: float = 0.0
    days: int = 0
    yearly: set[int] = field(default_factory=set)  # the yearly capacities that applied
    licences: set[str] = field(default_factory=set)  # their numbers


def licensed_allowance(book: LicenceBook, plant: str, category: str, quarter: Period) -> Allowance:
    """Σ over the quarter's days of that day's licensed yearly capacity for ``category``
    (over every licence valid then) ÷ the days of its year."""
    allowance = Allowance()
    for day in _days(quarter):
        capacity = 0
        for licence, terms in book.on(plant, DISMANTLING, day):
            if category in terms.scope:
                capacity += terms.scope[category]
                allowance.licences.add(licence.number)
        if capacity:
            allowance.units += capacity / _year_days(day)
            allowance.days += 1
            allowance.yearly.add(capacity)
    return allowance


def register_allowance(yearly: int, quarter: Period) -> Allowance:
    """The register's one yearly figure (every category together) pro rata over the quarter."""
    days = list(_days(quarter))
    units = sum(yearly / _year_days(day) for day in days)
    return Allowance(units=units, days=len(days), yearly={yearly})


def _allowance(data: AuditData, plant: str, category: str, quarter: Period) -> Allowance | None:
    if category == ALL_CATEGORIES:
        org = data.orgs.get(plant)
        yearly = org.capacity_units if org is not None else None
        return register_allowance(yearly, quarter) if yearly else None
    return licensed_allowance(data.licences, plant, category, quarter)


def capacity_exceeded(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """Units of a category dismantled at a plant in a quarter (Beijing calendar) above what
    its licence allows: the yearly capacity for the category pro rata over the quarter's
    days (``licensed_allowance``), plus ``capacity_margin``.

    A plant with no dismantling licence in the register is held to the register's one
    yearly figure (``capacity_units``) over all its categories together; with neither,
    nothing is compared. A category its licence does not cover is ``unlicensed_category``'s.
    """
    groups: dict[tuple[str, str, str], list[AuditedDevice]] = defaultdict(list)
    quarters: dict[str, Period] = {}
    for record in _dismantled(data):
        f = record.facts
        plant = f.dismantled_by or "?"
        quarter = quarter_of(f.dismantled_at)  # type: ignore[arg-type]  # dismantled
        quarters[quarter.name] = quarter
        licensed = data.licences.holds_any(plant, DISMANTLING)
        category = (f.category or "?") if licensed else ALL_CATEGORIES
        groups[plant, category, quarter.name].append(record)
    for (plant, category, name), records in sorted(groups.items()):
        allowance = _allowance(data, plant, category, quarters[name])
        if allowance is None or not allowance.units:
            continue
        limit = allowance.units * (1 + t.capacity_margin)
        if len(records) <= limit:
            continue
        yield _capacity_finding(data, t, plant, category, name, records, allowance)


def _capacity_finding(
    data: AuditData,
    t: Thresholds,
    plant: str,
    category: str,
    quarter: str,
    records: list[AuditedDevice],
    allowance: Allowance,
) -> Finding:
    records.sort(key=lambda r: r.facts.dismantled_at)  # type: ignore[arg-type, return-value]
    known = data.catalog.categories.get(category)
    zh, en = (known.zh, known.en) if known else ("全部类别", "all categories")
    devices = tuple(r.facts.qr_id for r in records)
    low, high = min(allowance.yearly), max(allowance.yearly)
    numbers = sorted(allowance.licences)
    if numbers:
        basis_zh, basis_en = f"许可证 {'、'.join(numbers)}", f"licence {', '.join(numbers)}"
    else:
        basis_zh, basis_en = "登记的处理能力（未登记许可证）", "registered capacity (no licence)"
    return Finding(
        "capacity_exceeded",
        plant,
        records[-1].facts.dismantled_at,  # type: ignore[arg-type]
        f"{plant}/{category}/{quarter}",
        {
            "category_zh": zh,
            "category_en": en,
            "quarter": quarter,
            "count": len(records),
            "yearly": f"{low:,}" if low == high else f"{low:,}–{high:,}",
            "days": allowance.days,
            "allowed": f"{allowance.units:.1f}",
            "margin_pct": f"{t.capacity_margin * 100:.0f}",
            "basis_zh": basis_zh,
            "basis_en": basis_en,
        },
        devices=devices[-RECORDS_LISTED:],
        verified=data.verified(devices),
    )


# -- unlicensed_category -------------------------------------------------------------


def _licence_text(licence: Licence, day: dt.date, zh: bool) -> str:
    """``JSFD-3206-006 (2023-01-01–2027-12-31, as amended from 2026-09-01)`` on ``day``."""
    terms = licence.terms_on(day)
    shown = terms or licence.latest
    span = f"{licence.valid_from.isoformat()}–{shown.valid_to.isoformat()}"
    amended = [t for t in licence.terms[1:] if t.effective <= day]
    if amended:
        since = amended[-1].effective.isoformat()
        span += f"，{since} 起按变更" if zh else f", as amended from {since}"
    return f"{licence.number}（{span}）" if zh else f"{licence.number} ({span})"


def _why(data: AuditData, plant: str, day: dt.date, zh: bool) -> str:
    book, names = data.licences, data.catalog.categories
    valid = book.on(plant, DISMANTLING, day)
    if valid:
        licensed = [
            (names[c].zh if zh else names[c].en) if c in names else c
            for c in sorted({c for _, terms in valid for c in terms.scope})
        ]
        texts = ("；" if zh else "; ").join(_licence_text(lic, day, zh) for lic, _ in valid)
        if zh:
            return f"当日有效的处理资格证书 {texts} 不含该类别（许可：{'、'.join(licensed)}）"
        return (
            f"the dismantling licence valid that day, {texts}, does not cover it "
            f"(licensed: {', '.join(licensed)})"
        )
    sep = "；" if zh else "; "
    texts = sep.join(_licence_text(lic, day, zh) for lic in book.of(plant, DISMANTLING))
    if not texts:  # its register's licence events do not verify
        texts = "登记的许可证事件未通过验证" if zh else "its licence events do not verify"
    if zh:
        return f"当日无有效的处理资格证书（{texts}）"
    return f"no dismantling licence of the plant was valid that day ({texts})"


def unlicensed_category(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A device dismantled at a plant whose licences, on the dismantling day (Beijing), are
    not valid or do not cover its category — what got in while licence checks were off,
    or before a licence was amended or revoked with an earlier effect.

    A plant with no dismantling licence event in the register at all is not judged (a
    deployment from before the register; ``capacity_exceeded`` reads its one figure); one
    whose licence events do not verify is judged as holding no licence.
    """
    book = data.licences
    for record in _dismantled(data):
        f = record.facts
        plant = f.dismantled_by or "?"
        if not data.licence_judged(plant):
            continue
        day = china_day(f.dismantled_at)  # type: ignore[arg-type]  # dismantled
        if (f.category or "") in book.licensed_categories(plant, day):
            continue
        known = data.catalog.categories.get(f.category or "")
        yield Finding(
            "unlicensed_category",
            plant,
            f.dismantled_at,  # type: ignore[arg-type]
            f.qr_id,
            {
                "category_zh": known.zh if known else f.category,
                "category_en": known.en if known else f.category,
                "category_code": f.category,
                "day": day.isoformat(),
                "dismantled": local(f.dismantled_at),  # type: ignore[arg-type]
                "why_zh": _why(data, plant, day, True),
                "why_en": _why(data, plant, day, False),
                "valid": bool(book.on(plant, DISMANTLING, day)),
            },
            events=event_ids(record, EventType.dismantled),
            devices=(f.qr_id,),
            verified=record.verification.verified,
        )
