"""Schemas of the cited reference data: emission factor sets and subsidy rate schedules."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ledger.canonical import digest_hex


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Hashed(_Frozen):
    """Reference data that figures cite by content hash (SPEC §2.6).

    ``sha256`` is SHA-256 over the RFC 8785 canonical JSON of the data as
    loaded and validated (``model_dump(mode="json")`` without the hash itself:
    decimals as their strings, defaults filled in), so it changes with any
    value and not with comments or layout of the TOML file.
    """

    @computed_field  # type: ignore[prop-decorator]
    @functools.cached_property
    def sha256(self) -> str:
        return digest_hex(self.model_dump(mode="json", exclude={"sha256"}))


class FactorSet(_Hashed):
    id: str
    source: str
    default: bool = False
    co2_t: Decimal
    so2_t: Decimal
    wastewater_t: Decimal
    solid_waste_t: Decimal
    standard_coal_t: Decimal


class FactorsFile(_Frozen):
    """``factors.toml``: the factor sets, each with its source."""

    sets: tuple[FactorSet, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> FactorsFile:
        if sum(f.default for f in self.sets) != 1:
            raise ValueError("exactly one factor set must be the default")
        if len({f.id for f in self.sets}) != len(self.sets):
            raise ValueError("factor set ids repeat")
        return self


#: What a tier pays on a date besides yuan: nothing (不予补贴), or a standard the
#: documents leave to be set separately (其补贴标准另行制定: tablets since 2016).
NOT_PAID = ("not_eligible", "set_separately")
Rate = int | Literal["not_eligible", "set_separately"]


class RateTier(_Frozen):
    id: str
    zh: str
    category: str
    #: A condition on the attributes, or a list of them any of which matches (one
    #: official row can name several kinds: "CRT ≥ 25″, or a flat panel").
    when: dict[str, Any] | tuple[dict[str, Any], ...]
    rates: tuple[Rate, ...]

    @property
    def alternatives(self) -> tuple[dict[str, Any], ...]:
        return (self.when,) if isinstance(self.when, dict) else self.when

    @model_validator(mode="after")
    def _check(self) -> RateTier:
        if not self.alternatives:
            raise ValueError(f"tier {self.id}: when lists no condition")
        return self


class RateSchedule(_Hashed):
    """Per-unit rates by tier for dismantling dates (Beijing time) from the first
    effective date up to and including ``until`` (open-ended when None), for
    plants in ``regions`` (GB/T 2260 code prefixes; empty: everywhere)."""

    id: str
    source: str
    effective_dates: tuple[dt.date, ...]
    until: dt.date | None = None
    regions: tuple[str, ...] = ()
    #: Shown beside the schedule's name on every claim (e.g. "EXAMPLE: not a real standard").
    label: str | None = None
    default: bool = False
    tiers: tuple[RateTier, ...]

    @model_validator(mode="after")
    def _check(self) -> RateSchedule:
        if not self.effective_dates or list(self.effective_dates) != sorted(
            set(self.effective_dates)
        ):
            raise ValueError(f"schedule {self.id}: effective dates must be ascending and distinct")
        if self.until is not None and self.until < self.effective_dates[-1]:
            raise ValueError(f"schedule {self.id}: until is before the last effective date")
        if not all(r.isdigit() and 1 <= len(r) <= 6 for r in self.regions):
            raise ValueError(f"schedule {self.id}: regions are GB/T 2260 code prefixes")
        # Each tier is checked against the dates in catalog/checks.py (naming its key).
        return self

    def tier_problem(self, tier: RateTier) -> str | None:
        """What is wrong with ``tier`` in this schedule, if anything."""
        if len(tier.rates) != len(self.effective_dates):
            return f"tier {tier.id}: one rate per effective date"
        if sum(t.id == tier.id for t in self.tiers) > 1:
            return f"schedule {self.id}: tier {tier.id} appears twice"
        if any(isinstance(r, int) and r < 0 for r in tier.rates):
            return f"tier {tier.id}: rates are yuan, never negative"
        return None

    def covers(self, day: dt.date, region: str) -> bool:
        if day < self.effective_dates[0] or (self.until is not None and day > self.until):
            return False
        return not self.regions or any(region.startswith(r) for r in self.regions)


class RatesFile(_Frozen):
    """``rates.toml`` (or a deployment's file of schedules)."""

    schedules: tuple[RateSchedule, ...] = Field(min_length=1)
