"""Schemas of the catalogue data files, and loading them once.

Each file is validated on its own schema, then against the others
(``catalog/checks.py``): either way the error names the file and the key
(``files.CatalogDataError``).
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from traceability.catalog.files import read_toml, validated
from traceability.catalog.hw import is_hw_code
from traceability.catalog.schedules import (
    FactorSet,
    FactorsFile,
    RateSchedule,
    RatesFile,
    RateTier,
)

__all__ = [
    "DATA_DIR",
    "AttributeSpec",
    "Band",
    "Bands",
    "Catalog",
    "Category",
    "DismantlingRule",
    "DismantlingRules",
    "FactorSet",
    "Fraction",
    "RateSchedule",
    "RateTier",
    "ShareBand",
    "load_catalog",
    "parse_catalog",
]

DATA_DIR = Path(__file__).parent / "data"
#: The data files of the catalogue, by what they hold.
FILES = {
    "catalog": "catalog.toml",
    "dismantling": "dismantling_rules.toml",
    "bands": "bands.toml",
    "factors": "factors.toml",
    "rates": "rates.toml",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AttributeSpec(_Frozen):
    kind: Literal["enum", "int", "decimal", "bool"]
    values: tuple[str, ...] = ()
    #: Values old records hold: read, replayed and rated as written, refused on new
    #: input (a TV's ``display = "flat"`` from before the display type was recorded).
    legacy: tuple[str, ...] = ()
    min: Decimal | None = None
    max: Decimal | None = None
    places: int = 0
    required: bool = False
    unit: str | None = None
    #: When the attribute applies, a condition on the others (``backlight`` only for an
    #: LCD): asked, accepted and required only then.
    applies: dict[str, Any] = {}

    @model_validator(mode="after")
    def _check(self) -> AttributeSpec:
        if self.kind == "enum" and not self.values:
            raise ValueError("an enum attribute needs values")
        if self.kind != "enum" and (self.values or self.legacy):
            raise ValueError("only an enum attribute has values")
        if set(self.values) & set(self.legacy):
            raise ValueError("a value is either current or legacy")
        if self.kind == "bool" and (self.min is not None or self.max is not None):
            raise ValueError("a yes/no attribute has no bounds")
        return self


class UnitExclusion(_Frozen):
    """Devices of a category that are not the catalogue's unit, never paid (a desktop host
    that came without its display: the unit is 台式微型计算机（含主机和显示器）)."""

    reason: Literal["desktop_without_display"]
    when: dict[str, Any] = Field(min_length=1)
    source: str


class Category(_Frozen):
    code: str
    zh: str
    en: str
    subsidised: bool
    max_weight_kg: int = Field(gt=0)
    attributes: dict[str, AttributeSpec] = {}
    #: The catalogue's own limits (a condition): a device outside them is out of scope.
    scope: dict[str, Any] = {}
    not_the_unit: tuple[UnitExclusion, ...] = ()


class Fraction(_Frozen):
    code: str
    zh: str
    en: str
    #: Listed in the 国家危险废物名录 (2021): then ``hw_code`` gives its entry.
    hazardous: bool
    hw_code: str | None = None
    #: A controlled substance, not 名录 waste: recovered refrigerant (ODS/HFC, 《消耗臭氧层
    #: 物质管理条例》 and the Kigali amendment). Handed on with a receipt like hazardous waste.
    controlled: str | None = None
    #: Holds its owner's data (hard disks): destroyed, not only recycled.
    data_bearing: bool = False
    #: Kept for old records; a new dismantling names a precise fraction instead (the
    #: battery's chemistry).
    legacy: bool = False
    note: str | None = None

    @property
    def receipt_required(self) -> bool:
        """Whether its lots need the receiver's confirmed receipt (hazardous or controlled)."""
        return self.hazardous or self.controlled is not None

    @model_validator(mode="after")
    def _check(self) -> Fraction:
        if self.hw_code is not None:
            if not is_hw_code(self.hw_code):
                raise ValueError(f"hw_code {self.hw_code!r} is not a waste code like 900-044-49")
            if not self.hazardous:
                raise ValueError("hw_code is for hazardous fractions")
        elif self.hazardous and not self.legacy:
            raise ValueError("a hazardous fraction carries its 国家危险废物名录 code (hw_code)")
        return self


