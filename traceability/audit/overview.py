"""The region overview (/portal/, SPEC §2.7): what one audit snapshot says of the readable plants.

Each readable plant's figures and savings, the categories summed across
them, the devices dismantled per month and category, and the findings per
rule — computed here, below the web layer, so the page only names and draws
them (in the reader's language).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from traceability.audit.figures import Months, PlantFigures, merge_months
from traceability.audit.snapshots import Snapshot
from traceability.catalog.models import FactorSet


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
