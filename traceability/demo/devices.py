"""Drawing one plausible device of a category from the demo's device models."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, TypeVar

from traceability.demo.figures import Models

K = TypeVar("K")


def pick(rng: random.Random, table: Mapping[K, float]) -> K:
    """A key of ``table``, drawn with its value as relative frequency."""
    return rng.choices(list(table), weights=list(table.values()))[0]


def draw_device(
    rng: random.Random, models: Models, category: str
) -> tuple[str, dict[str, Any], float]:
    """A plausible device: (recipe kind, catalogue attributes, true weight in kg)."""
    u = rng.uniform
    if category == "tv":
        return _draw_tv(rng, models)
    if category == "refrigerator":
        fridge = models.refrigerator
        low, high = pick(rng, {(low, high): f for low, high, f in fridge.volume_bands})
        volume = rng.randint(low, high)
        return (
            "fridge",
            {"volume_l": volume},
            (fridge.base_kg + fridge.kg_per_l * volume) * u(0.9, 1.1),
        )
    if category == "washing_machine":
        washer = models.washing_machine
        kind = pick(rng, {name: t.frequency for name, t in washer.types.items()})
        spec = washer.types[kind]
        load = round(rng.uniform(*spec.load_kg) * 2) / 2
        return (
            "washer",
            {"type": kind, "dry_load_kg": f"{load:.1f}"},
            (spec.base_kg + washer.kg_per_load_kg * load) * u(0.9, 1.1),
        )
    if category == "air_conditioner":
        forms = models.air_conditioner.forms
        form = pick(rng, {name: f.frequency for name, f in forms.items()})
        ac = forms[form]
        cooling = rng.choice(ac.cooling_w)
        kg = ac.base_kg + ac.kg_per_w * cooling
        return "ac", {"form": form, "cooling_w": cooling}, kg * u(0.9, 1.1)
    if category == "microcomputer":
        computers = models.microcomputer.forms
        form = pick(rng, {name: f.frequency for name, f in computers.items()})
        displays = models.microcomputer.desktop_displays
        if form == "desktop" and displays:
            came = displays[pick(rng, {name: d.frequency for name, d in displays.items()})]
            return came.recipe, {"form": form, **came.attributes}, u(*came.kg)
        return computers[form].recipe, {"form": form}, u(*computers[form].kg)
    if category == "monitor":
        monitor = models.monitor
        variant = monitor.crt if rng.random() < monitor.crt_share else monitor.flat
        return variant.recipe, {}, u(*variant.kg)
    if category == "printer":
        printer = models.printer
        variant = printer.small if rng.random() < printer.small_share else printer.large
        return variant.recipe, {}, u(*variant.kg)
    simple = models.simple[category]
    return simple.recipe, {}, u(*simple.kg)


def _draw_tv(rng: random.Random, models: Models) -> tuple[str, dict[str, Any], float]:
    """A CRT set, or a flat panel of one display type (an LCD with its backlight)."""
    u = rng.uniform
    tv = models.tv
    if rng.random() < tv.crt_share:
        size = pick(rng, tv.crt_sizes)
        return "crt", {"display": "crt", "screen_in": size}, tv.crt_kg[size] * u(0.92, 1.08)
    size = pick(rng, tv.flat_sizes)
    display = pick(rng, tv.flat_displays)
    kg = (tv.flat_base_kg + tv.flat_kg_per_sq_in * size**2) * tv.flat_kg_factor.get(display, 1)
    if display != "lcd":
        return display, {"display": display, "screen_in": size}, kg * u(0.9, 1.1)
    ccfl = rng.random() < tv.flat_ccfl_share
    attributes = {"display": "lcd", "backlight": "ccfl" if ccfl else "led", "screen_in": size}
    return "flat_ccfl" if ccfl else "flat", attributes, kg * u(0.9, 1.1)
