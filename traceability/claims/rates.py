"""The rate engine: which schedule, which tier and which rate apply to a device (pure).

Schedules and tiers are data (``catalog/data/rates.toml`` and a deployment's
own file, validated against the catalogue when loaded). The rate is the one
in force on the dismantling date in Beijing time: a tier's rate for the
latest effective date on or before it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from traceability.catalog.conditions import matches, matches_any
from traceability.catalog.models import Catalog, RateSchedule, RateTier


@dataclass(frozen=True)
class Rated:
    """A device's tier and rate (yuan per unit) under one schedule."""

    schedule: RateSchedule
    tier: RateTier
    rate: int
    effective: dt.date


@dataclass(frozen=True)
class NotRated:
    """Why no rate applies: a reason code (``eligibility.REASONS``) and words for people."""

    reason: str
    detail: str


def schedules_covering(catalog: Catalog, day: dt.date, region: str) -> list[RateSchedule]:
    return [s for s in catalog.rate_schedules.values() if s.covers(day, region)]


def in_scope(catalog: Catalog, category: str, attributes: Mapping[str, Any], day: dt.date) -> bool:
    """Whether the device is inside the catalogue's own limits (e.g. refrigerator ≤ 800 L),
    which hold for units dismantled from ``catalog.scope_from`` (Beijing date) on."""
    scope = catalog.categories[category].scope
    return not scope or day < catalog.scope_from or matches(scope, attributes)


class RateMemo:
    """``rate_device`` remembered per (category, attributes, day, region): a quarter's
    devices share a few hundred such keys, and schedules never change while it runs."""

    def __init__(
        self, catalog: Catalog, rate: Callable[..., Rated | NotRated] | None = None
    ) -> None:
        self.catalog = catalog
        self.rate = rate or rate_device
        self.known: dict[tuple[Any, ...], Rated | NotRated] = {}

    def __call__(
        self,
        catalog: Catalog,
        category: str,
        attributes: Mapping[str, Any],
        day: dt.date,
        region: str,
    ) -> Rated | NotRated:
        assert catalog is self.catalog
        key = (category, tuple(sorted(attributes.items())), day, region)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self.rate(catalog, category, attributes, day, region)
        return found


def rate_device(
    catalog: Catalog, category: str, attributes: Mapping[str, Any], day: dt.date, region: str
) -> Rated | NotRated:
    """The tier and rate of a subsidised, in-scope device dismantled on ``day`` (Beijing)."""
    schedules = schedules_covering(catalog, day, region)
    if len(schedules) != 1:
        names = ", ".join(s.id for s in schedules) or "none"
        return NotRated(
            "no_rate_schedule",
            f"{len(schedules)} rate schedules cover {day} in region {region} ({names}); "
            "exactly one must",
        )
    schedule = schedules[0]
    tier = _tier_of(schedule, category, attributes)
    if isinstance(tier, NotRated):
        return tier
    index = bisect.bisect_right(schedule.effective_dates, day) - 1
    rate = tier.rates[index]
    effective = schedule.effective_dates[index]
    if rate == "set_separately":
        return NotRated(
            "standard_set_separately",
            f"{tier.id}: its standard is to be set separately (其补贴标准另行制定) "
            f"from {effective} ({schedule.id})",
        )
    if not isinstance(rate, int):
        return NotRated(
            "no_eligible_tier", f"{tier.id} is not eligible from {effective} ({schedule.id})"
        )
    return Rated(schedule, tier, rate, effective)


def _tier_of(
    schedule: RateSchedule, category: str, attributes: Mapping[str, Any]
) -> RateTier | NotRated:
    """The one tier of ``schedule`` the device matches, else why not."""
    tiers = [
        t
        for t in schedule.tiers
        if t.category == category and matches_any(t.alternatives, attributes)
    ]
    if len(tiers) != 1:
        what = "no tier" if not tiers else f"{len(tiers)} tiers ({', '.join(t.id for t in tiers)})"
        shown = ", ".join(f"{k} = {v}" for k, v in attributes.items()) or "no attributes"
        return NotRated("no_eligible_tier", f"{shown}: {what} of {schedule.id} matches")
    return tiers[0]


def quantity_rater(schedule_id: str) -> Callable[..., Rated | NotRated]:
    """The tier of a device for a quantity certification (no yuan: rate 0): the tiers of
    schedule ``schedule_id`` classify it, whatever the date; a tier that schedule's last
    rate does not pay is not certified (SPEC §2.6, 2024–2027)."""

    def rate(
        catalog: Catalog, category: str, attributes: Mapping[str, Any], day: dt.date, region: str
    ) -> Rated | NotRated:
        schedule = catalog.rate_schedules[schedule_id]
        tier = _tier_of(schedule, category, attributes)
        if isinstance(tier, NotRated):
            return tier
        last = tier.rates[-1]
        if last == "set_separately":
            return NotRated(
                "standard_set_separately",
                f"{tier.id}: its standard is to be set separately (其补贴标准另行制定) "
                f"({schedule.id})",
            )
        if not isinstance(last, int):
            return NotRated("no_eligible_tier", f"{tier.id} is not eligible ({schedule.id})")
        return Rated(schedule, tier, 0, day)

    return rate
