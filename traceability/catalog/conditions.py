"""Conditions on a device's attributes: rate tiers (``when``) and catalogue scope (``scope``).

A condition maps attribute names to what the value must be:

- a string: the enum value itself (``display = "crt"``);
- a list of strings: one of them (``form = ["tablet", "palmtop"]``);
- ``true`` or ``false``: the yes/no attribute's value (``with_display = true``);
- a table of bounds: ``min`` (≥), ``above`` (>), ``max`` (≤), ``below`` (<),
  numbers or decimal strings (``dry_load_kg = { above = "3", max = "10" }``).

Every named attribute must hold for the device to match; an empty condition
matches every device. Where a rate tier needs "this or that" (the official row
"CRT ≥ 25″, or a flat panel"), its ``when`` is a list of conditions, any of
which matches (``matches_any``). Conditions are
checked against the catalogue when the data loads (``check_condition``), so
a misspelt attribute or value fails at start-up, not by never matching.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

BOUNDS = ("min", "above", "max", "below")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def matches(condition: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    """Whether ``attributes`` satisfy every part of ``condition`` (a missing one never does)."""
    for name, wanted in condition.items():
        value = attributes.get(name)
        if value is None:
            return False
        if isinstance(wanted, bool):
            if value is not wanted:
                return False
        elif isinstance(wanted, str):
            if value != wanted:
                return False
        elif isinstance(wanted, list | tuple):
            if value not in wanted:
                return False
        else:
            number = _number(value)
            if number is None or not within(number, wanted):
                return False
    return True


def matches_any(conditions: Sequence[Mapping[str, Any]], attributes: Mapping[str, Any]) -> bool:
    """Whether ``attributes`` satisfy at least one of ``conditions``."""
    return any(matches(condition, attributes) for condition in conditions)


_BOUNDS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "min": operator.ge,
    "above": operator.gt,
    "max": operator.le,
    "below": operator.lt,
}


@functools.lru_cache(maxsize=1024)
def _bound(value: Any) -> Decimal:
    """A bound as written in the data (a few dozen distinct ones; claims test them per device)."""
    return Decimal(str(value))


def within(number: Decimal, bounds: Mapping[str, Any]) -> bool:
    return all(_BOUNDS[key](number, _bound(bound)) for key, bound in bounds.items())


def check_condition(
    condition: Mapping[str, Any], attributes: Mapping[str, Any], where: str
) -> None:
    """Raise ``ValueError`` naming ``where`` if the condition cannot apply to the category.

    ``attributes`` is the category's attribute specs (``AttributeSpec`` by name); an
    enum's legacy values (kept for old records) may be named too.
    """
    for name, wanted in condition.items():
        spec = attributes.get(name)
        if spec is None:
            raise ValueError(f"{where}: the category has no attribute {name!r}")
        if spec.kind == "bool":
            if not isinstance(wanted, bool):
                raise ValueError(f"{where}: {name} is yes/no, give true or false")
        elif isinstance(wanted, bool):
            raise ValueError(f"{where}: {name} is not a yes/no attribute")
        elif isinstance(wanted, str | list | tuple):
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            if spec.kind != "enum":
                raise ValueError(f"{where}: {name} is a number, give bounds")
            known = (*spec.values, *spec.legacy)
            unknown = [v for v in values if v not in known]
            if unknown or not values:
                raise ValueError(f"{where}: {name} has no value(s) {unknown}")
        elif isinstance(wanted, Mapping):
            if spec.kind == "enum":
                raise ValueError(f"{where}: {name} is an enum, give its values")
            unknown = sorted(set(wanted) - set(BOUNDS))
            if unknown or not wanted:
                raise ValueError(f"{where}: {name} bounds must be among {BOUNDS}, got {unknown}")
            if any(_number(b) is None for b in wanted.values()):
                raise ValueError(f"{where}: {name} bounds must be numbers")
        else:
            raise ValueError(f"{where}: {name} must be a value, a list of values or bounds")
