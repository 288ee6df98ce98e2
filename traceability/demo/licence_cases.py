"""The audit cases the demo's licences plant (``data/licences.toml``), counted on the plan.

Changzhou's licence allows 24 air conditioners a year and the plan sends it
more than a quarter's share of that (``capacity_exceeded``); Nantong's licence
is amended after the quarter, with effect from 1 September, to withdraw
microcomputers it went on dismantling that month (``unlicensed_category``).
Both are counted with the audit's own arithmetic (``audit.licence_rules``) over
the licences as the demo records them (amendments included), for every plant
and category: the summary lists what the rules will find, no more, no less.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace
from typing import Any

from traceability.accounts.licences import (
    DISMANTLING,
    LICENCE_AMENDED,
    LICENCE_ISSUED,
    SCOPE_KEY,
    LicenceBook,
    china_day,
    replay_licences,
)
from traceability.audit.licence_rules import licensed_allowance, register_allowance
from traceability.audit.ruleset import load_ruleset
from traceability.demo.figures import Figures
from traceability.demo.licensing import DemoLicences
from traceability.demo.plan import Plan
from traceability.periods import quarter_of

#: What the summary lists for each case (the audit tests read these labels).
LABELS = {
    "capacity": "category dismantled beyond its licensed yearly capacity (plant categories)",
    "unlicensed": "dismantled in a category its licence was later withdrawn for, "
    "with effect before (devices)",
}


def _row(n: int, kind: str, org: str, payload: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(id=f"demo-{n}", type=kind, organisation=org, payload=payload)


def licence_book(licences: DemoLicences) -> LicenceBook:
    """The licences as the register replays them once the demo recorded every issue and
    amendment (``register_licences``, ``record_amendments``)."""
    rows: list[SimpleNamespace] = []
    for lic in licences.licences:
        payload = {
            "licence": lic.kind, "number": lic.number, "uscc": lic.uscc,
            "valid_from": lic.valid_from.isoformat(), "valid_to": lic.valid_to.isoformat(),
            SCOPE_KEY[lic.kind]: lic.scope,
        }  # fmt: skip
        rows.append(_row(len(rows), LICENCE_ISSUED, lic.org, payload))
    for change in sorted(licences.amendments, key=lambda a: a.recorded):
        issued = next(lic for lic in licences.licences if lic.number == change.number)
        payload = {
            "licence": issued.kind, "number": issued.number, "uscc": issued.uscc,
            "effective": change.effective.isoformat(), "valid_to": issued.valid_to.isoformat(),
            SCOPE_KEY[issued.kind]: change.scope,
        }  # fmt: skip
        rows.append(_row(len(rows), LICENCE_AMENDED, change.org, payload))
    return replay_licences(rows)


def plant_licence_cases(plan: Plan, licences: DemoLicences, figures: Figures) -> None:
    """Count, on the finished plan, the dismantlings the licences' rules will find."""
    book = licence_book(licences)
    margin = load_ruleset().thresholds.capacity_margin
    quarter = quarter_of(dt.datetime.combine(plan.days[0], dt.time(12), dt.UTC))
    counts: Counter[tuple[str, str]] = Counter()
    for unit in plan.units:
        if unit.dismantled_day is None or unit.dismantled_at is None:
            continue
        licensed = book.holds_any(unit.plant, DISMANTLING)
        counts[unit.plant, unit.category if licensed else "*"] += 1
        day = china_day(unit.dismantled_at)
        if licensed and unit.category not in book.licensed_categories(unit.plant, day):
            plan.planted[LABELS["unlicensed"]] += 1
    for (plant, category), count in sorted(counts.items()):
        if category == "*":
            yearly = figures.org(plant).capacity
            allowance = register_allowance(yearly, quarter) if yearly else None
        else:
            allowance = licensed_allowance(book, plant, category, quarter)
        if allowance is not None and allowance.units and count > allowance.units * (1 + margin):
            plan.planted[LABELS["capacity"]] += 1
