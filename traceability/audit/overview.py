"""The region overview (/portal/, SPEC §2.7): what one audit snapshot says of the readable plants.

Each readable plant's figures and savings, the categories summed across
them, the devices dismantled per month and category, and the findings per
rule — computed here, below the web layer, so the page only names and draws
them (in the reader's language). ``plant_matrix``: the plant × severity matrix
with its change against the previous period, and each plant's capacity use per
licensed category (dismantled units against the licence's yearly units
prorated to the period's days).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from traceability.accounts.licences import LicenceBook
from traceability.audit.figures import Months, PlantFigures, merge_months
from traceability.audit.ruleset import SEVERITIES, RuleSet
from traceability.audit.snapshots import Snapshot
from traceability.catalog.models import FactorSet
from traceability.periods import CHINA, Period


@dataclass(frozen=True)
class Overview:
    """The overview of the plants one may read, from one snapshot."""

    #: Plant code → its figures, in code order (plants the snapshot has no figures of left out).
    figures: dict[str, PlantFigures]
    #: Plant code → its savings under the default factor set.
    savings: dict[str, dict[str, Any]]
    #: Category code → devices received, dismantled, in stock and mass over the plants,
    #: the most dismantled first.
    categories: list[tuple[str, Counter[str]]]
    #: Month → devices dismantled per category, over the plants, in month order.
    months: Months
    #: Every category dismantled in some month, in code order.
    month_categories: list[str]
    #: Rule id → findings of the readable organisations.
    findings_by_rule: Counter[str]
    computed_at: dt.datetime

    @property
    def findings(self) -> int:
        return sum(self.findings_by_rule.values())


def region_overview(
    snapshot: Snapshot, *, plants: set[str], orgs: Container[str], factor_set: FactorSet
) -> Overview:
    """The overview of ``plants`` (and the findings of ``orgs``) that ``snapshot`` gives."""
    every_plant = snapshot.figures.plants
    figures = {p: every_plant[p] for p in sorted(plants) if p in every_plant}
    months = merge_months(snapshot.figures.months, plants)
    return Overview(
        figures=figures,
        savings={p: f.savings(factor_set) for p, f in figures.items()},
        categories=sorted(_category_totals(figures).items(), key=lambda kv: -kv[1]["dismantled"]),
        months=months,
        month_categories=sorted({c for m in months.values() for c in m}),
        findings_by_rule=Counter(f.rule for f in snapshot.findings if f.org in orgs),
        computed_at=snapshot.computed_at,
    )


def _category_totals(figures: dict[str, PlantFigures]) -> dict[str, Counter[str]]:
    """Per category, the plants' devices received, dismantled and in stock, and their mass."""
    categories: dict[str, Counter[str]] = {}
    for fig in figures.values():
        for code, cat in fig.categories.items():
            row = categories.setdefault(code, Counter())
            row.update(
                received=cat.received, dismantled=cat.dismantled, in_stock=cat.in_stock,
                mass_g=cat.mass_g,
            )  # fmt: skip
    return categories


@dataclass(frozen=True)
class CapacityUse:
    """A licensed category's dismantling against its licence, over a period."""

    category: str
    dismantled: int
    capacity: int  # the licence's units a year, prorated to the period's days

    @property
    def share(self) -> float | None:
        return self.dismantled / self.capacity if self.capacity else None


@dataclass(frozen=True)
class PlantRow:
    """One plant of the overview's matrix: findings by severity, their change against the
    previous period (None: that period is not kept), and capacity use per category."""

    plant: str
    severities: dict[str, int]
    change: dict[str, int] | None
    capacity: tuple[CapacityUse, ...]


def severity_counts(snapshot: Snapshot, plant: str, ruleset: RuleSet) -> dict[str, int]:
    counts = Counter(
        f.severity_of(ruleset.rule(f.rule)) for f in snapshot.findings if f.org == plant
    )
    return {s: counts[s] for s in SEVERITIES}


def capacity_use(
    figures: PlantFigures | None, licensed: dict[str, int], days: int
) -> tuple[CapacityUse, ...]:
    """Each licensed category's dismantled units against the licence prorated to ``days``."""
    categories = figures.categories if figures is not None else {}
    return tuple(
        CapacityUse(
            code,
            categories[code].dismantled if code in categories else 0,
            round(yearly * days / 365),
        )
        for code, yearly in sorted(licensed.items())
    )


def plant_matrix(
    snapshot: Snapshot, previous: Snapshot | None, *, plants: Iterable[str], ruleset: RuleSet,
    licences: LicenceBook, period: Period,
) -> list[PlantRow]:  # fmt: skip
    """The plant × severity matrix with the change against ``previous``, and capacity use."""
    day = (period.end - dt.timedelta(seconds=1)).astimezone(CHINA).date()
    days = max((period.end - period.start).days, 1)
    rows = []
    for plant in sorted(plants):
        now = severity_counts(snapshot, plant, ruleset)
        before = severity_counts(previous, plant, ruleset) if previous is not None else None
        rows.append(
            PlantRow(
                plant=plant,
                severities=now,
                change={s: now[s] - before[s] for s in SEVERITIES} if before is not None else None,
                capacity=capacity_use(
                    snapshot.figures.plants.get(plant),
                    licences.licensed_categories(plant, day),
                    days,
                ),
            )
        )
    return rows
