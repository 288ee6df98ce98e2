"""What the head of every export says about a claim: plant, period, state, anchor, schedules.

Its figures are the claim's replay (``claims.replay``), never the stored row: a
row that disagrees is reported as a projection mismatch (SPEC §3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from traceability.accounts.models import Organisation
from traceability.catalog.models import Catalog
from traceability.claims.events import CLAIM_SUBMITTED, ClaimEvent
from traceability.claims.models import Claim
from traceability.claims.replay import ClaimReplay, claim_status, replay_claim
from traceability.periods import beijing_text, parse_period

STATE_TEXT = {
    "draft": "草稿 draft (not submitted)",
    "submitted": "已提交 submitted",
    "approved": "已核准 approved",
    "partially_approved": "部分核准 partially approved",
    "rejected": "已驳回 rejected",
}


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


def summarise(
    session: Session, catalog: Catalog, claim: Claim, events: list[ClaimEvent]
) -> Summary:
    replay = replay_claim(session, catalog, claim, events)
    org = session.execute(
        select(Organisation).where(col(Organisation.code) == claim.org)
    ).scalar_one()
    period = parse_period(claim.period, months=False)
    period_text = f"{period.start.date()} – {(period.end - dt.timedelta(days=1)).date()}"
    counts = replay.excluded_by_reason
    return Summary(
        claim=claim,
        replay=replay,
        plant_name=org.name,
        licence=org.license_no,
        period_text=period_text,
        state_text=STATE_TEXT.get(replay.state, replay.state),
        anchor_text=anchor_text(events, replay),
        schedule_texts=[
            f"{s['id']} sha256:{s['sha256'][:16]}…" + (f" [{s['label']}]" if s.get("label") else "")
            for s in replay.schedules
        ],
        excluded_by_reason=sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
    )


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
