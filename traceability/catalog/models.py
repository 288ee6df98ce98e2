"""Schemas of the catalogue data files, and loading them once."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ledger.canonical import digest_hex
from traceability.catalog.conditions import check_condition
from traceability.catalog.hw import is_hw_code

DATA_DIR = Path(__file__).parent / "data"


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


class AttributeSpec(_Frozen):
    kind: Literal["enum", "int", "decimal"]
    values: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    places: int = 0
    required: bool = False
    unit: str | None = None

    @model_validator(mode="after")
    def _check(self) -> AttributeSpec:
        if self.kind == "enum" and not self.values:
            raise ValueError("an enum attribute needs values")
        return self


class Category(_Frozen):
    code: str
    zh: str
    en: str
    subsidised: bool
    max_weight_kg: int = Field(gt=0)
    attributes: dict[str, AttributeSpec] = {}
    #: The catalogue's own limits (a condition): a device outside them is out of scope.
    scope: dict[str, Any] = {}


class Fraction(_Frozen):
    code: str
    zh: str
    en: str
    hazardous: bool
    #: Its 国家危险废物名录（2021年版） waste code (``NNN-NNN-CC``): what a transfer
    #: manifest declares and a processor's 危险废物经营许可证 must cover.
    hw_code: str | None = None

    @model_validator(mode="after")
    def _check_hw_code(self) -> Fraction:
        if self.hw_code is not None and not (self.hazardous and is_hw_code(self.hw_code)):
            raise ValueError(
                f"fraction {self.code}: hw_code must be a waste code like 900-045-49, "
                "and only a hazardous fraction has one"
            )
        return self


class DismantlingRule(_Frozen):
    category: str
    match: dict[str, str] = {}
    required: tuple[str, ...]


class DismantlingRules(_Frozen):
    version: str
    source: str
    label: str
    rules: tuple[DismantlingRule, ...]

    @functools.cached_property
    def by_category(self) -> dict[str, tuple[DismantlingRule, ...]]:
        """The rules of each category (a claim looks them up for every device)."""
        out: dict[str, list[DismantlingRule]] = {}
        for rule in self.rules:
            out.setdefault(rule.category, []).append(rule)
        return {category: tuple(rules) for category, rules in out.items()}


class FactorSet(_Hashed):
    id: str
    source: str
    default: bool = False
    co2_t: Decimal
    so2_t: Decimal
    wastewater_t: Decimal
    solid_waste_t: Decimal
    standard_coal_t: Decimal


class RateTier(_Frozen):
    id: str
    zh: str
    category: str
    when: dict[str, Any]
    rates: tuple[int | Literal["not_eligible"], ...]


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
        seen = set()
        for tier in self.tiers:
            if len(tier.rates) != len(self.effective_dates):
                raise ValueError(f"tier {tier.id}: one rate per effective date")
            if tier.id in seen:
                raise ValueError(f"schedule {self.id}: tier {tier.id} appears twice")
            seen.add(tier.id)
            if any(isinstance(r, int) and r < 0 for r in tier.rates):
                raise ValueError(f"tier {tier.id}: rates are yuan, never negative")
        return self

    def covers(self, day: dt.date, region: str) -> bool:
        if day < self.effective_dates[0] or (self.until is not None and day > self.until):
            return False
        return not self.regions or any(region.startswith(r) for r in self.regions)


class Catalog(_Frozen):
    version: str
    source: str
    categories: dict[str, Category]
    fractions: dict[str, Fraction]
    dismantling: DismantlingRules
    factor_sets: dict[str, FactorSet]
    rate_schedules: dict[str, RateSchedule]

    @model_validator(mode="after")
    def _cross_check(self) -> Catalog:
        for rule in self.dismantling.rules:
            if rule.category not in self.categories:
                raise ValueError(f"dismantling rule for unknown category {rule.category}")
            unknown = set(rule.required) - set(self.fractions)
            if unknown:
                raise ValueError(f"dismantling rule names unknown fractions {sorted(unknown)}")
        if sum(f.default for f in self.factor_sets.values()) != 1:
            raise ValueError("exactly one factor set must be the default")
        for category in self.categories.values():
            check_condition(category.scope, category.attributes, f"scope of {category.code}")
        for schedule in self.rate_schedules.values():
            for tier in schedule.tiers:
                where = f"schedule {schedule.id}, tier {tier.id}"
                rated = self.categories.get(tier.category)
                if rated is None:
                    raise ValueError(f"{where}: unknown category {tier.category}")
                if not rated.subsidised:
                    raise ValueError(f"{where}: {tier.category} is not fund-subsidised")
                check_condition(tier.when, rated.attributes, where)
        if sum(s.default for s in self.rate_schedules.values()) != 1:
            raise ValueError("exactly one rate schedule must be the default")
        return self

    @property
    def default_factor_set(self) -> FactorSet:
        return next(f for f in self.factor_sets.values() if f.default)


def _read(name: str, data_dir: Path) -> dict[str, Any]:
    with (data_dir / name).open("rb") as fh:
        return tomllib.load(fh)


def parse_catalog(data_dir: Path = DATA_DIR, rate_files: tuple[Path, ...] = ()) -> Catalog:
    """The catalogue data, with the rate schedules of ``rate_files`` beside the national one."""
    raw = _read("catalog.toml", data_dir)
    factors = _read("factors.toml", data_dir)
    rates = _read("rates.toml", data_dir)
    schedules = list(rates["schedules"])
    for path in rate_files:
        extra = _read(path.name, path.parent)["schedules"]
        clash = {s["id"] for s in extra} & {s["id"] for s in schedules}
        if clash:
            raise ValueError(f"{path}: schedule ids {sorted(clash)} are already defined")
        schedules += [{**s, "default": False} for s in extra]
    return Catalog.model_validate(
        dict(
            version=raw["version"],
            source=raw["source"],
            categories={code: {"code": code, **spec} for code, spec in raw["categories"].items()},
            fractions={code: {"code": code, **spec} for code, spec in raw["fractions"].items()},
            dismantling=_read("dismantling_rules.toml", data_dir),
            factor_sets={s["id"]: s for s in factors["sets"]},
            rate_schedules={s["id"]: s for s in schedules},
        )
    )


@functools.cache
def load_catalog(rate_files: tuple[Path, ...] = ()) -> Catalog:
    """The shipped catalogue (and a deployment's rate schedules), parsed and validated once."""
    return parse_catalog(rate_files=rate_files)
