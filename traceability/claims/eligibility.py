"""Whether one device may be claimed, and if not why (SPEC §2.6): pure, one reason code each.

Every rule is checked, so an excluded device lists all its reasons (the
first is the one shown in a summary); a device is claimable only with none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from traceability.catalog.conditions import matches
from traceability.catalog.dismantling import dismantling_gaps, gaps_text, unit_weight
from traceability.catalog.models import Catalog, Category
from traceability.catalog.services import grams_to_kg
from traceability.claims.policy import ClaimPolicy, load_policy
from traceability.claims.rates import NotRated, Rated, in_scope, rate_device
from traceability.custody.facts import DeviceFacts, Output
from traceability.periods import Period, beijing_date
from traceability.verification.logs import Verification
from traceability.verification.services import LATE, VERIFIED

#: Reason code → (中文, English), in the order they are checked and listed.
REASONS: dict[str, tuple[str, str]] = {
    "not_dismantled_here_in_period": ("非本厂本期拆解", "not dismantled here in the period"),
    "not_verified": ("记录未通过验证", "records do not verify (pending, tampered, broken)"),
    "recorded_late": ("记录逾期上链", "recorded late: anchored long after its recorded time"),
    "corrected_after_dismantling": (
        "拆解后更正档次或重量字段",
        "tier or mass field corrected after dismantling (the policy excludes it)",
    ),
    "audit_finding": ("存在审计发现", "has audit findings (the policy excludes it)"),
    "not_subsidised": ("非基金补贴类别", "category not subsidised"),
    "outside_catalogue_scope": ("超出目录范围", "outside the catalogue's scope"),
    "desktop_without_display": (
        "台式机主机未含显示器（非补贴单位）",
        "desktop host without its display: not the subsidised unit",
    ),
    "no_rate_schedule": ("无适用补贴标准", "no rate schedule in force"),
    "no_eligible_tier": ("不符合补贴档次", "no eligible tier"),
    "standard_set_separately": ("补贴标准另行制定", "subsidy standard to be set separately"),
    "below_minimum_weight": (
        "整机重量低于类别下限（疑似空壳机）",
        "lighter than a whole unit of its category (a stripped shell?)",
    ),
    "irregular_dismantling": (
        "非规范拆解",
        "irregular dismantling: required fractions missing or below their minimum weight",
    ),
    "batch_not_closed": (
        "处理批次未结束（产物未称重）",
        "in a processing batch never closed: its outputs were never weighed",
    ),
    "hazardous_output_unconfirmed": (
        "危险废物（或受控物质）接收未确认",
        "hazardous (or controlled) output receipt unconfirmed",
    ),
    "already_claimed": ("已申报", "already claimed"),
    "rejected_in_review": ("审核核减", "rejected in a regulator's review"),
}  # fmt: skip


@dataclass(frozen=True)
class HazardState:
    """Where one hazardous output sits: its lot, and whether a processor confirmed receipt."""

    fraction: str
    lot: str | None
    confirmed: bool
    detail: str
    #: Counted in store by a verified stocktake after the dismantling (compliant storage).
    stored: bool = False


@dataclass(frozen=True)
class BatchClosing:
    """The closing of the processing batch a device was dismantled in by scan, with no
    outputs of its own (SPEC §2.4): its outputs weighed per fraction, checked at batch level
    when it closed. ``event`` None: the batch was never closed."""

    batch: str
    event: str | None
    status: str | None  # the closing event's verification status
    outputs: tuple[Output, ...]
    seq: int | None


@dataclass(frozen=True)
class PriorClaim:
    """The claim a device already belongs to, and whether a review rejected it there."""

    claim: str
    rejected: bool


@dataclass(frozen=True)
class Assessment:
    rated: Rated | None
    reasons: tuple[tuple[str, str], ...]  # (code, detail)
    #: (flag, detail) the policy only marks: shown on the claimed device's row.
    flags: tuple[tuple[str, str], ...] = ()

    @property
    def eligible(self) -> bool:
        return self.rated is not None and not self.reasons


_BOUND_TEXT = {"min": "≥", "above": ">", "max": "≤", "below": "<"}


def _scope_text(scope: Mapping[str, Any], attributes: Mapping[str, Any]) -> str:
    """``volume_l = 900; the catalogue covers volume_l ≤ 800`` — for people, not parsers."""
    parts = []
    for name, bounds in scope.items():
        limit = " ".join(f"{_BOUND_TEXT[k]} {v}" for k, v in dict(bounds).items())
        parts.append(f"{name} = {attributes.get(name)}; the catalogue covers {name} {limit}")
    return "; ".join(parts)


def _verification_detail(verification: Verification) -> str:
    bad = [
        f"{event_id}: {status}" for event_id, status in verification.events if status != "verified"
    ]
    parts = [verification.status, *bad[:3]]
    if len(bad) > 3:
        parts.append(f"… {len(bad) - 3} more")
    if verification.problem:
        parts.append(verification.problem)
    return "; ".join(parts)


def assess(
    catalog: Catalog,
    *,
    plant: str,
    region: str,
    period: Period,
    facts: DeviceFacts,
    verification: Verification,
    hazards: Mapping[str, HazardState],
    prior: PriorClaim | None,
    rate: Callable[..., Rated | NotRated] = rate_device,
    policy: ClaimPolicy | None = None,
    findings: tuple[str, ...] = (),
    batch: BatchClosing | None = None,
) -> Assessment:
    """Every reason ``facts`` cannot be claimed by ``plant`` for ``period``; the rate if none.

    ``policy`` decides which row flags exclude and what hazardous outputs need (default:
    the shipped defaults); ``findings``: the rules of the device's audit findings;
    ``batch``: for a device dismantled by scan in a processing batch, the batch's closing
    (its outputs are the batch's, checked at batch level: SPEC §2.4)."""
    policy = policy or load_policy()
    reasons: list[tuple[str, str]] = []
    when: dt.datetime | None = facts.dismantled_at
    if facts.dismantled_by != plant or when is None or not period.contains(when):
        at = beijing_date(when) if when else "never"
        reasons.append(
            (
                "not_dismantled_here_in_period",
                f"the log says dismantled by {facts.dismantled_by or 'nobody'} on {at}",
            )
        )
    flags = row_flags(facts, verification, findings)
    if not verification.verified and verification.status != LATE:
        reasons.append(("not_verified", _verification_detail(verification)))
    reasons += [f for f in flags if policy.effect(f[0]) == "exclude"]
    category = catalog.categories.get(facts.category or "")
    rated = _rated(catalog, category, facts, region, rate, reasons)
    if category is not None and facts.dismantled_at is not None:
        reasons += _whole_unit_reasons(catalog, category, facts, batch)
    reasons += _hazard_and_prior_reasons(hazards, prior, policy.hazardous.requires)
    marks = tuple(f for f in flags if policy.effect(f[0]) == "mark")
    return Assessment(rated if not reasons else None, tuple(reasons), marks)


def row_flags(
    facts: DeviceFacts, verification: Verification, findings: tuple[str, ...]
) -> list[tuple[str, str]]:
    """The device's row flags (SPEC §2.6), each with its detail, in ``policy.FLAGS`` order:
    a tier- or mass-deciding field corrected after dismantling, events recorded late,
    audit findings of any period."""
    flags: list[tuple[str, str]] = []
    if facts.flagged:
        fields = sorted({name for c in facts.flagged for name in c.fields})
        ids = ", ".join(c.id for c in facts.flagged[:3])
        flags.append(("corrected_after_dismantling", f"{', '.join(fields)} corrected ({ids})"))
    if verification.status == LATE:
        late = [i for i, s in verification.events if s == LATE]
        flags.append(("recorded_late", f"anchored late: {', '.join(late)}"))
    if findings:
        flags.append(("audit_finding", ", ".join(sorted(set(findings)))))
    return flags


def _rated(
    catalog: Catalog,
    category: Category | None,
    facts: DeviceFacts,
    region: str,
    rate: Callable[..., Rated | NotRated],
    reasons: list[tuple[str, str]],
) -> Rated | None:
    """The device's rate, if its category is subsidised and in scope and a schedule in force
    on its dismantling day rates it; else the reason why not, added to ``reasons``."""
    when = facts.dismantled_at
    if category is None:
        reasons.append(("not_subsidised", f"unknown category {facts.category!r}"))
    elif not category.subsidised:
        reasons.append(("not_subsidised", f"{category.zh} {category.code} is not fund-subsidised"))
    elif when is not None and not in_scope(
        catalog, category.code, facts.attributes, beijing_date(when)
    ):
        reasons.append(("outside_catalogue_scope", _scope_text(category.scope, facts.attributes)))
    elif excluded := [x for x in category.not_the_unit if matches(x.when, facts.attributes)]:
        detail = f"{_attributes_text(facts.attributes)}: {excluded[0].source}"
        reasons.append((excluded[0].reason, detail))
    elif when is not None:
        outcome = rate(catalog, category.code, facts.attributes, beijing_date(when), region)
        if isinstance(outcome, NotRated):
            reasons.append((outcome.reason, outcome.detail))
        else:
            return outcome
    return None


def _attributes_text(attributes: Mapping[str, Any]) -> str:
    """``form = desktop, with_display = false`` (yes/no as the API writes them)."""
    shown = {k: str(v).lower() if isinstance(v, bool) else v for k, v in attributes.items()}
    return ", ".join(f"{k} = {v}" for k, v in shown.items()) or "no attributes"


def _whole_unit_reasons(
    catalog: Catalog, category: Category, facts: DeviceFacts, batch: BatchClosing | None = None
) -> list[tuple[str, str]]:
    """A unit lighter at intake than a whole one of its kind; a dismantling short of the
    rules (a required fraction missing, a key one below its least weight) — for a device
    dismantled in a batch, the batch's outputs; a batch never closed (or whose closing does
    not verify) weighed none."""
    reasons = []
    least = unit_weight(catalog, category.code, facts.attributes).min_g
    weighed = facts.received_weight_g
    if least is not None and weighed is not None and weighed < least:
        reasons.append(
            (
                "below_minimum_weight",
                f"weighed {grams_to_kg(weighed)} kg at intake; a whole unit weighs at "
                f"least {grams_to_kg(least)} kg ({catalog.bands.label})",
            )
        )
    outputs = facts.outputs
    if batch is not None:
        if batch.event is None:
            reasons.append(("batch_not_closed", f"batch {batch.batch} has no closing"))
            return reasons
        if batch.status not in (VERIFIED, LATE):
            detail = f"the closing {batch.event} of batch {batch.batch} is {batch.status}"
            reasons.append(("not_verified", detail))
            return reasons
        outputs = batch.outputs
    gaps = dismantling_gaps(catalog, category.code, facts.attributes, outputs)
    if gaps:
        reasons.append(("irregular_dismantling", gaps_text(gaps)))
    return reasons


def _hazard_and_prior_reasons(
    hazards: Mapping[str, HazardState], prior: PriorClaim | None, requires: str = "receipt"
) -> list[tuple[str, str]]:
    """A hazardous output whose lot's receipt is not confirmed (under ``requires`` =
    "storage": nor counted in store by a stocktake); a claim that holds it already. Every
    hazardous output alike: reporting one is never worse than hiding it, which is irregular."""
    reasons: list[tuple[str, str]] = []
    unconfirmed = [
        h for h in hazards.values() if not (h.confirmed or (requires == "storage" and h.stored))
    ]
    if unconfirmed:
        reasons.append(
            (
                "hazardous_output_unconfirmed",
                "; ".join(f"{h.fraction} in {h.lot or 'no lot'}: {h.detail}" for h in unconfirmed),
            )
        )
    if prior is not None:
        if prior.rejected:
            reasons.append(("rejected_in_review", f"rejected in claim {prior.claim}"))
        else:
            reasons.append(("already_claimed", f"in claim {prior.claim}"))
    return reasons
