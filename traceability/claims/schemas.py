"""The claim messages of the API (one declaration each; the OpenAPI document is built from them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from traceability import limits
from traceability.claims.models import ClaimState
from traceability.reports.schemas import AnchorInfo, Category, OrgCode, Out, QrId, Timestamp, text

ReasonCode = Literal[
    "not_dismantled_here_in_period",
    "not_verified",
    "recorded_late",
    "not_subsidised",
    "outside_catalogue_scope",
    "desktop_without_display",
    "no_rate_schedule",
    "no_eligible_tier",
    "standard_set_separately",
    "below_minimum_weight",
    "irregular_dismantling",
    "batch_not_closed",
    "hazardous_output_unconfirmed",
    "already_claimed",
    "rejected_in_review",
    "corrected_after_dismantling",
    "audit_finding",
]
FlagCode = Literal[
    "corrected_after_dismantling",
    "recorded_late",
    "audit_finding",
    "evidence_changed_after_submission",
]


class ClaimRequest(BaseModel):
    """``period``: the quarter, e.g. ``2026Q3`` (the caller's plant), closed and within the
    claim window; ``supplementary``: a supplement (补报) to the quarter's submitted claim;
    ``mode``: ``yuan`` or ``quantity`` (a certification of units, no yuan; default: yuan
    where a rate schedule covers the quarter, else quantity for 2024–2027)."""

    model_config = ConfigDict(extra="forbid")

    period: str = Field(max_length=6, description="a quarter such as 2026Q3")
    supplementary: bool = False
    mode: Literal["yuan", "quantity"] | None = None


class ScheduleRef(Out):
    id: str
    sha256: str
    source: str
    label: str | None


class ClaimLine(Out):
    category: Category
    category_zh: str
    tier: str
    tier_zh: str
    schedule: str
    rate: int
    units: int
    amount: int


class Reason(Out):
    code: ReasonCode
    detail: str


class ExcludedDevice(Out):
    qr_id: QrId
    category: Category | None
    reasons: list[Reason]


class Flag(Out):
    """A row flag (SPEC §2.6) the policy only marks: the device is claimed, the reviewer
    decides. ``evidence_changed_after_submission`` is read from the log when shown."""

    code: FlagCode
    detail: str


class ClaimedDevicePublic(Out):
    qr_id: QrId
    category: Category
    tier: str
    schedule: str
    #: 0 in a quantity certification (no yuan).
    rate_yuan: int
    dismantled_at: Timestamp
    review: Literal["approved", "rejected", "reinstated"] | None
    review_reason: Annotated[str, text(limits.REASON)] | None
    flags: list[Flag]


class Condition(Out):
    """An enterprise condition as stated when the claim was computed: met (None: unknown)."""

    met: bool | None
    detail: str


class PolicyRef(Out):
    version: str
    sha256: str


class ClaimEventPublic(Out):
    id: str
    type: Literal["claim_submitted", "claim_reviewed"]
    org: OrgCode
    actor: str
    occurred_at: Timestamp
    digest: str
    status: str
    anchor: AnchorInfo | None
    payload: dict[str, object]


class ClaimMismatch(Out):
    """A stored figure the claim's anchored events do not give (SPEC §3): the database's
    value (``stored``) and the replayed one, which is what the claim shows."""

    claim: str
    field: str
    device: QrId | None
    stored: object
    replayed: object
    text: str


class Page(Out):
    page: int
    per_page: int
    devices_total: int
    excluded_total: int


class ClaimPublic(Out):
    id: int
    code: str
    org: OrgCode
    region: str
    period: str
    state: ClaimState
    created_by: str
    created_at: Timestamp
    computed_at: Timestamp
    submitted_by: str | None
    submitted_at: Timestamp | None
    digest: str
    units: int
    total_yuan: int
    approved_yuan: int | None
    #: ``yuan``, or ``quantity``: units by category and tier, no yuan (amounts are 0).
    mode: Literal["yuan", "quantity"]
    #: The earlier claims of the quarter this supplement (补报) adds to; None: the quarter's.
    supplements: list[str] | None
    #: Enterprise conditions: ``licence`` valid through the quarter, ``no_open_high_findings``.
    conditions: dict[str, Condition]
    policy: PolicyRef | None
    schedules: list[ScheduleRef]
    lines: list[ClaimLine]
    excluded_by_reason: dict[str, int]
    #: Claimed devices per flag (the marks the policy keeps; excluding flags are reasons).
    flagged: dict[str, int]
    #: The submission event's anchor (None until submitted and anchored).
    anchor: AnchorInfo | None
    #: ``verified`` when every claim event verifies and every row agrees with their replay;
    #: else ``projection_mismatch`` or the first event's status that is not ``verified``.
    anchor_status: str | None
    #: Where the claim's rows disagree with its events (the figures above are the replay's).
    projection_mismatch: list[ClaimMismatch]
    events: list[ClaimEventPublic]
    page: Page
    devices: list[ClaimedDevicePublic]
    excluded: list[ExcludedDevice]
    exports: dict[str, str]
