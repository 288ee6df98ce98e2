"""The plan: one record per device, its route through the quarter, and the planted anomalies."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from traceability.catalog.models import Catalog
from traceability.catalog.services import required_fractions
from traceability.demo.cases import plant_cases
from traceability.demo.clock import at, working_days
from traceability.demo.devices import draw_device, pick
from traceability.demo.figures import Figures


@dataclass
class Unit:
    index: int
    category: str
    kind: str
    attributes: dict[str, Any]
    weight_g: int
    plant: str
    collector: str | None  # None: collected at the plant itself
    collected_day: int
    collected_at: dt.datetime
    brand: str | None = None
    serial: str | None = None
    source: str | None = None
    shipped_day: int | None = None
    received_day: int | None = None
    received_at: dt.datetime | None = None
    dismantled_day: int | None = None
    dismantled_at: dt.datetime | None = None
    reweigh_g: int = 0  # pallet weight wrongly included at intake, then corrected
    brand_typo: bool = False
    drop: str | None = None  # a required fraction left unreported
    share: float = 0.0  # outputs / intake
    late_sync_day: int | None = None
    # The audit cases of issue 17 (demo.cases):
    operator: str | None = None  # who records the dismantling (after the plant's short name)
    refused_by: str | None = None  # the plant that refused the first shipment, on refused_day
    refused_day: int | None = None
    reship_day: int | None = None  # shipped again, to ``plant``
    stripped_g: int = 0  # removed between collection and intake
    weighed_at_collection: bool = False
    # a fraction reported at this share of its weight, the rest booked as another fraction
    scale: tuple[str, float, str] | None = None
    late_fix_g: int = 0  # intake re-weighed after the quarter closed: the change


@dataclass
class Plan:
    days: list[dt.date]
    units: list[Unit]
    planted: Counter[str] = field(default_factory=Counter)
    #: Cases for the claim (demo/regime.py), listed apart from the audit anomalies.
    cases: Counter[str] = field(default_factory=Counter)
    after_close: dt.date | None = None  # the day steps after the quarter sync (demo.cases)


def _quotas(n: int, shares: dict[str, float]) -> list[str]:
    if n < 2 * len(shares):  # too few for proportions: one of each in turn
        return [c for _, c in zip(range(n), itertools.cycle(shares))]
    total = sum(shares.values())
    counts = {c: max(2, round(n * s / total)) for c, s in shares.items()}
    while sum(counts.values()) > n and counts["tv"] > 2:
        counts["tv"] -= 1
    counts["tv"] += n - sum(counts.values())
    return [c for c, k in counts.items() for _ in range(k)]


def plan_units(
    n: int,
    rng: random.Random,
    catalog: Catalog,
    figures: Figures,
    licensed: Callable[[str, str], bool] | None = None,
) -> Plan:
    """``licensed(plant, category)``: whether the plant may dismantle it (SPEC §2.8)."""
    days = working_days(figures.quarter)
    last = len(days) - 1
    categories = _quotas(n, {c: mix.share for c, mix in figures.categories.items()})
    rng.shuffle(categories)
    units = []
    direct_share = figures.logistics.direct_share
    for index, category in enumerate(categories):
        kind, attributes, kg = draw_device(rng, figures.models, category)
        plant = _plant_for(rng, figures, category, licensed)
        direct = rng.random() < direct_share
        collector = (
            None
            if direct
            else pick(rng, {c: s.share for c, s in figures.collectors.items() if s.plant == plant})
        )
        day = rng.randint(0, last)
        opening = rng.uniform(510, 960 if direct else 1020)  # plants take deliveries until 16:00
        unit = Unit(
            index=index,
            category=category,
            kind=kind,
            attributes=attributes,
            weight_g=max(1, round(kg * 1000)),
            plant=plant,
            collector=collector,
            collected_day=day,
            collected_at=at(days[day], opening),
        )
        if rng.random() < 0.85:
            unit.brand = rng.choice(figures.categories[category].brands)
        if rng.random() < 0.35:
            unit.serial = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2)) + str(
                rng.randrange(10**9, 10**10)
            )
        if rng.random() < 0.9:
            office = category in ("printer", "copier", "fax")
            unit.source = pick(
                rng,
                {"household": 20, "business": 60, "public": 20}
                if office
                else {"household": 55, "trade_in": 30, "business": 10, "public": 5},
            )
        _plan_route(unit, days, rng, figures)
        units.append(unit)
    plan = Plan(days=days, units=units)
    _plant_anomalies(plan, rng, catalog, figures)
    if figures.planted is not None:
        plant_cases(plan, figures.planted, figures)
    return plan


def _plant_for(
    rng: random.Random, figures: Figures, category: str, licensed: Callable[[str, str], bool] | None
) -> str:
    """A plant by its share, among those licensed for the category (one draw either way)."""
    shares = figures.plant_share
    return pick(rng, {p: s for p, s in shares.items() if licensed is None or licensed(p, category)})


def _plan_route(unit: Unit, days: list[dt.date], rng: random.Random, figures: Figures) -> None:
    last = len(days) - 1
    if unit.collector is None:
        arrival = unit.collected_at + dt.timedelta(minutes=rng.uniform(3, 20))
        if unit.collected_day == last and arrival.hour >= 15:
            return  # not weighed before the quarter closed
        unit.received_day, unit.received_at = unit.collected_day, arrival
    else:
        truck_days = figures.collectors[unit.collector].truck_weekdays
        ship = next(
            (d for d in range(unit.collected_day + 1, last + 1) if days[d].weekday() in truck_days),
            None,
        )
        if ship is None:
            return  # still at the collection point
        unit.shipped_day = ship
        if ship == last:
            return  # on the truck over the National Day holiday
        unit.received_day = ship + 1
        unit.received_at = at(days[ship + 1], rng.uniform(510, 690))
    dismantle = unit.received_day + 1 + int(rng.expovariate(1 / 5))
    if dismantle <= last:
        unit.dismantled_day = dismantle
    unit.share = rng.uniform(0.86, 0.97)


def _plant_anomalies(plan: Plan, rng: random.Random, catalog: Catalog, figures: Figures) -> None:
    units, n, last = plan.units, len(plan.units), len(plan.days) - 1

    def some_of(candidates: Sequence[Any], k: int) -> list[Any]:
        return rng.sample(list(candidates), min(k, len(candidates)))

    def some(candidates: Sequence[Unit], k: int, label: str) -> list[Unit]:
        chosen = some_of(candidates, k)
        plan.planted[label] += len(chosen)
        return chosen

    for unit in some(
        [
            u
            for u in units
            if u.shipped_day is not None and u.collector and u.shipped_day < last * 2 // 3
        ],
        max(2, n // 1500),
        "lost in transit",
    ):
        unit.received_day = unit.received_at = unit.dismantled_day = None
    for unit in some(
        [
            u
            for u in units
            if u.received_day is not None
            and u.category in ("tv", "refrigerator", "washing_machine", "air_conditioner")
        ],
        max(2, n // 200),
        "re-weighed intake (corrected)",
    ):
        unit.reweigh_g = rng.randint(80, 150) * 100
    for unit in some(
        [
            u
            for u in units
            if u.collector and u.shipped_day is not None and u.brand in figures.typos
        ],
        max(1, n // 1000),
        "brand typo (corrected)",
    ):
        unit.brand_typo = True
    by_category: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.serial:
            by_category[unit.category].append(unit)
    pairs = [c for c in sorted(by_category) if len(by_category[c]) >= 2]
    for category in some_of(pairs, max(2, n // 1000)):
        first, second = rng.sample(by_category[category], 2)
        second.serial = first.serial  # same nameplate twice
        if not second.brand_typo:  # a typo planted on its own brand stays its own
            second.brand = first.brand
        plan.planted["duplicated serial (pairs)"] += 1
    dismantled = [u for u in units if u.dismantled_day is not None]
    ruled = [u for u in dismantled if required_fractions(catalog, u.category, u.attributes)]
    for unit in some(ruled, max(2, n // 150), "irregular dismantling (required output missing)"):
        unit.drop = rng.choice(sorted(required_fractions(catalog, unit.category, unit.attributes)))
    for unit in some(dismantled, max(1, n // 500), "mass balance below 65 %"):
        unit.share = rng.uniform(0.45, 0.62)
    _plan_dismantling(plan, rng, figures)


def _plan_dismantling(plan: Plan, rng: random.Random, figures: Figures) -> None:
    """Times on each line-day; one line-day at Beijing entered three weeks late."""
    line_days: dict[tuple[str, int, str], list[Unit]] = defaultdict(list)
    for unit in plan.units:
        if unit.dismantled_day is not None:
            line = figures.categories[unit.category].line
            line_days[unit.plant, unit.dismantled_day, line].append(unit)
    for (_, day, _), queue in sorted(line_days.items()):
        queue.sort(key=lambda u: (u.received_at, u.index))
        durations = [figures.recipes[u.kind].minutes * rng.uniform(0.7, 1.3) for u in queue]
        squeeze = min(1.0, 540 / sum(durations))  # fit the shift, 08:30–17:30
        clock = 510 + rng.uniform(0, 20)
        for unit, minutes in zip(queue, durations, strict=True):
            clock += minutes * squeeze
            unit.dismantled_at = at(plan.days[day], clock)
    late = sorted(k for k in line_days if k[0] == "DIS-BJ01" and 22 <= k[1] <= 40)
    if late:
        key = rng.choice(late)
        for unit in line_days[key]:
            unit.late_sync_day = min(key[1] + 15, len(plan.days) - 1)
        plan.planted["dismantlings entered 15 working days late"] += len(line_days[key])
