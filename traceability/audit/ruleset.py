"""The audit rules as data (``rules.toml``): ids, severities, texts and thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from traceability.audit.datafiles import load_toml

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
    capacity_margin: float = Field(ge=0, le=10)
    outlier_min_diff: float = Field(ge=0, le=1)
    outlier_min_devices: int = Field(ge=1)
    fast_dismantling_load_max: float = Field(gt=0)
    fast_dismantling_window_min: int = Field(gt=0, le=24 * 60)
    fast_dismantling_min_devices: int = Field(ge=2)
    lot_weight_tolerance: float = Field(default=0.02, ge=0, le=1)
    weight_drop_share_max: float = Field(gt=0, lt=1)
    weight_drop_min_kg: float = Field(ge=0)
    refusals_min: int = Field(ge=2)
    upcoding_share_ratio: float = Field(gt=1)
    upcoding_min_excess: float = Field(ge=0, le=1)
    upcoding_min_devices: int = Field(ge=1)
    upcoding_min_peers: int = Field(ge=1)
    hazardous_storage_days: int = Field(ge=0)
    share_band_min_devices: int = Field(ge=1)
    stocktake_tolerance: float = Field(ge=0, le=1)
    stocktake_min_kg: float = Field(ge=0)


class SamplingSizes(_Frozen):
    days: int = Field(ge=1, le=366)
    devices: int = Field(ge=1, le=10_000)
    #: The stretch of a line's video a reviewer watches for a sampled device:
    #: from so many minutes before its dismantling was recorded to so many after.
    video_before_min: int = Field(default=30, ge=0, le=24 * 60)
    video_after_min: int = Field(default=5, ge=0, le=24 * 60)


class RuleSpec(_Frozen):
    id: str
    severity: Severity
    #: Where the rule and its thresholds come from: a regulation, or "practice default …".
    source: str = Field(min_length=1)
    zh: str
    en: str
    explain_zh: str
    explain_en: str
    detail_zh: str
    detail_en: str

    def title(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class TierBound(_Frozen):
    """A subsidy-tier bound the upcoding rule watches: values recorded in ``[low, high)``
    sit just on the paying side of it (e.g. CRT sets at 25″: the higher TV rate)."""

    category: str
    attribute: str
    when: dict[str, str | int | float | bool] = Field(default_factory=dict)
    low: Decimal
    high: Decimal
    text: str = Field(min_length=1)  # the bound as people write it (≥ 25″)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> TierBound:
        if self.low >= self.high:
            raise ValueError(f"{self.category}.{self.attribute}: low is below high")
        return self

    def applies(self, category: str | None, attributes: Mapping[str, Any]) -> bool:
        return category == self.category and all(
            attributes.get(k) == v for k, v in self.when.items()
        )

    def value(self, attributes: Mapping[str, Any]) -> Decimal | None:
        raw = attributes.get(self.attribute)
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
            return None
        try:
            return Decimal(str(raw))
        except ArithmeticError:
            return None

    def holds(self, attributes: Mapping[str, Any]) -> bool:
        value = self.value(attributes)
        return value is not None and self.low <= value < self.high


class RuleSet(_Frozen):
    version: str
    source: str
    thresholds: Thresholds
    sampling: SamplingSizes
    rules: tuple[RuleSpec, ...]
    tier_bounds: tuple[TierBound, ...] = ()

    def rule(self, rule_id: str) -> RuleSpec:
        return next(r for r in self.rules if r.id == rule_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.rules)


@cache
def load_ruleset(path: Path = DEFAULT_RULES) -> RuleSet:
    """The rule set of ``path``; a file that is not one fails naming the file and the key."""
    return load_toml(path, RuleSet)
