"""Environmental savings: treated mass in tonnes × factor, exactly (SPEC §2.5).

Which mass is treated comes from the event log (``traceability.reports``);
this module only turns grams into savings, naming the factor set and its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from traceability.catalog.models import FactorSet

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
            "factor_set": {
                "id": self.factor_set.id,
                "source": self.factor_set.source,
                "sha256": self.factor_set.sha256,
            },
        }
