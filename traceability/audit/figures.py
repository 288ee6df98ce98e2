"""The portal's figures, from the replayed and verified log (``AuditData``).

Per plant and period: devices received, dismantled and in stock, treated
mass and savings, per category; the three flows (devices from collection to
dismantling, outputs into lots, lots to the processors' confirmed receipt)
with their gaps; hazardous lots awaiting receipt; monthly volumes. Each
figure carries how many of the devices behind it do not verify.

A lot's weight is the log's: the outputs of its fraction that the plant's
``dismantled`` events produced after the previous lot of that fraction was
shipped (one open lot per fraction per plant), not the ``lot`` row's total.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from traceability.audit.dataset import AuditData, AuditedDevice
from traceability.catalog.models import FactorSet
from traceability.custody.models import EventType
from traceability.devices.models import DeviceState
from traceability.periods import CHINA
from traceability.savings.services import Savings


@dataclass
class CategoryFigures:
    received: int = 0
    dismantled: int = 0
    in_stock: int = 0
    mass_g: int = 0  # intake weight of the devices dismantled


@dataclass
class LotFlow:
    produced_g: int = 0  # outputs dismantled in the period
    shipped_lots: int = 0
    shipped_g: int = 0
    received_lots: int = 0  # by the processor (manifest returned)
    received_g: int = 0  # as the processor weighed it
    awaiting_lots: int = 0  # shipped in the period, receipt not confirmed
    hazardous_awaiting: list[str] = field(default_factory=list)


@dataclass
class PlantFigures:
    plant: str
    collected_for: int = 0  # collected in the period on the way to this plant (or at it)
    received: int = 0
    dismantled: int = 0
    in_stock: int = 0
    in_transit_to: int = 0
    mass_g: int = 0
    categories: dict[str, CategoryFigures] = field(
        default_factory=lambda: defaultdict(CategoryFigures)
    )
    lots: LotFlow = field(default_factory=LotFlow)
    unverified: int = 0  # devices behind a figure that do not verify (yet)
    failed: int = 0  # ... of which verification failed
    devices: int = 0  # devices behind the figures
    # Corrections of the devices dismantled in a closed period recorded after its close:
    # not in the figures (``custody.closing``), shown beside them.
    late_corrections: int = 0
    late_mass_g: int = 0  # what they would change the treated mass by

    def savings(self, factor_set: FactorSet) -> dict[str, Any]:
        return Savings(self.mass_g, factor_set).to_dict()

    @property
    def verified(self) -> bool:
        return not self.unverified

    @property
    def gaps(self) -> dict[str, int]:
        """Where the flows do not meet: positive numbers are what is unaccounted for so far."""
        return {
            "collected_not_received": max(0, self.collected_for - self.received),
            "received_not_dismantled": max(0, self.received - self.dismantled),
            "outputs_not_shipped_g": max(0, self.lots.produced_g - self.lots.shipped_g),
            "lots_not_confirmed": self.lots.awaiting_lots,
            "shipped_minus_received_g": self.lots.shipped_g - self.lots.received_g
            if self.lots.received_lots
            else 0,
        }


def _first_shipment(record: AuditedDevice) -> str | None:
    for event in record.events:
        if event.type == EventType.shipped:
            return str(event.payload.get("to"))
    return None


def _month(when: dt.datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m")


def plant_figures(data: AuditData, plants: set[str]) -> dict[str, PlantFigures]:
    """Figures of each plant in ``plants`` for the data's period."""
    out = {p: PlantFigures(p) for p in sorted(plants)}
    for record in data.devices.values():
        f = record.facts
        touched: set[str] = set()
        destination = f.collected_by if f.collected_by in out else _first_shipment(record)
        if destination in out and data.in_period(f.collected_at):
            out[destination].collected_for += 1
            touched.add(destination)
        if f.received_by in out and data.in_period(f.received_at):
            fig = out[f.received_by]
            fig.received += 1
            fig.categories[f.category or "?"].received += 1
            touched.add(f.received_by)
        if f.dismantled_by in out and data.in_period(f.dismantled_at):
            fig = out[f.dismantled_by]
            fig.dismantled += 1
            fig.mass_g += f.received_weight_g or 0
            cat = fig.categories[f.category or "?"]
            cat.dismantled += 1
            cat.mass_g += f.received_weight_g or 0
            fig.late_corrections += len(record.late)
            fig.late_mass_g += record.late_weight_g
            touched.add(f.dismantled_by)
        if f.state == DeviceState.received and f.custodian in out:
            out[f.custodian].in_stock += 1
            out[f.custodian].categories[f.category or "?"].in_stock += 1
            touched.add(f.custodian)
        if f.state == DeviceState.in_transit and f.destination in out:
            out[f.destination].in_transit_to += 1
        for plant in touched:
            out[plant].devices += 1
            if not record.verification.verified:
                out[plant].unverified += 1
            if record.verification.status == "failed":
                out[plant].failed += 1
    _lot_flows(data, out)
    return out


