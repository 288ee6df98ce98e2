"""What the head of every export says about a claim: plant, period, state, anchor, schedules.

Its figures are the claim's replay (``claims.replay``), never the stored row: a
row that disagrees is reported as a projection mismatch (SPEC §3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.accounts.models import Organisation
from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.discipline import changed_after_submission
from traceability.claims.events import CLAIM_SUBMITTED, ClaimEvent
from traceability.claims.exports.machine import FILE_FORMAT, made_by
from traceability.claims.exports.reviewtable import claim_devices, review_rows
from traceability.claims.models import Claim
from traceability.claims.replay import ClaimReplay, claim_status, replay_claim
from traceability.claims.stock import stock_of
from traceability.periods import beijing_text, parse_period
from traceability.verification.bundle import claim_bundle

STATE_TEXT = {
    "draft": "草稿 draft (not submitted)",
    "submitted": "已提交 submitted",
    "approved": "已核准 approved",
    "partially_approved": "部分核准 partially approved",
    "rejected": "已驳回 rejected",
}


MODE_TEXT = {
    "yuan": "按金额申报 yuan: per-unit rates of the schedules named",
    "quantity": "数量核定（不计金额）quantity certification: units by category and tier, no yuan",
}
CONDITION_TEXT = {
    "licence": "处理资格证书在申报期内有效 licence valid through the period",
    "no_open_high_findings": "无未结高风险审计发现 no open high-severity audit findings",
}
MET_TEXT = {True: "满足 met", False: "不满足 not met", None: "未知 unknown"}


@dataclass(frozen=True)
class Summary:
    claim: Claim
    #: The figures every export prints: replayed from the claim's anchored events.
    replay: ClaimReplay
    plant_name: str
    licence: str | None
    period_text: str
    state_text: str
    anchor_text: str
    schedule_texts: list[str]
    excluded_by_reason: list[tuple[str, int]]
    mode_text: str = ""
    supplement_text: str = ""
    condition_texts: tuple[str, ...] = ()
    policy_text: str = ""
    #: (flag, claimed devices carrying it), most first.
    flagged: tuple[tuple[str, int], ...] = ()
    #: Devices with records after the submission → what was recorded.
    changed: dict[str, str] = field(default_factory=dict)
    #: What the file carries for ``claims verify`` (``exports.machine.FILE_FORMAT``).
    proof: dict[str, Any] = field(default_factory=dict)
    #: The regulator's 审核核定 table once reviewed (``reviewtable.review_rows``), else empty.
    review_table: list[tuple[Any, ...]] = field(default_factory=list)
    #: Stock per category and outputs per fraction (``claims.stock``): as anchored by the
    #: submission, or, for a draft (or a claim submitted before they were), as of now.
    stock: dict[str, Any] = field(default_factory=dict)


def summarise(
    session: Session,
    catalog: Catalog,
    claim: Claim,
    events: list[ClaimEvent],
    ledger: TrustedLedger | None = None,
) -> Summary:
    replay = replay_claim(session, catalog, claim, events)
    org = session.execute(
        select(Organisation).where(col(Organisation.code) == claim.org)
    ).scalar_one()
    period = parse_period(claim.period, months=False)
    period_text = f"{period.start.date()} – {(period.end - dt.timedelta(days=1)).date()}"
    counts = replay.excluded_by_reason
    changed = changed_after_submission(session, claim)
    flagged = dict(replay.flagged_by_flag)
    if changed:
        flagged["evidence_changed_after_submission"] = len(changed)
    return Summary(
        claim=claim,
        replay=replay,
        plant_name=plant_text(org.name, claim.org),
        licence=licence_text(claim.conditions, org.license_no),
        period_text=period_text,
        state_text=STATE_TEXT.get(replay.state, replay.state),
        anchor_text=anchor_text(events, replay),
        schedule_texts=[
            f"{s['id']} sha256:{s['sha256'][:16]}…" + (f" [{s['label']}]" if s.get("label") else "")
            for s in replay.schedules
        ],
        excluded_by_reason=sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
        mode_text=MODE_TEXT.get(claim.mode, claim.mode),
        supplement_text=supplement_text(claim, replay.units),
        condition_texts=condition_texts(claim),
        policy_text=policy_text(claim),
        flagged=tuple(sorted(flagged.items(), key=lambda kv: (-kv[1], kv[0]))),
        changed=changed,
        proof=file_proof(session, claim, ledger or TrustedLedger.off()),
        stock=stock_figures(session, claim, events),
        review_table=(
            review_rows(
                replay.lines,
                claim_devices(session, claim),
                replay.outcomes,
                yuan=claim.mode != "quantity",
            )
            if replay.outcomes
            else []
        ),
    )


def stock_figures(session: Session, claim: Claim, events: list[ClaimEvent]) -> dict[str, Any]:
    """The stock and outputs the submission anchored, else counted now."""
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    anchored = (submitted.payload.get("stock") if submitted else None) or None
    if isinstance(anchored, dict):
        return anchored
    return stock_of(session, claim.org, parse_period(claim.period, months=False))


def file_proof(session: Session, claim: Claim, ledger: TrustedLedger) -> dict[str, Any]:
    """What an export carries so that it is checked with the chain alone: the claim's
    lines (the digest covers them) and its own events with their Merkle proofs."""
    return {
        "format": FILE_FORMAT,
        "made_by": made_by(),
        "claim": claim.code,
        "mode": claim.mode,
        "lines": [
            {k: line[k] for k in ("category", "tier", "schedule", "rate", "units", "amount")}
            for line in claim.lines
        ],
        "bundle": claim_bundle(session, ledger, claim.code),
    }


def plant_text(name: str, org: str) -> str:
    return f"{name} ({org})"


def licence_text(conditions: dict[str, Any] | None, licence_no: str | None) -> str:
    """The dismantling licence as the claim states it: number, USCC, validity."""
    held = (conditions or {}).get("licence")
    if isinstance(held, dict) and held.get("number"):
        text = str(held["number"])
        if held.get("uscc"):
            text += f"  统一社会信用代码 {held['uscc']}"
        if held.get("valid_from") and held.get("valid_to"):
            text += f"  有效期 {held['valid_from']} – {held['valid_to']}"
        return text
    return licence_no or ""


def supplement_text(claim: Claim, units: int) -> str:
    """What a supplement (补报) says it adds; empty for the quarter's claim."""
    if not claim.supplements:
        return ""
    earlier = ", ".join(claim.supplements)
    return f"补报 supplement to {earlier}: 新增 adds {units:,} 台 devices no earlier claim holds"


