"""What a regular dismantling of a device must report, and what a whole unit weighs (pure).

The rules (``dismantling_rules.toml``) name the fractions; the bands
(``bands.toml``) the least weight of key fractions and of the unit itself.
Claims and the audit read both through here, so a device is irregular to the
one exactly when it is to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from traceability.catalog.conditions import matches
from traceability.catalog.models import Band, Catalog, Fraction

GRAMS_PER_KG = 1000


def _grams(kg: Decimal) -> int:
    return int(kg * GRAMS_PER_KG)


def _kg(grams: int) -> str:
    return format((Decimal(grams) / GRAMS_PER_KG).normalize(), "f")


@dataclass(frozen=True)
class Gap:
    """One way a dismantling falls short of the rules: a required fraction not reported
    (``missing``), none of a group reported (``one_of``), or a key fraction reported
    below its least weight (``below_minimum``: ``weight_g`` < ``minimum_g``)."""

    kind: Literal["missing", "one_of", "below_minimum"]
    fractions: tuple[str, ...]
    weight_g: int = 0
    minimum_g: int = 0

    def text(self, fractions: Mapping[str, Fraction] | None = None, lang: str = "code") -> str:
        """For people: codes (``lang="code"``), or the fractions' ``zh`` or ``en`` names."""

        def name(code: str) -> str:
            known = fractions.get(code) if fractions is not None else None
            if known is None or lang == "code":
                return code
            return known.zh if lang == "zh" else known.en

        names = [name(code) for code in self.fractions]
        if self.kind == "missing":
            return names[0]
        if self.kind == "one_of":
            return ("、".join(names) + "之一") if lang == "zh" else "one of " + " / ".join(names)
        weight, least = _kg(self.weight_g), _kg(self.minimum_g)
        if lang == "zh":
            return f"{names[0]} {weight} kg（低于最低 {least} kg）"
        return f"{names[0]} {weight} kg (below the minimum {least} kg)"


def _bands(catalog: Catalog, category: str, attributes: Mapping[str, Any]) -> list[Band]:
    return [b for b in catalog.bands.by_category.get(category, ()) if matches(b.match, attributes)]


def dismantling_gaps(
    catalog: Catalog,
    category: str,
    attributes: Mapping[str, Any],
    outputs: Iterable[tuple[str, int]],
) -> tuple[Gap, ...]:
    """How ``outputs`` ((fraction, grams) pairs) fall short of the rules and bands for
    this device; empty when the dismantling is regular. Missing fractions come first,
    in code order, then groups, then fractions below their least weight."""
    reported: dict[str, int] = {}
    for fraction, grams in outputs:
        if grams > 0:
            reported[fraction] = reported.get(fraction, 0) + grams
    required: set[str] = set()
    groups: list[tuple[str, ...]] = []
    for rule in catalog.dismantling.by_category.get(category, ()):
        if matches(rule.match, attributes):
            required.update(rule.required)
            groups += [g for g in rule.one_of if g not in groups]
    least: dict[str, int] = {}
    for band in _bands(catalog, category, attributes):
        for code, kg in band.min_kg.items():
            least[code] = max(least.get(code, 0), _grams(kg))
    missing = sorted((required | set(least)) - set(reported))
    gaps = [Gap("missing", (code,)) for code in missing]
    gaps += [Gap("one_of", g) for g in groups if not set(g) & set(reported)]
    gaps += [
        Gap("below_minimum", (code,), reported[code], grams)
        for code, grams in sorted(least.items())
        if code in reported and reported[code] < grams
    ]
    return tuple(gaps)


def gaps_text(
    gaps: Iterable[Gap], fractions: Mapping[str, Fraction] | None = None, lang: str = "code"
) -> str:
    """``missing crt_phosphor; refrigerant 0.001 kg (below the minimum 0.1 kg)``; with
    ``fractions`` and ``lang`` "zh" or "en", the fractions by name."""
    gaps = tuple(gaps)
    absent = [g.text(fractions, lang) for g in gaps if g.kind != "below_minimum"]
    parts = []
    if absent:
        parts.append("缺少" + "、".join(absent) if lang == "zh" else "missing " + ", ".join(absent))
    parts += [g.text(fractions, lang) for g in gaps if g.kind == "below_minimum"]
    return ("；" if lang == "zh" else "; ").join(parts)


@dataclass(frozen=True)
class UnitWeight:
    """What a whole unit of this kind weighs at intake (grams; None: no bound)."""

    min_g: int | None
    max_g: int | None


def unit_weight(catalog: Catalog, category: str, attributes: Mapping[str, Any]) -> UnitWeight:
    """The strictest bounds of every band that matches the device."""
    low: int | None = None
    high: int | None = None
    for band in _bands(catalog, category, attributes):
        if band.unit_kg.min is not None:
            low = max(low or 0, _grams(band.unit_kg.min))
        if band.unit_kg.max is not None:
            top = _grams(band.unit_kg.max)
            high = top if high is None else min(high, top)
    return UnitWeight(low, high)
