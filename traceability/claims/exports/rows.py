"""The rows every export shows, built once from the claim's records.

The device detail (XLSX sheet 2 and the CSV) has one row per claimed device,
in QR ID order; ``claims verify`` rebuilds these rows from the records and
compares a file with them cell by cell, so both sides come from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.catalog.models import Catalog
from traceability.claims.eligibility import REASONS
from traceability.claims.exports.machine import MACHINE_HEADER, machine_row, machine_text
from traceability.claims.models import Claim, ClaimExclusion, ClaimItem
from traceability.claims.outcomes import Outcomes
from traceability.claims.policy import FLAGS
from traceability.labels.ids import format_id
from traceability.periods import beijing_wall_clock

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]
_EXCLUSION = ClaimExclusion.__table__  # type: ignore[attr-defined]

#: (header, kind): kind says how a value is written — text, int (whole number), kg (3 decimals),
#: datetime (a date-time cell of Beijing wall-clock time, to the second: SPEC §2.9).
DETAIL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("序号 No.", "int"),
    ("申报单号 Claim", "text"),
    ("设备编号 Device ID", "text"),
    ("类别 Category", "text"),
    ("补贴档次 Tier", "text"),
    ("补贴标准 Schedule", "text"),
    ("单价(元) Rate (yuan)", "int"),
    ("显示类型 Display", "text"),
    ("背光 Backlight", "text"),
    ("屏幕尺寸(英寸) Screen (in)", "text"),
    ("容积(升) Volume (L)", "text"),
    ("洗衣机类型 Washer type", "text"),
    ("洗涤容量(kg) Load (kg)", "text"),
    ("形式 Form", "text"),
    ("制冷量(W) Cooling (W)", "text"),
    ("含显示器 With display", "text"),
    ("品牌 Brand", "text"),
    ("型号 Model", "text"),
    ("出厂编号 Serial", "text"),
    ("来源 Source", "text"),
    ("回收企业 Collector", "text"),
    ("入厂时间(北京时间) Received (Beijing)", "datetime"),
    ("拆解时间(北京时间) Dismantled (Beijing)", "datetime"),
    ("入厂重量(kg) Intake (kg)", "kg"),
    ("拆解产物(kg) Outputs (kg)", "text"),
    ("产物合计(kg) Outputs total (kg)", "kg"),
    ("拆解批次 Batch", "text"),
    ("拆解线 Line", "text"),
    ("操作员 Operator", "text"),
    ("事件数 Events", "int"),
    ("链头事件摘要 Chain head digest (SHA-256)", "text"),
    ("锚定根 Anchor root", "text"),
    ("锚定交易 Anchor tx", "text"),
    ("区块 Block", "int"),
    ("审核 Review", "text"),
    ("标记 Flags", "text"),
    ("提交后变更 Changed after submission", "text"),
    (MACHINE_HEADER, "text"),
)
HEADERS = tuple(h for h, _ in DETAIL_COLUMNS)
KINDS = tuple(k for _, k in DETAIL_COLUMNS)
#: Columns a reviewer's decision changes after submission (the file may predate it).
REVIEW_COLUMN = HEADERS.index("审核 Review")
#: Read from the log when exported (records after the submission): a file may predate it.
CHANGED_COLUMN = HEADERS.index("提交后变更 Changed after submission")
LIVE_COLUMNS = frozenset({REVIEW_COLUMN, CHANGED_COLUMN})
QR_COLUMN = HEADERS.index("设备编号 Device ID")
#: The device's facts as canonical JSON (``exports.machine``): what the other cells show.
MACHINE_COLUMN = HEADERS.index(MACHINE_HEADER)

#: The attributes that decide a tier, in the order of their columns (after the rate).
TIER_ATTRIBUTES = (
    "display", "backlight", "screen_in", "volume_l", "type", "dry_load_kg", "form", "cooling_w",
    "with_display",
)  # fmt: skip
SOURCE_TEXT = {
    "household": "居民家庭 household",
    "business": "企事业单位 business",
    "public": "公共机构 public",
    "trade_in": "以旧换新 trade-in",
}
YES_NO = {True: "是 yes", False: "否 no"}

EXCLUSION_HEADERS = (
    "设备编号 Device ID",
    "类别 Category",
    "原因代码 Reason code",
    "原因 Reason",
    "说明 Detail",
    MACHINE_HEADER,
)


def kg(grams: int | None) -> Decimal | None:
    return None if grams is None else Decimal(grams) / 1000


def kg_text(grams: int) -> str:
    """``str(Decimal(grams) / 1000)`` (``1.5``, ``3``, ``0.025``) in integer arithmetic:
    the exports write it for every output of every device."""
    if type(grams) is not int or grams < 0:
        return str(Decimal(grams) / 1000)
    whole, rest = divmod(grams, 1000)
    return f"{whole}.{rest:03d}".rstrip("0") if rest else str(whole)


def _outputs_text(names: dict[str, str], outputs: list[Any]) -> str:
    """``电路板 1.5; 塑料 3`` — the fractions by their Chinese names (``names``), in kg."""
    return "; ".join([f"{names.get(code, code)} {kg_text(grams)}" for code, grams in outputs])


@dataclass(frozen=True)
class DetailRow:
    qr_id: str
    values: tuple[Any, ...]  # as written: int, Decimal or str (None: empty)


def detail_rows(
    session: Session,
    catalog: Catalog,
    claim: Claim,
    outcomes: Outcomes,
    changed: dict[str, str] | None = None,
) -> Iterator[DetailRow]:
    """One row per claimed device, streamed from the database in QR ID order; the review
    column is the replayed outcome (``outcomes``), not the stored one; ``changed``: the
    devices with records after the submission (``discipline.changed_after_submission``)."""
    query = (
        select(_ITEM)
        .where(_ITEM.c.claim_id == claim.id)
        .order_by(_ITEM.c.qr_id)
        .execution_options(yield_per=5_000)
    )
    tiers = {(s.id, t.id): t.zh for s in catalog.rate_schedules.values() for t in s.tiers}
    result = session.execute(query)
    try:
        yield from _detail(catalog, claim, tiers, result, outcomes, changed or {})
    finally:
        result.close()  # a reader that stops early must not leave a server-side cursor open


def _detail(
    catalog: Catalog,
    claim: Claim,
    tiers: dict[tuple[str, str], str],
    result: Any,
    outcomes: Outcomes,
    changed: dict[str, str],
) -> Iterator[DetailRow]:
    names = {code: f.zh for code, f in catalog.fractions.items()}
    quantity = claim.mode == "quantity"
    for number, item in enumerate(result, start=1):
        category = catalog.categories.get(item.category)
        anchor = item.anchor or {}
        outputs_g = sum(int(g) for _, g in item.outputs)
        facts = item.facts or {}
        yield DetailRow(
            item.qr_id,
            (
                number,
                claim.code,
                format_id(item.qr_id),
                f"{category.zh} {item.category}" if category else item.category,
                f"{tiers.get((item.schedule, item.tier), '')} [{item.tier}]",
                item.schedule,
                None if quantity else item.rate_yuan,
                *_tier_cells(facts),
                facts.get("brand"),
                facts.get("model"),
                facts.get("serial"),
                SOURCE_TEXT.get(facts.get("source") or "", facts.get("source")),
                facts.get("collector"),
                _received(facts.get("received_at")),
                beijing_wall_clock(item.dismantled_at).replace(microsecond=0),
                kg(item.received_weight_g),
                _outputs_text(names, item.outputs),
                kg(outputs_g),
                facts.get("batch"),
                facts.get("line"),
                facts.get("operator"),
                len(item.event_digests),
                item.event_digests[-1] if item.event_digests else None,
                anchor.get("root"),
                anchor.get("tx_hash"),
                anchor.get("block_number"),
                review_text(*outcomes.of(item.qr_id, item.tier)) if outcomes else "",
                flags_text(item.flags),
                changed.get(item.qr_id, ""),
                machine_text(machine_row(item)),
            ),
        )


def rows_from_machine(
    catalog: Catalog, claim: Any, machine: Iterable[Sequence[Any]], outcomes: Outcomes
) -> Iterator[DetailRow]:
    """The detail rows as an export writes them, from machine rows (``exports.machine``):
    what ``claims verify`` compares a file with, with no database. ``claim``: its code
    and mode."""
    tiers = {(s.id, t.id): t.zh for s in catalog.rate_schedules.values() for t in s.tiers}
    items = (
        SimpleNamespace(
            qr_id=m[0], category=m[1], tier=m[2], schedule=m[3], rate_yuan=m[4],
            dismantled_at=dt.datetime.fromisoformat(m[5]), received_weight_g=m[6],
            outputs=m[7], event_digests=m[8],
            anchor={"root": m[9][0], "tx_hash": m[9][1], "block_number": m[9][2]},
            flags=m[10] or None,
            facts=m[11],
        )
        for m in machine
    )  # fmt: skip
    return _detail(catalog, claim, tiers, items, outcomes, {})


def _tier_cells(facts: dict[str, Any]) -> list[Any]:
    attributes = facts.get("attributes") or {}
    cells = []
    for name in TIER_ATTRIBUTES:
        value = attributes.get(name)
        cells.append(YES_NO.get(value, str(value)) if isinstance(value, bool)
                     else None if value is None else str(value))  # fmt: skip
    return cells


def _received(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return beijing_wall_clock(dt.datetime.fromisoformat(text)).replace(microsecond=0)


def flags_text(flags: list[Any] | None) -> str:
    """``存在审计发现 audit_finding: backdating; …``: each flag in Chinese, code, detail."""
    if not flags:
        return ""
    return "; ".join(f"{FLAGS.get(code, (code,))[0]} {code}: {detail}" for code, detail in flags)


def review_text(review: str | None, reason: str | None) -> str:
    labels = {
        "approved": "核准 approved",
        "rejected": "核减 rejected",
        "reinstated": "恢复 reinstated",
    }
    if review is None:
        return ""
    return f"{labels.get(review, review)}{': ' + reason if reason else ''}"


def exclusion_rows(session: Session, catalog: Catalog, claim: Claim) -> Iterator[tuple[str, ...]]:
    query = (
        select(_EXCLUSION)
        .where(_EXCLUSION.c.claim_id == claim.id)
        .order_by(_EXCLUSION.c.qr_id)
        .execution_options(yield_per=5_000)
    )
    result = session.execute(query)
    try:
        yield from _exclusions(catalog, result)
    finally:
        result.close()


def _exclusions(catalog: Catalog, result: Any) -> Iterator[tuple[str, ...]]:
    for row in result:
        category = catalog.categories.get(row.category or "")
        code, detail = row.reasons[0] if row.reasons else ("", "")
        more = "; ".join(c for c, _ in row.reasons[1:])
        zh, en = REASONS.get(code, (code, code))
        yield (
            format_id(row.qr_id),
            f"{category.zh} {row.category}" if category else str(row.category or ""),
            code + (f" (+ {more})" if more else ""),
            f"{zh} {en}",
            detail,
            machine_text(exclusion_machine(row)),
        )


def exclusion_machine(row: Any) -> list[Any]:
    """An excluded device as the anchored exclusions digest covers it."""
    return [row.qr_id, row.category, [list(r) for r in row.reasons]]


def cell_text(value: Any) -> str:
    """The one text form of a cell, for CSV and for comparing files with the records."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    if isinstance(value, dt.datetime):  # Beijing wall-clock time: 2026-07-01 09:30:00
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    return str(value)
