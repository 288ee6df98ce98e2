"""What the audit endpoints return (one declaration per message)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from traceability.audit.ruleset import Severity
from traceability.reports.schemas import Timestamp


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleInfo(_Out):
    """One audit rule, in both languages."""

    id: str
    severity: Severity
    title_zh: str
    title_en: str
    explanation_zh: str
    explanation_en: str


class AnomalyPublic(_Out):
    """One finding: the rule, whose records, what they say, and whether they verify."""

    rule: str
    severity: Severity
    org: str
    at: Timestamp
    subject: str
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str
    events: list[str] = Field(description="ids of the events behind it")
    devices: list[str] = Field(description="devices behind it (QR IDs)")
    verified: bool = Field(description="every record behind it verifies against the ledger")
    dismantled_in: str | None = Field(
        description="the quarter the device behind it was dismantled in: the finding is that "
        "quarter's too, whenever what triggered it happened (null: no dismantled device)"
    )
    claims: list[str] = Field(description="the claims holding its devices (codes)")


class RegisterMismatch(_Out):
    """An organisation whose register row disagrees with its anchored events (SPEC §2.8).

    Scope and figures follow the events; this names the row that does not.
    """

    code: str
    status: Literal["projection_mismatch"]
    fields: list[str] = Field(
        description="the facts on which the row differs (kind, name, region, license_no, "
        "capacity_units), or unregistered (no event) / missing (no row)"
    )
    row: dict[str, str | int | None] = Field(description="the row's values of those facts")
    events: dict[str, str | int | None] = Field(description="what the register's events say")


class AnomalyList(_Out):
    """One page of findings, worst first, and the rules they come from."""

    period: str | None
    since: Timestamp | None
    as_of: Timestamp
    computed_at: Timestamp = Field(
        description="when the log was read for these findings (they are computed off the "
        "request path and refreshed as the log changes)"
    )
    total: int
    page: int
    per_page: int
    items: list[AnomalyPublic]
    rules: list[RuleInfo]
    ruleset: str
    projection_mismatches: list[RegisterMismatch] = Field(
        default_factory=list,
        description="organisations the caller may read whose register row disagrees with "
        "the register's events",
    )
