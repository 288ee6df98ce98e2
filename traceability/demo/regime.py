"""Cases a claim must tell apart (issue 17), planted after the anomalies on devices that
carry none: each flat display type dismantled by its own rule, a desktop host that came
without its display (not the subsidised unit) and refrigerator shells (空壳机) lighter
than any whole refrigerator. The summary lists them apart from the audit anomalies."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

from traceability.demo.figures import Figures
from traceability.demo.plan import Plan, Unit

SHELL = "refrigerator shell lighter than a whole unit (空壳机, excluded)"
HOST_ONLY = "desktop host without its display (excluded: not the subsidised unit)"
#: Display label → (recipe, attributes besides the size) of a TV to show.
DISPLAYS = {
    "plasma TV (PDP panel)": ("plasma", {"display": "plasma"}),
    "OLED TV": ("oled", {"display": "oled"}),
    "CCFL-backlit LCD TV (lamps removed intact)": (
        "flat_ccfl",
        {"display": "lcd", "backlight": "ccfl"},
    ),
}


def _clean(plan: Plan) -> list[Unit]:
    """Dismantled devices no anomaly was planted on (their findings stay as counted)."""
    return [
        u
        for u in plan.units
        if u.dismantled_day is not None and not u.drop and not u.reweigh_g and u.share >= 0.86
    ]


def _ensure(
    plan: Plan, rng: random.Random, label: str, present: Callable[[Unit], bool],
    candidates: list[Unit], convert: Callable[[Unit], None],
) -> None:  # fmt: skip
    """At least one dismantled device of a kind: convert a candidate when none was drawn."""
    dismantled = [u for u in plan.units if u.dismantled_day is not None]
    if not any(present(u) for u in dismantled) and candidates:
        convert(rng.choice(candidates))
    plan.cases[label] = sum(present(u) for u in dismantled)


def _to_display(
    unit: Unit, *, recipe: str, attributes: dict[str, Any], figures: Figures, pool: list[Unit]
) -> None:
    """An LED-backlit LCD TV drawn by the model becomes one of another display type."""
    pool.remove(unit)
    factor = figures.models.tv.flat_kg_factor.get(attributes["display"], 1)
    unit.kind = recipe
    unit.attributes = {**attributes, "screen_in": unit.attributes["screen_in"]}
    unit.weight_g = round(unit.weight_g * factor)


def _to_host(unit: Unit, *, rng: random.Random) -> None:
    unit.kind = "desktop_host"
    unit.attributes = {"form": "desktop", "with_display": False}
    unit.weight_g = rng.randint(6000, 10000)


def plant_claim_cases(plan: Plan, rng: random.Random, figures: Figures) -> None:
    clean = _clean(plan)
    led_tvs = [u for u in clean if u.kind == "flat"]
    for label, (recipe, attributes) in DISPLAYS.items():
        convert = partial(
            _to_display, recipe=recipe, attributes=attributes, figures=figures, pool=led_tvs
        )
        _ensure(plan, rng, label, partial(_is_tv, recipe=recipe), led_tvs, convert)
    desktops = [u for u in clean if u.attributes.get("with_display") is True]
    _ensure(plan, rng, HOST_ONLY, _is_host, desktops, partial(_to_host, rng=rng))
    fridges = [u for u in clean if u.kind == "fridge" and u.attributes["volume_l"] >= 50]
    for unit in rng.sample(fridges, min(max(1, len(plan.units) // 600), len(fridges))):
        unit.kind = "fridge_shell"
        unit.weight_g = rng.randint(4000, 6500)
        plan.cases[SHELL] += 1


def _is_tv(unit: Unit, *, recipe: str) -> bool:
    return unit.category == "tv" and unit.kind == recipe


def _is_host(unit: Unit) -> bool:
    return unit.category == "microcomputer" and unit.attributes.get("with_display") is False
