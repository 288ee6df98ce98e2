"""The audit cases of issue 17, planted in the demo plan: one of each rule, where
``data/quarter.toml`` ``[planted]`` says, on devices no other planted anomaly touches.

Run after the plan's own anomalies and dismantling times (``plan``): each case
picks its units deterministically (the first suitable ones in plan order), so
the rest of the quarter is the one a seed always gives. A case that finds too
few suitable units (a small demo) is left out and not listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from traceability.demo.clock import at

if TYPE_CHECKING:
    from traceability.demo.figures import Figures, Planted
    from traceability.demo.plan import Plan, Unit

#: What the summary lists for each case (the audit tests read these labels).
LABELS = {
    "line_rush": "line beyond its design throughput (line-days)",
    "two_lines": "one operator recording two lines at once (operator-days)",
    "night_shift": "dismantled outside declared working hours (plant-days)",
    "upcoding": "CRT sets recorded at 25 inch instead of 21 (plants)",
    "share_outlier": "leaded funnel glass booked as panel glass (plant fractions)",
    "hazardous_held": "hazardous fraction never shipped (plant fractions)",
    "refusals": "collector refused repeatedly (collectors)",
    "refused_elsewhere": "refused devices received at another plant",
    "weight_drop": "weight lost between collection and intake",
    "shell": "unit below its category's minimum weight (空壳机)",
    "late_correction": "intake re-weighed after the quarter closed (corrected)",
    "residue": "outputs booked as unsorted residue (resource rate below 40 %)",
}


def untouched(unit: Unit) -> bool:
    """No other planted anomaly uses the unit (nor a duplicate serial could)."""
    return (
        unit.reweigh_g == 0
        and not unit.brand_typo
        and unit.drop is None
        and unit.share >= 0.86
        and unit.late_sync_day is None
        and unit.serial is None
        and unit.operator is None
        and unit.refused_by is None
        and unit.stripped_g == 0
        and unit.scale is None
        and unit.late_fix_g == 0
    )


def dismantled(unit: Unit) -> bool:
    return unit.dismantled_day is not None and unit.received_day is not None


def plant_cases(plan: Plan, planted: Planted, figures: Figures) -> None:
    """Every case of ``planted`` that the plan has units for."""
    cases: list[tuple[str, Callable[[Plan, Planted, Figures], int]]] = [
        ("share_outlier", _share_outlier),
        ("upcoding", _upcoding),
        ("refusals", _refusals),
        ("weight_drop", _weight_drop),
        ("shell", _shell),
        ("line_rush", _line_rush),
        ("two_lines", _two_lines),
        ("night_shift", _night_shift),
        ("late_correction", _late_correction),
        ("residue", _residue),
    ]
    for name, case in cases:
        count = case(plan, planted, figures)
        if count:
            # one finding each (a plant, a day, a collector); the outlier: both fractions
            plan.planted[LABELS[name]] += 2 if name == "share_outlier" else 1
        if count and name == "refusals":
            plan.planted[LABELS["refused_elsewhere"]] += count  # one finding a device
    plan.planted[LABELS["hazardous_held"]] += 1  # the loader never ships it (loader.py)


def _share_outlier(plan: Plan, planted: Planted, figures: Figures) -> int:
    """Every CRT set of one plant books most of a fraction as another (leaded funnel glass as
    panel glass, which costs less to dispose of): both shares stand out from the others'."""
    case = planted.share_outlier
    units = [
        u
        for u in plan.units
        if u.plant == case.plant and u.category == case.category and u.kind == "crt"
    ]
    for unit in units:
        unit.scale = (case.fraction, case.factor, case.into)
    return len(units)


def _upcoding(plan: Plan, planted: Planted, figures: Figures) -> int:
    """One plant records its 21″ CRT sets as 25″ (the higher rate)."""
    case = planted.upcoding
    units = [
        u
        for u in plan.units
        if u.plant == case.plant
        and u.category == case.category
        and u.attributes.get(case.attribute) == case.from_
    ]
    for unit in units:
        unit.attributes = {**unit.attributes, case.attribute: case.to}
    return len(units)


def _refusals(plan: Plan, planted: Planted, figures: Figures) -> int:
    """A collector's shipments refused by its plant, then delivered to another plant."""
    case, last = planted.refusals, len(plan.days) - 1
    chosen = [
        u
        for u in plan.units
        if untouched(u)
        and u.collector == case.sender
        and u.plant == case.refused_by
        and u.shipped_day is not None
        and 5 <= u.shipped_day <= last - 20
        and u.received_day is not None
    ][: case.devices]
    if len(chosen) < case.devices:
        return 0
    for unit in chosen:
        ship = unit.shipped_day
        assert ship is not None
        unit.refused_by, unit.refused_day = case.refused_by, ship + 1
        unit.plant, unit.reship_day = case.then, ship + 3
        unit.received_day = ship + 4
        unit.received_at = at(plan.days[ship + 4], 600 + unit.index % 60)
        unit.dismantled_day = ship + 6
        unit.dismantled_at = at(plan.days[ship + 6], 540 + 20 * chosen.index(unit))
    return len(chosen)