class DismantlingRule(_Frozen):
    category: str
    #: A condition on the attributes (``catalog/conditions.py``); empty: every device.
    match: dict[str, Any] = {}
    required: tuple[str, ...] = ()
    #: Groups of which one fraction must be reported (a legacy "flat" TV: its panel,
    #: whichever kind it was).
    one_of: tuple[tuple[str, ...], ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> DismantlingRule:
        if not self.required and not self.one_of:
            raise ValueError("a rule requires fractions (required or one_of)")
        if any(len(group) < 2 for group in self.one_of):
            raise ValueError("a one_of group names two fractions or more")
        return self


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


class WeightBounds(_Frozen):
    min: Decimal | None = Field(None, gt=0)
    max: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> WeightBounds:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class ShareBand(_Frozen):
    """Where the share of the intake weight that ``fractions`` (together) make up lies for
    a plant's units of the band, taken over a period (the audit's ``fraction_share_band``)."""

    fractions: tuple[str, ...] = Field(min_length=1)
    min: Decimal | None = Field(None, ge=0, le=1)
    max: Decimal | None = Field(None, gt=0, le=1)
    #: Where the figures come from (the file's ``source`` when not given).
    source: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ShareBand:
        if self.min is None and self.max is None:
            raise ValueError("a share band has a min, a max or both")
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("min must be below max")
        if len(set(self.fractions)) != len(self.fractions):
            raise ValueError("a fraction is named twice")
        return self


class Band(_Frozen):
    """What a whole unit of (part of) a category weighs, the least of its key fractions a
    regular dismantling yields, and the shares of its intake its fractions make up."""

    category: str
    match: dict[str, Any] = {}
    unit_kg: WeightBounds = WeightBounds(min=None, max=None)
    #: Key fraction → the least weight (kg) a regular dismantling reports.
    min_kg: dict[str, Decimal] = {}
    #: Shares of the intake weight, over a plant's units of the band in a period.
    shares: tuple[ShareBand, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Band:
        if any(kg <= 0 for kg in self.min_kg.values()):
            raise ValueError("minimum fraction weights are above 0 kg")
        return self


class Bands(_Frozen):
    version: str
    source: str
    label: str
    bands: tuple[Band, ...]

    @functools.cached_property
    def by_category(self) -> dict[str, tuple[Band, ...]]:
        out: dict[str, list[Band]] = {}
        for band in self.bands:
            out.setdefault(band.category, []).append(band)
        return {category: tuple(bands) for category, bands in out.items()}


class CatalogFile(_Frozen):
    """``catalog.toml``: the categories, their attributes and the fractions."""

    version: str
    source: str
    #: The day the catalogue's limits (``scope``) apply from: the 2014 catalogue took
    #: effect on 2016-03-01 (公告2015年第5号); units dismantled before are not held to them.
    scope_from: dt.date
    fractions: dict[str, Fraction]
    categories: dict[str, Category]

    @model_validator(mode="before")
    @classmethod
    def _codes(cls, data: Any) -> Any:
        """Each table's key is its code."""
        if isinstance(data, dict):
            data = dict(data)
            for name in ("fractions", "categories"):
                tables = data.get(name)
                if isinstance(tables, dict):
                    data[name] = {
                        code: {"code": code, **spec} if isinstance(spec, dict) else spec
                        for code, spec in tables.items()
                    }
        return data


class Catalog(_Frozen):
    version: str
    source: str
    scope_from: dt.date
    categories: dict[str, Category]
    fractions: dict[str, Fraction]
    dismantling: DismantlingRules
    bands: Bands
    factor_sets: dict[str, FactorSet]
    rate_schedules: dict[str, RateSchedule]

    @property
    def default_factor_set(self) -> FactorSet:
        return next(f for f in self.factor_sets.values() if f.default)


def parse_catalog(data_dir: Path = DATA_DIR, rate_files: tuple[Path, ...] = ()) -> Catalog:
    """The catalogue data, with the rate schedules of ``rate_files`` beside the national one.

    Raises ``CatalogDataError`` (a ``ValueError``) naming the file and the key at fault.
    """
    from traceability.catalog import checks

    paths = {name: data_dir / file for name, file in FILES.items()}
    catalog = validated(CatalogFile, read_toml(paths["catalog"]), paths["catalog"])
    rules = validated(DismantlingRules, read_toml(paths["dismantling"]), paths["dismantling"])
    bands = validated(Bands, read_toml(paths["bands"]), paths["bands"])
    factors = validated(FactorsFile, read_toml(paths["factors"]), paths["factors"])
    rates = {paths["rates"]: validated(RatesFile, read_toml(paths["rates"]), paths["rates"])}
    for path in rate_files:
        rates[path] = validated(RatesFile, _not_default(read_toml(path)), path)
    checks.check_catalog(catalog, paths["catalog"])
    checks.check_rules(rules, catalog, paths["dismantling"])
    checks.check_bands(bands, catalog, paths["bands"])
    schedules = checks.check_rates(rates, catalog, national=paths["rates"])
    return Catalog(
        version=catalog.version,
        source=catalog.source,
        scope_from=catalog.scope_from,
        categories=catalog.categories,
        fractions=catalog.fractions,
        dismantling=rules,
        bands=bands,
        factor_sets={s.id: s for s in factors.sets},
        rate_schedules=schedules,
    )


def _not_default(data: dict[str, Any]) -> dict[str, Any]:
    """A deployment's schedules sit beside the national one, never as the default."""
    schedules = data.get("schedules")
    if isinstance(schedules, list):
        data["schedules"] = [
            {**s, "default": False} if isinstance(s, dict) else s for s in schedules
        ]
    return data


@functools.cache
def load_catalog(rate_files: tuple[Path, ...] = ()) -> Catalog:
    """The shipped catalogue (and a deployment's rate schedules), parsed and validated once."""
    return parse_catalog(rate_files=rate_files)
