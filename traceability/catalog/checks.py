"""The catalogue's files checked against each other when they load.

A rule, band or tier naming a category, attribute, value or fraction the
catalogue does not have would silently never match; each is refused here,
naming the file and the key (``rules[3].match``), before anything is served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traceability.catalog.conditions import check_condition
from traceability.catalog.files import CatalogDataError

if TYPE_CHECKING:
    from traceability.catalog.models import Bands, CatalogFile, Category, DismantlingRules
    from traceability.catalog.schedules import RateSchedule, RatesFile


def _condition(condition: Mapping[str, Any], category: Category, path: Path, key: str) -> None:
    try:
        check_condition(condition, category.attributes, key)
    except ValueError as exc:
        raise CatalogDataError(path, key, str(exc).removeprefix(f"{key}: ")) from None


def _category(catalog: CatalogFile, code: str, path: Path, key: str) -> Category:
    category = catalog.categories.get(code)
    if category is None:
        raise CatalogDataError(path, key, f"unknown category {code!r}")
    return category


def _fractions(
    catalog: CatalogFile, codes: Iterable[str], path: Path, key: str, *, current: bool = True
) -> None:
    for code in codes:
        fraction = catalog.fractions.get(code)
        if fraction is None:
            raise CatalogDataError(path, key, f"unknown fraction {code!r}")
        if current and fraction.legacy:
            raise CatalogDataError(path, key, f"{code} is kept for old records only")


def check_catalog(catalog: CatalogFile, path: Path) -> None:
    """Scopes, attribute conditions and unit exclusions name the category's own attributes."""
    for code, category in catalog.categories.items():
        where = f"categories.{code}"
        _condition(category.scope, category, path, f"{where}.scope")
        for name, spec in category.attributes.items():
            if name in spec.applies:
                raise CatalogDataError(path, f"{where}.attributes.{name}.applies", "names itself")
            _condition(spec.applies, category, path, f"{where}.attributes.{name}.applies")
        for n, exclusion in enumerate(category.not_the_unit):
            _condition(exclusion.when, category, path, f"{where}.not_the_unit[{n}].when")


def check_rules(rules: DismantlingRules, catalog: CatalogFile, path: Path) -> None:
    for n, rule in enumerate(rules.rules):
        category = _category(catalog, rule.category, path, f"rules[{n}].category")
        _condition(rule.match, category, path, f"rules[{n}].match")
        _fractions(catalog, rule.required, path, f"rules[{n}].required")
        for g, group in enumerate(rule.one_of):
            _fractions(catalog, group, path, f"rules[{n}].one_of[{g}]")


def check_bands(bands: Bands, catalog: CatalogFile, path: Path) -> None:
    for n, band in enumerate(bands.bands):
        category = _category(catalog, band.category, path, f"bands[{n}].category")
        _condition(band.match, category, path, f"bands[{n}].match")
        for code in band.min_kg:
            _fractions(catalog, [code], path, f"bands[{n}].min_kg.{code}")
        for s, share in enumerate(band.shares):
            _fractions(catalog, share.fractions, path, f"bands[{n}].shares[{s}].fractions")
        top = band.unit_kg.max
        if top is not None and top > category.max_weight_kg:
            raise CatalogDataError(
                path,
                f"bands[{n}].unit_kg.max",
                f"{top} kg is above {category.code}'s max_weight_kg "
                f"({category.max_weight_kg} kg, the input limit in catalog.toml)",
            )


def check_rates(
    files: Mapping[Path, RatesFile], catalog: CatalogFile, *, national: Path
) -> dict[str, RateSchedule]:
    """Every tier rates a subsidised category by its own attributes; schedule ids are
    unique across the files; exactly one schedule (the national one's) is the default."""
    schedules: dict[str, RateSchedule] = {}
    for path, rates in files.items():
        for n, schedule in enumerate(rates.schedules):
            if schedule.id in schedules:
                raise CatalogDataError(
                    path, f"schedules[{n}].id", f"schedule {schedule.id!r} is already defined"
                )
            schedules[schedule.id] = schedule
            for t, tier in enumerate(schedule.tiers):
                key = f"schedules[{n}].tiers[{t}]"
                if problem := schedule.tier_problem(tier):
                    raise CatalogDataError(path, key, problem)
                _check_tier(tier, catalog, path, key)
    if sum(s.default for s in schedules.values()) != 1:
        raise CatalogDataError(national, "schedules", "exactly one schedule must be the default")
    return schedules


def _check_tier(tier: Any, catalog: CatalogFile, path: Path, key: str) -> None:
    rated = _category(catalog, tier.category, path, f"{key}.category")
    if not rated.subsidised:
        raise CatalogDataError(path, f"{key}.category", f"{tier.category} is not fund-subsidised")
    if isinstance(tier.when, dict):
        _condition(tier.when, rated, path, f"{key}.when")
    else:
        for w, condition in enumerate(tier.when):
            _condition(condition, rated, path, f"{key}.when[{w}]")
