"""Turning the plan into events: each device's steps, as the handhelds would send them."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from traceability.custody.models import EventType
from traceability.demo.clock import at, stamp
from traceability.demo.figures import Figures
from traceability.demo.plan import Plan, Unit


@dataclass
class Step:
    """One event to submit: the day it syncs, by whom, and when it happened."""

    day: int
    user: str
    when: dt.datetime
    item: dict[str, Any]
    unit: int | None = None  # the device, by plan index; None for lot events


RESOLVE = frozenset(
    {
        EventType.shipped,
        EventType.received,
        EventType.stored,
        EventType.dismantled,
        EventType.refused,
    }
)  # items naming a qr_id


def kg(grams: int) -> str:
    return f"{grams // 1000}.{grams % 1000:03d}"


def new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _outputs(
    unit: Unit, rng: random.Random, received_g: int, figures: Figures
) -> list[dict[str, str]]:
    outputs = figures.recipes[unit.kind].outputs
    recipe = [(f, s * rng.uniform(0.8, 1.2)) for f, s in outputs.items()]
    total = sum(s for _, s in recipe)
    grams = {f: max(1, round(received_g * unit.share * s / total)) for f, s in recipe}
    if unit.scale is not None and unit.scale[0] in grams:  # booked as another (demo.cases)
        fraction, factor, into = unit.scale
        kept = max(1, round(grams[fraction] * factor))
        grams[into] = grams.get(into, 0) + grams[fraction] - kept
        grams[fraction] = kept
    if unit.drop:
        lost = grams.pop(unit.drop, 0)
        if unit.drop != "refrigerant":  # vented refrigerant leaves no output at all
            sink = "glass_other" if unit.drop.startswith("crt_") else "other"
            grams[sink] = grams.get(sink, 0) + lost
    return [{"fraction": f, "weight_kg": kg(g)} for f, g in grams.items()]


def device_steps(plan: Plan, rng: random.Random, figures: Figures) -> Iterator[Step]:
    """Each planned device's scans in order, as far as the plan takes it: collected (and a
    brand typo corrected), shipped, received (re-weighed, stored), dismantled."""
    for unit in plan.units:
        plant = figures.short(unit.plant)
        intake = f"{plant}.intake"
        collector_op = intake if unit.collector is None else f"{figures.short(unit.collector)}.op"
        yield from _collection(unit, rng, figures, collector_op)
        if unit.shipped_day is not None and unit.collector and unit.refused_by is not None:
            yield from _refused_shipment(unit, plan.days, rng, figures, collector_op)
        elif unit.shipped_day is not None and unit.collector:
            yield _shipment(unit, plan.days, rng, figures, collector_op)
        if unit.received_day is None or unit.received_at is None:
            continue
        arriving = unit.weight_g - unit.stripped_g  # what reaches the plant's weighbridge
        resolution = 1 if arriving < 2000 else 10 if arriving < 30000 else 50
        weighed = max(resolution, round(arriving / resolution) * resolution)
        intake_steps = list(_intake(unit, rng, figures, intake, weighed))
        yield from intake_steps
        if unit.dismantled_day is None or unit.dismantled_at is None:
            continue
        yield _dismantling(unit, plan.days, rng, figures, plant, weighed)
        if unit.late_fix_g and plan.after_close is not None:
            received_id = intake_steps[0].item["id"]
            yield _late_fix(unit, len(plan.days), plan.after_close, rng, intake, received_id,
                            weighed)  # fmt: skip


def _collection(
    unit: Unit, rng: random.Random, figures: Figures, collector_op: str
) -> Iterator[Step]:
    """The device collected (weighed on the collection point's scale or not), and its
    mistyped brand corrected."""
    typos = figures.typos
    collected_id = new_id(rng)
    item: dict[str, Any] = {
        "id": collected_id,
        "type": "collected",
        "category": unit.category,
        "attributes": unit.attributes,
        "occurred_at": stamp(unit.collected_at),
    }
    if unit.collector and (unit.weighed_at_collection or rng.random() < 0.6):
        # estimated on the collection point's scale
        item["weight_kg"] = kg(max(100, round(unit.weight_g / 500) * 500))
    if unit.brand:
        item["brand"] = typos[unit.brand] if unit.brand_typo else unit.brand
    for name in ("serial", "source"):
        if getattr(unit, name):
            item[name] = getattr(unit, name)
    yield Step(unit.collected_day, collector_op, unit.collected_at, item, unit.index)
    head = unit.collected_at
    if unit.brand_typo:
        head += dt.timedelta(minutes=rng.uniform(5, 60))
        yield Step(
            unit.collected_day,
            collector_op,
            head,
            {
                "id": new_id(rng),
                "type": "corrected",
                "corrects": collected_id,
                "reason": f"品牌录入错误：{typos[unit.brand or '']} 应为 {unit.brand}",
                "fields": {"brand": unit.brand},
                "occurred_at": stamp(head),
            },
            unit.index,
        )


def _shipment(
    unit: Unit,
    days: list[dt.date],
    rng: random.Random,
    figures: Figures,
    collector_op: str,
    *,
    day_index: int | None = None,
    to: str | None = None,
) -> Step:
    """The collector's shipment of the device to its plant (or to ``to`` on ``day_index``)."""
    shipped = unit.shipped_day if day_index is None else day_index
    assert shipped is not None and unit.collector
    day = days[shipped]
    head = at(day, 900 + unit.index % 200 * 0.2)
    region = figures.org(unit.collector).region
    return Step(
        shipped,
        collector_op,
        head,
        {
            "id": new_id(rng),
            "type": "shipped",
            "to": to or unit.plant,
            "manifest_no": f"YS-{region}-{day:%Y%m%d}",
            "occurred_at": stamp(head),
        },
        unit.index,
    )


def _refused_shipment(
    unit: Unit, days: list[dt.date], rng: random.Random, figures: Figures, collector_op: str
) -> Iterator[Step]:
    """Shipped to the plant that refuses it on arrival, then shipped to ``unit.plant``."""
    assert unit.refused_by and unit.refused_day is not None and unit.reship_day is not None
    assert figures.planted is not None
    yield _shipment(unit, days, rng, figures, collector_op, to=unit.refused_by)
    when = at(days[unit.refused_day], 600 + unit.index % 60)
    yield Step(
        unit.refused_day,
        f"{figures.short(unit.refused_by)}.intake",
        when,
        {
            "id": new_id(rng),
            "type": "refused",
            "reason": figures.planted.refusals.reason,
            "occurred_at": stamp(when),
        },
        unit.index,
    )
    yield _shipment(unit, days, rng, figures, collector_op, day_index=unit.reship_day)


def _intake(
    unit: Unit, rng: random.Random, figures: Figures, intake: str, weighed: int
) -> Iterator[Step]:
    """The plant's receipt on its weighbridge (re-weighed and corrected, for some), and the
    storage area, for some."""
    assert unit.received_day is not None and unit.received_at is not None
    received_id = new_id(rng)
    head = unit.received_at
    yield Step(
        unit.received_day,
        intake,
        head,
        {
            "id": received_id,
            "type": "received",
            "weight_kg": kg(weighed + unit.reweigh_g),
            "occurred_at": stamp(head),
        },
        unit.index,
    )
    if unit.reweigh_g:
        head += dt.timedelta(minutes=rng.uniform(10, 50))
        yield Step(
            unit.received_day,
            intake,
            head,
            {
                "id": new_id(rng),
                "type": "corrected",
                "corrects": received_id,
                "reason": "地磅复核：首次称重未扣除托盘重量",
                "fields": {"weight_kg": kg(weighed)},
                "occurred_at": stamp(head),
            },
            unit.index,
        )
    line = figures.categories[unit.category].line
    if rng.random() < 0.4:
        head += dt.timedelta(minutes=rng.uniform(5, 45))
        area = f"{figures.areas[line]}-{rng.randint(1, 12):02d}排"
        yield Step(
            unit.received_day,
            intake,
            head,
            {"id": new_id(rng), "type": "stored", "area": area, "occurred_at": stamp(head)},
            unit.index,
        )


def _dismantling(
    unit: Unit, days: list[dt.date], rng: random.Random, figures: Figures, plant: str, weighed: int
) -> Step:
    """The dismantling on the category's line (synced late, for some), with its outputs."""
    assert unit.dismantled_day is not None and unit.dismantled_at is not None
    line = figures.categories[unit.category].line
    day = days[unit.dismantled_day]
    return Step(
        unit.late_sync_day or unit.dismantled_day,
        f"{plant}.{unit.operator or f'line{line[1]}'}",
        unit.dismantled_at,
        {
            "id": new_id(rng),
            "type": "dismantled",
            "line": line,
            "batch": f"{day:%Y-%m-%d}-{line}",
            "outputs": _outputs(unit, rng, weighed, figures),
            "occurred_at": stamp(unit.dismantled_at),
        },
        unit.index,
    )


def _late_fix(
    unit: Unit,
    day: int,
    date: dt.date,
    rng: random.Random,
    intake: str,
    received_id: str,
    weighed: int,
) -> Step:
    """The intake re-weighed after the quarter closed (``day``: past its last working day)."""
    when = at(date, 600)
    return Step(
        day,
        intake,
        when,
        {
            "id": new_id(rng),
            "type": "corrected",
            "corrects": received_id,
            "reason": "季度结账后地磅复核：入厂重量少记",
            "fields": {"weight_kg": kg(weighed + unit.late_fix_g)},
            "occurred_at": stamp(when),
        },
        unit.index,
    )