def _weight_drop(plan: Plan, planted: Planted, figures: Figures) -> int:
    """A unit weighed at its collection point, then weighed in without a part of it."""
    case = planted.weight_drop
    unit = next(
        (
            u
            for u in plan.units
            if untouched(u)
            and u.category == case.category
            and u.collector is not None
            and dismantled(u)
            and u.weight_g >= 30_000
        ),
        None,
    )
    if unit is None:
        return 0
    unit.weighed_at_collection = True
    unit.stripped_g = round(unit.weight_g * case.share)
    return 1


def _shell(plan: Plan, planted: Planted, figures: Figures) -> int:
    """A unit delivered to the plant directly, weighing less than a whole one can."""
    case = planted.shell
    unit = next(
        (
            u
            for u in plan.units
            if untouched(u)
            and u.category == case.category
            and u.collector is None
            and dismantled(u)
        ),
        None,
    )
    if unit is None:
        return 0
    unit.weight_g = round(case.kg * 1000)
    return 1


def _moved_to(units: list[Unit], day: int) -> list[Unit]:
    return [u for u in units if u.received_day is not None and u.received_day < day]


def _line_rush(plan: Plan, planted: Planted, figures: Figures) -> int:
    """Many units of one line dismantled in an hour, recorded by two operators in turn; in
    the afternoon, when the line's own queue of the day (from 08:30) is done, so neither
    operator is beyond the line's pace, only the line."""
    case, last = planted.line_rush, len(plan.days) - 1
    day = last - 12
    candidates = [
        u
        for u in plan.units
        if untouched(u) and u.plant == case.plant and u.category == case.category
        and dismantled(u)
    ]  # fmt: skip
    units = _moved_to(candidates, day)[: case.devices]
    if len(units) < case.devices:
        return 0
    for n, unit in enumerate(units):
        unit.dismantled_day = day
        unit.dismantled_at = at(plan.days[day], 14 * 60 + n * case.minutes)
        unit.operator = "intake" if n % 2 else f"line{figures.categories[unit.category].line[1]}"
    return 1


def _two_lines(plan: Plan, planted: Planted, figures: Figures) -> int:
    """One operator records dismantlings on two lines in the same hour."""
    case, last = planted.two_lines, len(plan.days) - 1
    day = last - 8
    picked: list[Unit] = []
    for category in case.categories:
        candidates = [
            u
            for u in plan.units
            if untouched(u) and u.plant == case.plant and u.category == category and dismantled(u)
        ]
        picked += _moved_to(candidates, day)[: case.devices]
    if len(picked) < 2 * case.devices:
        return 0
    first, second = picked[: case.devices], picked[case.devices :]
    for n, unit in enumerate(u for pair in zip(first, second, strict=True) for u in pair):
        unit.dismantled_day = day
        unit.dismantled_at = at(plan.days[day], 14 * 60 + n * 6)
        unit.operator = case.operator
    return 1


def _night_shift(plan: Plan, planted: Planted, figures: Figures) -> int:
    """One line-day of a plant dismantled in the evening, synced the next day."""
    case, last = planted.night_shift, len(plan.days) - 1
    line_days: dict[tuple[int, str], list[Unit]] = defaultdict(list)
    for unit in plan.units:
        if untouched(unit) and unit.plant == case.plant and dismantled(unit):
            assert unit.dismantled_day is not None
            line_days[unit.dismantled_day, figures.categories[unit.category].line].append(unit)
    fitting = sorted(
        (k for k, units in line_days.items() if len(units) <= 6 and k[0] < last - 2),
        key=lambda k: (-len(line_days[k]), -k[0], k[1]),
    )
    if not fitting:
        return 0
    day, _line = fitting[0]
    start = case.start.hour * 60 + case.start.minute
    for n, unit in enumerate(sorted(line_days[fitting[0]], key=lambda u: u.index)):
        unit.dismantled_at = at(plan.days[day], start + 20 * n)
        unit.late_sync_day = day + 1  # the evening's scans sync the next day
    return 1


def _late_correction(plan: Plan, planted: Planted, figures: Figures) -> int:
    """A dismantled unit's intake re-weighed after the quarter closed: the quarter's figures
    stay as recorded by its close, the correction is shown apart (custody.closing)."""
    case = planted.late_correction
    unit = next(
        (
            u
            for u in plan.units
            if untouched(u) and u.plant == case.plant and u.category == "tv" and dismantled(u)
        ),
        None,
    )
    if unit is None:
        return 0
    unit.late_fix_g = round(case.kg * 1000)
    plan.after_close = case.on
    return 1


def _residue(plan: Plan, planted: Planted, figures: Figures) -> int:
    """A unit shredded whole: its main fraction booked with the residue (``other``), so
    what it recovers is well below 40 % of its intake while its outputs still weigh it."""
    case = planted.residue
    if case is None:
        return 0
    unit = next(
        (u for u in plan.units if untouched(u) and u.category == case.category and dismantled(u)),
        None,
    )
    if unit is None:
        return 0
    unit.scale = (case.fraction, 0.0, "other")
    return 1