def _lot_flows(data: AuditData, out: dict[str, PlantFigures]) -> None:
    """Outputs produced, lots shipped and received, weighed from the log."""
    steps: list[tuple[int, str, Any]] = []
    for record in data.devices.values():
        for event in record.events:
            if event.type == EventType.dismantled and event.org in out:
                steps.append((event.seq, "out", event))
    for lot in data.lots.values():
        for event in lot.events:
            steps.append((event.seq, "lot", (lot, event)))
    steps.sort(key=lambda s: s[0])
    open_g: Counter[tuple[str, str]] = Counter()
    shipped_g: dict[str, int] = {}
    for _, kind, item in steps:
        if kind == "out":
            record = data.devices[item.device]
            outputs = {o.fraction: o.weight_g for o in record.facts.outputs}
            for fraction, grams in outputs.items():
                open_g[item.org, fraction] += grams
                if data.in_period(item.occurred_at):
                    out[item.org].lots.produced_g += grams
        else:
            lot, event = item
            if event.type == EventType.lot_shipped:
                shipped_g[lot.code] = open_g.pop((lot.org, lot.fraction), 0)
    for lot in data.lots.values():
        if lot.org not in out or not data.in_period(lot.shipped_at):
            continue
        flow = out[lot.org].lots
        flow.shipped_lots += 1
        flow.shipped_g += shipped_g.get(lot.code, 0)
        received = next((e for e in lot.events if e.type == EventType.lot_received), None)
        if received is not None:
            flow.received_lots += 1
            flow.received_g += int(received.payload.get("weight_g") or 0)
        else:
            flow.awaiting_lots += 1
            if lot.hazardous:
                flow.hazardous_awaiting.append(lot.code)


Months = dict[str, Counter[str]]


@dataclass
class BatchGroup:
    """A plant's batch: the devices dismantled into it in the period."""

    code: str
    devices: int = 0
    mass_g: int = 0
    unverified: int = 0
    late_corrections: int = 0  # recorded after the close (``custody.closing``)
    late_mass_g: int = 0  # what they would change its mass by


def batch_groups(data: AuditData, plants: set[str]) -> dict[str, list[BatchGroup]]:
    """Per plant, its batches with devices dismantled in the data's period, by code."""
    groups: dict[tuple[str, str], BatchGroup] = {}
    for record in data.devices.values():
        f = record.facts
        if f.dismantled_by in plants and f.batch and data.in_period(f.dismantled_at):
            group = groups.setdefault((f.dismantled_by, f.batch), BatchGroup(f.batch))
            group.devices += 1
            group.mass_g += f.received_weight_g or 0
            group.unverified += 0 if record.verification.verified else 1
            group.late_corrections += len(record.late)
            group.late_mass_g += record.late_weight_g
    out: dict[str, list[BatchGroup]] = {p: [] for p in sorted(plants)}
    for (plant, _code), group in sorted(groups.items()):
        out[plant].append(group)
    return out


def monthly_volumes(data: AuditData, plants: set[str]) -> dict[str, Months]:
    """Per plant, devices dismantled per month and category."""
    out: dict[str, Months] = {p: defaultdict(Counter) for p in plants}
    for record in data.devices.values():
        f = record.facts
        if f.dismantled_by in out and data.in_period(f.dismantled_at):
            out[f.dismantled_by][_month(f.dismantled_at)][f.category or "?"] += 1  # type: ignore[arg-type]
    return {p: dict(sorted(m.items())) for p, m in out.items()}


def merge_months(per_plant: dict[str, Months], plants: set[str]) -> Months:
    merged: Months = defaultdict(Counter)
    for plant in plants:
        for month, counts in per_plant.get(plant, {}).items():
            merged[month].update(counts)
    return dict(sorted(merged.items()))


def tonnes(grams: int) -> Decimal:
    return (Decimal(grams) / 1_000_000).quantize(Decimal("0.001"))


def signed_tonnes(grams: int | Decimal) -> str:
    """A change of mass in tonnes, with its sign (``+0.006``)."""
    return f"{tonnes(grams):+}"  # type: ignore[arg-type]
