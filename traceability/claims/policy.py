"""The claim policy (SPEC §2.6): which row flags exclude, what hazardous outputs need, and
the quantity certification of the 2024–2027 central fund — data a deployment replaces.

``data/policy.toml`` holds the defaults, each with its reason; ``TRACE_CLAIM_POLICY``
names a file that replaces it. It is read once when the app or a command starts
(``claim_policy_of``): a malformed file stops the start naming the file and the key.
Every claim names the policy it applied by its SHA-256, anchored with the submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from traceability.catalog.files import CatalogDataError, read_toml, validated
from traceability.catalog.models import Catalog
from traceability.config import Settings

DEFAULT_POLICY = Path(__file__).parent / "data" / "policy.toml"

#: Row flags, in the order they are shown: code → (中文, English).
FLAGS: dict[str, tuple[str, str]] = {
    "corrected_after_dismantling": (
        "拆解后更正档次或重量字段",
        "tier or mass field corrected after dismantling",
    ),
    "recorded_late": ("记录逾期上链", "recorded late: anchored long after its recorded time"),
    "audit_finding": ("存在审计发现", "has audit findings (any period)"),
    "evidence_changed_after_submission": (
        "提交后证据变更",
        "its records changed after the claim was submitted",
    ),
}
#: Flags a claim computes when it is created (the last one only exists after submission).
CREATION_FLAGS = tuple(f for f in FLAGS if f != "evidence_changed_after_submission")

Effect = Literal["exclude", "mark"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlagRule(_Frozen):
    effect: Effect
    reason: str = Field(min_length=1)


class Flags(_Frozen):
    corrected_after_dismantling: FlagRule
    recorded_late: FlagRule
    audit_finding: FlagRule
    evidence_changed_after_submission: FlagRule

    @model_validator(mode="after")
    def _check(self) -> Flags:
        if self.evidence_changed_after_submission.effect != "mark":
            raise ValueError(
                "evidence_changed_after_submission can only mark: a submitted claim is frozen"
            )
        return self


class Hazardous(_Frozen):
    requires: Literal["receipt", "storage"]
    reason: str = Field(min_length=1)


class Quantity(_Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    fund: str = Field(min_length=1)
    source: str = Field(min_length=1)
    since: dt.date = Field(alias="from")
    until: dt.date
    tiers: str = Field(min_length=1)
    tiers_reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Quantity:
        if self.until < self.since:
            raise ValueError("until must not be before from")
        return self

    def covers(self, first: dt.date, last: dt.date) -> bool:
        return self.since <= first and last <= self.until


class ClaimPolicy(_Frozen):
    version: str = Field(min_length=1)
    source: str = Field(min_length=1)
    flags: Flags
    hazardous: Hazardous
    quantity: Quantity
    #: SHA-256 of the file's bytes (set when loaded): what a claim names.
    sha256: str = ""
    path: str = ""

    def effect(self, flag: str) -> Effect:
        rule: FlagRule = getattr(self.flags, flag)
        return rule.effect

    def ref(self) -> dict[str, str]:
        """What a claim records of the policy it applied."""
        return {"version": self.version, "sha256": self.sha256}


@cache
def load_policy(path: Path = DEFAULT_POLICY) -> ClaimPolicy:
    """The policy in ``path``; a ``CatalogDataError`` names the file and the key at fault."""
    data = read_toml(path)
    policy = validated(ClaimPolicy, data, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return policy.model_copy(update={"sha256": digest, "path": str(path)})


def claim_policy_of(settings: Settings, catalog: Catalog | None = None) -> ClaimPolicy:
    """The deployment's policy (``TRACE_CLAIM_POLICY``, else the defaults); with ``catalog``,
    checked against it (the quantity tiers name one of its schedules)."""
    path = settings.claim_policy.resolve() if settings.claim_policy else DEFAULT_POLICY
    policy = load_policy(path)
    if catalog is not None and policy.quantity.tiers not in catalog.rate_schedules:
        raise CatalogDataError(
            path, "quantity.tiers", f"no rate schedule {policy.quantity.tiers!r} in the catalogue"
        )
    return policy
