"""What the audit endpoints return (one declaration per message)."""

from __future__ import annotations

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
