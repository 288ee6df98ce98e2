"""Treated mass and environmental savings: mass in tonnes × factor, exactly."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from traceability.catalog.models import FactorSet
from traceability.catalog.services import grams_to_kg
from traceability.devices.models import Device
from traceability.errors import NotFound
from traceability.savings.models import Batch

GRAMS_PER_TONNE = Decimal(1_000_000)
SAVINGS = ("co2_t", "so2_t", "standard_coal_t", "wastewater_t", "solid_waste_t")


@dataclass(frozen=True)
class Savings:
    mass_g: int
    factor_set: FactorSet

    @property
    def mass_t(self) -> Decimal:
        return Decimal(self.mass_g) / GRAMS_PER_TONNE

    def figures(self) -> dict[str, Decimal]:
        return {name: self.mass_t * getattr(self.factor_set, name) for name in SAVINGS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "mass_t": self.mass_t,
            **self.figures(),
            "factor_set": {"id": self.factor_set.id, "source": self.factor_set.source},
        }


def get_batch(session: Session, org: str, code: str) -> Batch:
    batch = session.exec(select(Batch).where(Batch.org == org, Batch.code == code)).first()
    if batch is None:
        raise NotFound(f"{org} has no batch {code}", field="code")
    return batch


def batch_report(session: Session, batch: Batch, factor_set: FactorSet) -> dict[str, Any]:
    """The batch's devices, treated mass (sum of intake weights) and savings."""
    devices = session.exec(
        select(Device).where(Device.batch_id == batch.id).order_by(col(Device.dismantled_at))
    ).all()
    mass_g = sum(d.received_weight_g or 0 for d in devices)
    return {
        "org": batch.org,
        "code": batch.code,
        "device_count": len(devices),
        "mass_kg": grams_to_kg(mass_g),
        "savings": Savings(mass_g, factor_set).to_dict(),
        "devices": [
            {
                "qr_id": d.qr_id,
                "category": d.category,
                "weight_kg": grams_to_kg(d.received_weight_g),
                "dismantled_at": d.dismantled_at,
            }
            for d in devices
        ],
    }


def treated_mass_g(session: Session, org: str) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(Device.received_weight_g), 0)).where(
            Device.dismantled_by == org
        )
    ).one()
    return int(total or 0)
