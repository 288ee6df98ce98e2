"""Pure functions over the catalogue: attribute validation, weights, rules."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from traceability.catalog.conditions import matches
from traceability.catalog.models import AttributeSpec, Catalog, Category
from traceability.errors import ValidationFailed

GRAMS_PER_KG = 1000
MIN_KG = Decimal("0.001")


def _as_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValidationFailed(f"{field} must be a number", field=field)
    if type(value) is Decimal:  # already parsed (custody/fields.py): no second round trip
        number = value
    else:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValidationFailed(f"{field} must be a number", field=field) from None
    if not number.is_finite():
        raise ValidationFailed(f"{field} must be a finite number", field=field)
    return number


def kg_to_grams(value: Any, *, field: str, max_kg: Decimal | int) -> int:
    """Kilograms with up to 3 decimals → integer grams; refuses ≤ 0 and absurd values."""
    kg = _as_decimal(value, field)
    if kg <= 0:
        raise ValidationFailed(f"{field} must be greater than 0 kg", field=field)
    if kg < MIN_KG:  # before any arithmetic: 1e-999999999 × 1000 rounds to 0 g
        raise ValidationFailed(
            f"{field} must be at least 0.001 kg (weights must be ≥ 1 g)", field=field
        )
    if kg > max_kg:
        raise ValidationFailed(
            f"{field} {kg} kg exceeds the plausible maximum of {max_kg} kg", field=field
        )
    grams = kg * GRAMS_PER_KG
    if grams != grams.to_integral_value():
        raise ValidationFailed(f"{field} has more than 3 decimals", field=field)
    return int(grams)


def grams_to_kg(grams: int | None) -> Decimal | None:
    return None if grams is None else Decimal(grams) / GRAMS_PER_KG


def get_category(catalog: Catalog, code: Any, field: str = "category") -> Category:
    if not isinstance(code, str) or code not in catalog.categories:
        raise ValidationFailed(f"unknown category {code!r}", field=field)
    return catalog.categories[code]


def _condition_text(condition: Mapping[str, Any]) -> str:
    """``display = lcd`` — for people, not parsers."""
    parts = []
    for name, wanted in condition.items():
        if isinstance(wanted, bool):
            shown = "true" if wanted else "false"
        elif isinstance(wanted, list | tuple):
            shown = " or ".join(wanted)
        else:
            shown = str(wanted)
        parts.append(f"{name} = {shown}")
    return " and ".join(parts)


def _validate_attribute(name: str, spec: AttributeSpec, value: Any, *, legacy: bool) -> Any:
    field = f"attributes.{name}"
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValidationFailed(f"{field} must be true or false", field=field)
        return value
    if spec.kind == "enum":
        if value in spec.legacy and isinstance(value, str):
            if legacy:
                return value
            raise ValidationFailed(
                f"{field} {value!r} is kept for old records only: give one of "
                f"{', '.join(spec.values)}",
                field=field,
            )
        if value not in spec.values:
            raise ValidationFailed(f"{field} must be one of {', '.join(spec.values)}", field=field)
        return value
    number = _as_decimal(value, field)
    if number and not -12 <= number.adjusted() <= 12:
        # Whatever the bounds: int() of 1E+999999999 builds a billion digits.
        raise ValidationFailed(f"{field} is out of range", field=field)
    if spec.min is not None and number < spec.min:
        raise ValidationFailed(f"{field} must be at least {spec.min}", field=field)
    if spec.max is not None and number > spec.max:
        raise ValidationFailed(f"{field} must be at most {spec.max}", field=field)
    if spec.kind == "int":
        if number != number.to_integral_value():
            raise ValidationFailed(f"{field} must be a whole number", field=field)
        return int(number)
    quantum = Decimal(1).scaleb(-spec.places)
    if number != number.quantize(quantum):
        raise ValidationFailed(f"{field} allows {spec.places} decimal place(s)", field=field)
    # Decimals are hashed as strings: canonical JSON must never see a float.
    return format(number.normalize(), "f")  # "6.5", "10" — never "1E+1"


def validate_attributes(
    category: Category, attributes: Any, *, legacy: bool = False
) -> dict[str, Any]:
    """The attributes normalised for storage and hashing, or a ValidationFailed naming the field.

    An attribute that ``applies`` only under a condition (an LCD's ``backlight``) is
    required then and refused otherwise. ``legacy``: accept the values old records
    hold (comparing a re-sent event with what was recorded), never for new input.
    """
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise ValidationFailed("attributes must be an object", field="attributes")
    unknown = sorted(set(attributes) - set(category.attributes))
    if unknown:
        raise ValidationFailed(
            f"{category.code} has no attribute {unknown[0]!r}", field=f"attributes.{unknown[0]}"
        )
    clean: dict[str, Any] = {
        name: _validate_attribute(name, spec, attributes[name], legacy=legacy)
        for name, spec in category.attributes.items()
        if attributes.get(name) is not None
    }
    for name, spec in category.attributes.items():
        field = f"attributes.{name}"
        if spec.applies and not matches(spec.applies, clean):
            if name in clean:
                raise ValidationFailed(
                    f"{field} applies only when {_condition_text(spec.applies)}", field=field
                )
        elif spec.required and name not in clean:
            when = f" when {_condition_text(spec.applies)}" if spec.applies else ""
            raise ValidationFailed(f"{field} is required for {category.code}{when}", field=field)
    return clean


def required_fractions(catalog: Catalog, category: str, attributes: Mapping[str, Any]) -> set[str]:
    """Fractions the regular-dismantling rules require for this device, each of them
    (a rule's ``one_of`` groups are in ``dismantling.dismantling_gaps``)."""
    required: set[str] = set()
    for rule in catalog.dismantling.by_category.get(category, ()):
        if matches(rule.match, attributes):
            required.update(rule.required)
    return required


def catalog_public(catalog: Catalog) -> dict[str, Any]:
    """The catalogue as the API shows it (GET /catalog)."""
    return {
        "version": catalog.version,
        "source": catalog.source,
        "categories": [
            {
                "code": c.code,
                "zh": c.zh,
                "en": c.en,
                "subsidised": c.subsidised,
                "max_weight_kg": c.max_weight_kg,
                "attributes": {
                    name: spec.model_dump(mode="json", exclude_defaults=True)
                    for name, spec in c.attributes.items()
                },
                "scope": c.scope,
                "not_the_unit": [x.model_dump(mode="json") for x in c.not_the_unit],
            }
            for c in catalog.categories.values()
        ],
        "scope_from": catalog.scope_from.isoformat(),
        "fractions": [f.model_dump(mode="json") for f in catalog.fractions.values()],
        "dismantling_rules": catalog.dismantling.model_dump(mode="json"),
        "bands": catalog.bands.model_dump(mode="json"),
        "factor_sets": [f.model_dump(mode="json") for f in catalog.factor_sets.values()],
        "rate_schedules": [s.model_dump(mode="json") for s in catalog.rate_schedules.values()],
    }
