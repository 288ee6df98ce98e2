"""The audit rules as data (``rules.toml``): ids, severities, texts and thresholds."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")
DEFAULT_RULES = Path(__file__).with_name("rules.toml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Thresholds(_Frozen):
    mass_balance_loss_max: float = Field(ge=0, le=1)
    mass_balance_excess_max: float = Field(ge=0)
    resource_rate_min: float = Field(ge=0, le=1)
    outlier_z_max: float = Field(gt=0)
    outlier_min_plants: int = Field(ge=2)
    hazardous_receipt_days: int = Field(ge=0)
    leakage_days: int = Field(ge=0)
    backdating_days: int = Field(ge=0)
    working_days_per_year: int = Field(gt=0, le=366)
    fast_dismantling_share: float = Field(gt=0, le=1)
    fast_dismantling_min_devices: int = Field(ge=2)
    lot_weight_tolerance: float = Field(default=0.02, ge=0, le=1)


class SamplingSizes(_Frozen):
    days: int = Field(ge=1, le=366)
    devices: int = Field(ge=1, le=10_000)


class RuleSpec(_Frozen):
    id: str
    severity: Severity
    zh: str
    en: str
    explain_zh: str
    explain_en: str
    detail_zh: str
    detail_en: str

    def title(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class RuleSet(_Frozen):
    version: str
    source: str
    thresholds: Thresholds
    sampling: SamplingSizes
    rules: tuple[RuleSpec, ...]

    def rule(self, rule_id: str) -> RuleSpec:
        return next(r for r in self.rules if r.id == rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)


@cache
def load_ruleset(path: Path = DEFAULT_RULES) -> RuleSet:
    with path.open("rb") as fh:
        return RuleSet.model_validate(tomllib.load(fh))
