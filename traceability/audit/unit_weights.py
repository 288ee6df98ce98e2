"""The least a whole unit of a category weighs (``unit_weights.toml``, practice defaults).

One function, ``minimum_unit_weight``, is what the audit reads: when the
catalogue carries per-category unit weights (issue 17, part A), it is the one
place to point at them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from traceability.audit.datafiles import load_toml

UNIT_WEIGHTS = Path(__file__).with_name("unit_weights.toml")


class UnitWeights(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str = Field(min_length=1)
    minimum_kg: dict[str, Decimal]


@cache
def unit_weights() -> UnitWeights:
    return load_toml(UNIT_WEIGHTS, UnitWeights)


def minimum_unit_weight(category: str) -> int | None:
    """The least a whole unit of ``category`` weighs, in grams (None: no minimum known)."""
    kg = unit_weights().minimum_kg.get(category)
    return int(kg * 1000) if kg is not None else None


def minimum_unit_weight_source() -> str:
    return unit_weights().source
