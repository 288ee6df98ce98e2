"""The regulator's 审核核定 table: per claim line, what was claimed, approved and deducted, and
why (reason codes), once the claim was reviewed (SPEC §2.6 "Exports", issue 18 item 5).

Built from the claim's devices and their replayed review outcomes, both for the
export and for ``claims verify`` (which renders it from the file's verified data
and names the cell that differs).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.catalog.models import Catalog
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem
from traceability.claims.outcomes import Outcomes
from traceability.claims.reasons import load_review_reasons

REVIEW_SHEET = "审核核定"
REVIEW_HEADERS = (
    "序号 No.",
    "类别 Category",
    "补贴档次 Tier",
    "申报数量(台) Claimed units",
    "申报金额(元) Claimed (yuan)",
    "核定数量(台) Approved units",
    "核定金额(元) Approved (yuan)",
    "核减数量(台) Deducted units",
    "核减金额(元) Deducted (yuan)",
    "核减原因代码 Reason codes",
    "待审(台) Not yet reviewed",
)
_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]
_CODED = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]{0,31})[:：]\s*(.*)$", re.S)


def reason_of(reason: str | None) -> tuple[str, str]:
    """(code, text) of a review reason as the review records hold it — the one place that
    reads them: ``code: text`` gives its code; free text (older reviews) has none."""
    if not reason:
        return "", ""
    coded = load_review_reasons().reasons.get(reason)
    if coded is not None:  # a code, as reviews record them since the codes (claims.reasons)
        return reason, coded.zh
    found = _CODED.match(reason)
    return (found.group(1), found.group(2)) if found else ("", reason)


def review_rows(
    lines: Sequence[dict[str, Any]],
    devices: Iterable[Sequence[Any]],
    outcomes: Outcomes,
    *,
    yuan: bool = True,
) -> list[tuple[Any, ...]]:
    """The table's rows: a line each, then the total. ``devices``: (qr_id, category, tier,
    schedule, rate) of every claimed device; ``lines``: the claim's lines with their names
    (``category_zh``, ``tier_zh`` when known)."""
    keys = [(x["category"], x["tier"], x["schedule"], int(x["rate"])) for x in lines]
    tally: dict[tuple[Any, ...], Counter[str]] = {key: Counter() for key in keys}
    reasons: dict[tuple[Any, ...], Counter[str]] = {key: Counter() for key in keys}
    for qr_id, category, tier, schedule, rate in devices:
        key = (category, tier, schedule, int(rate))
        review, reason = outcomes.of(qr_id, tier)
        counts = tally.setdefault(key, Counter())
        counts["claimed"] += 1
        if review in ("approved", "rejected"):
            counts[review] += 1
        if review == "rejected":
            code = reason_of(reason)[0] or "未编码 uncoded"
            reasons.setdefault(key, Counter())[code] += 1
    out = [
        _row(n, line, key[3], tally[key], reasons[key], yuan)
        for n, (line, key) in enumerate(zip(lines, keys, strict=True), start=1)
    ]
    every = sum((reasons[k] for k in keys), Counter())
    sums = [sum(r[c] or 0 for r in out) for c in range(3, 9)]
    total = (None, "合计 Total", "", *(v if yuan or c % 2 == 1 else None
             for c, v in enumerate(sums, start=3)))  # fmt: skip
    out.append((*total, _codes(every), sum(r[10] for r in out)))
    return out


def claim_devices(session: Session, claim: Claim) -> list[tuple[Any, ...]]:
    """(qr_id, category, tier, schedule, rate) of every device the claim counts."""
    query = select(_ITEM.c.qr_id, _ITEM.c.category, _ITEM.c.tier, _ITEM.c.schedule,
                   _ITEM.c.rate_yuan).where(_ITEM.c.claim_id == claim.id)  # fmt: skip
    return [tuple(r) for r in session.execute(query)]


def claim_exclusions(session: Session, claim: Claim) -> list[tuple[str | None, str]]:
    """(category, first reason code) of every device the claim excludes."""
    query = select(_EXCLUSION.c.category, _EXCLUSION.c.reasons).where(
        _EXCLUSION.c.claim_id == claim.id
    )
    return [(c, str(r[0][0]) if r else "?") for c, r in session.execute(query)]


def with_names(catalog: Catalog, lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines with the names of their category and tier (``category_zh``, ``tier_zh``)."""
    out = []
    for line in lines:
        schedule = catalog.rate_schedules.get(line["schedule"])
        tiers = schedule.tiers if schedule is not None else []
        category = catalog.categories.get(line["category"])
        tier = next((t.zh for t in tiers if t.id == line["tier"]), "")
        out.append({**line, "category_zh": category.zh if category else "", "tier_zh": tier})
    return out


def _codes(reasons: Counter[str]) -> str:
    return "; ".join(f"{c}×{n}" for c, n in sorted(reasons.items()))


def _row(
    number: int,
    line: dict[str, Any],
    rate: int,
    counts: Counter[str],
    reasons: Counter[str],
    yuan: bool,
) -> tuple[Any, ...]:
    claimed, approved, deducted = counts["claimed"], counts["approved"], counts["rejected"]
    named = f"{line.get('category_zh', '')} {line['category']}".strip()
    tier = f"{line.get('tier_zh', '')} [{line['tier']}]"
    return (
        number, named, tier, claimed, claimed * rate if yuan else None, approved,
        approved * rate if yuan else None, deducted, deducted * rate if yuan else None,
        _codes(reasons), claimed - approved - deducted,
    )  # fmt: skip


CATEGORY_SHEET = "分类汇总"
CATEGORY_HEADERS = (
    "类别 Category",
    "拆解总数(台) Dismantled",
    "申报(台) Claimed",
    "未申报(台) Excluded",
    "未申报原因 Excluded by reason",
)


def category_rows(
    catalog: Catalog, claimed: Iterable[str], excluded: Iterable[tuple[str | None, str]]
) -> list[tuple[Any, ...]]:
    """Every unit the claim's plant dismantled in the period, per category: claimed and
    excluded by reason (``claimed``: each claimed device's category; ``excluded``: each
    excluded device's category and first reason), in catalogue order, then the total."""
    counts: dict[str, Counter[str]] = {}
    for category in claimed:
        counts.setdefault(category, Counter())["claimed"] += 1
    reasons: dict[str, Counter[str]] = {}
    for kind, reason in excluded:
        key = kind or ""
        counts.setdefault(key, Counter())["excluded"] += 1
        reasons.setdefault(key, Counter())[reason] += 1
    order = {code: n for n, code in enumerate(catalog.categories)}
    out: list[tuple[Any, ...]] = []
    for key in sorted(counts, key=lambda c: (order.get(c, len(order)), c)):
        named = catalog.categories.get(key)
        got = counts[key]
        out.append((f"{named.zh} {key}" if named else key or "?",
                    got["claimed"] + got["excluded"], got["claimed"], got["excluded"],
                    _codes(reasons.get(key, Counter()))))  # fmt: skip
    every = sum(reasons.values(), Counter())
    total = [sum(int(r[c]) for r in out) for c in (1, 2, 3)]
    out.append(("合计 Total", *total, _codes(every)))
    return out
