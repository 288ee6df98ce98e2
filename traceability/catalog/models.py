"""Schemas of the catalogue data files, and loading them once."""

from __future__ import annotations

import functools
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ledger.canonical import digest_hex

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


class Fraction(_Frozen):
    code: str
    zh: str
    en: str
    hazardous: bool


class DismantlingRule(_Frozen):
    category: str
    match: dict[str, str] = {}
    required: tuple[str, ...]


class DismantlingRules(_Frozen):
    version: str
    source: str
    label: str
    rules: tuple[DismantlingRule, ...]


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
    id: str
    source: str
    effective_dates: tuple[str, ...]
    default: bool = False
    tiers: tuple[RateTier, ...]

    @model_validator(mode="after")
    def _check(self) -> RateSchedule:
        for tier in self.tiers:
            if len(tier.rates) != len(self.effective_dates):
                raise ValueError(f"tier {tier.id}: one rate per effective date")
        return self


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
        return self

    @property
    def default_factor_set(self) -> FactorSet:
        return next(f for f in self.factor_sets.values() if f.default)

    @property
    def default_rate_schedule(self) -> RateSchedule:
        return next(s for s in self.rate_schedules.values() if s.default)


def _read(name: str, data_dir: Path) -> dict[str, Any]:
    with (data_dir / name).open("rb") as fh:
        return tomllib.load(fh)


def parse_catalog(data_dir: Path = DATA_DIR) -> Catalog:
    raw = _read("catalog.toml", data_dir)
    factors = _read("factors.toml", data_dir)
    rates = _read("rates.toml", data_dir)
    return Catalog.model_validate(
        dict(
            version=raw["version"],
            source=raw["source"],
            categories={code: {"code": code, **spec} for code, spec in raw["categories"].items()},
            fractions={code: {"code": code, **spec} for code, spec in raw["fractions"].items()},
            dismantling=_read("dismantling_rules.toml", data_dir),
            factor_sets={s["id"]: s for s in factors["sets"]},
            rate_schedules={s["id"]: s for s in rates["schedules"]},
        )
    )


@functools.cache
def load_catalog() -> Catalog:
    """The shipped catalogue, parsed and validated once per process."""
    return parse_catalog()