def condition_texts(claim: Claim) -> tuple[str, ...]:
    """The enterprise conditions as stated: ``label: met — detail`` each."""
    out = []
    for name, condition in (claim.conditions or {}).items():
        if isinstance(condition, dict):
            label = CONDITION_TEXT.get(name, name)
            met = MET_TEXT.get(condition.get("met"), "?")
            out.append(f"{label}: {met} — {condition.get('detail', '')}")
    return tuple(out)


def policy_text(claim: Claim) -> str:
    policy = claim.policy or {}
    if not policy:
        return ""
    return f"{policy.get('version')} sha256:{str(policy.get('sha256', ''))[:16]}…"


def anchor_text(events: list[ClaimEvent], replay: ClaimReplay) -> str:
    """The submission's anchor and the claim's status (``claim_status``: not ``verified``
    when a row disagrees with the replay)."""
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    status = claim_status(events, replay)
    if submitted is None:
        return "未提交，未锚定 not submitted: not anchored"
    when = beijing_text(submitted.occurred_at)
    anchor = submitted.anchor
    if anchor is None or anchor.tx_hash is None:
        return f"提交于 submitted {when}; 待锚定 anchoring pending ({status})"
    return (
        f"提交于 submitted {when}; 区块 block {anchor.block_number}, 交易 tx {anchor.tx_hash} "
        f"({status})"
    )


def check_text(replay: ClaimReplay, listed: int = 5) -> str:
    """One line for the head of an export: the rows agree with the events, or where not."""
    if replay.ok:
        return "记录与锚定事件一致 the records match the anchored events"
    named = "; ".join(
        f"{m.field}{' ' + m.device if m.device else ''}: {m.stored!r} → {m.replayed!r}"
        for m in replay.mismatches[:listed]
    )
    more = len(replay.mismatches) - listed
    return (
        f"记录与锚定事件不符 projection_mismatch ({len(replay.mismatches)}): 数据库 database → "
        f"事件 events: {named}{f'; … +{more}' if more > 0 else ''}. "
        "本表按锚定事件列示 figures here are the replayed ones"
    )
