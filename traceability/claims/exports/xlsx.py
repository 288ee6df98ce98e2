"""The XLSX export: the summary in the 拆解处理情况表 shape, the device detail, the exclusions.

Written with XlsxWriter in constant-memory mode (rows are flushed as they are
written: 100,000 devices stay within a few tens of MB).
"""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter
from sqlmodel import Session

from traceability.catalog.models import Catalog
from traceability.claims.eligibility import REASONS
from traceability.claims.exports.rows import (
    EXCLUSION_HEADERS,
    HEADERS,
    KINDS,
    detail_rows,
    exclusion_rows,
)
from traceability.claims.exports.summary import Summary

SUMMARY_SHEET = "汇总 Summary"
DETAIL_SHEET = "设备明细 Devices"
EXCLUDED_SHEET = "未申报 Excluded"
#: The summary table's header row (0-based), so readers find it without guessing.
SUMMARY_HEADER_ROW = 9
SUMMARY_HEADERS = (
    "序号 No.",
    "类别 Category",
    "补贴档次 Tier",
    "补贴标准 Schedule",
    "单价(元/台) Rate (yuan/unit)",
    "数量(台) Units",
    "金额(元) Amount (yuan)",
)
TOTAL_LABEL = "合计 Total"
_WIDTHS = (7, 22, 16, 28, 26, 14, 22, 21, 12, 44, 14, 8, 66, 66, 68, 10, 20)


def claim_xlsx(session: Session, catalog: Catalog, summary: Summary) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"constant_memory": True, "in_memory": False, "strings_to_formulas": False}
    )
    book.set_properties(
        {"title": f"拆解处理情况表 {summary.claim.code}", "subject": summary.claim.digest}
    )
    f = _formats(book)
    _summary_sheet(book.add_worksheet(SUMMARY_SHEET), f, summary)
    _detail_sheet(book.add_worksheet(DETAIL_SHEET), f, session, catalog, summary)
    _excluded_sheet(book.add_worksheet(EXCLUDED_SHEET), f, session, catalog, summary)
    book.close()
    return out.getvalue()


def _formats(book: Any) -> dict[str, Any]:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "label": book.add_format({"bold": True}),
        "head": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "cell": book.add_format({"border": 1}),
        "money": book.add_format({"border": 1, "num_format": "#,##0"}),
        "int": book.add_format({"num_format": "0"}),
        "kg": book.add_format({"num_format": "0.000"}),
        "total": book.add_format({"bold": True, "top": 2, "num_format": "#,##0"}),
        "total_label": book.add_format({"bold": True, "top": 2}),
        "mono": book.add_format({"font_name": "Consolas"}),
    }


def _summary_sheet(ws: Any, f: dict[str, Any], s: Summary) -> None:
    claim = s.claim
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 60)
    ws.set_column(3, 3, 30)
    ws.set_column(4, 6, 18)
    ws.write(0, 0, "废弃电器电子产品拆解处理情况表 (补贴申报汇总)", f["title"])
    facts = [
        ("处理企业 Plant", f"{s.plant_name} ({claim.org})"),
        ("许可证编号 Licence", s.licence or ""),
        ("申报期 Period", f"{claim.period}  ({s.period_text})"),
        ("申报单号 Claim", f"{claim.code}  状态 state: {s.state_text}"),
        ("申报摘要 Claim digest (SHA-256)", claim.digest),
        ("锚定 Anchor", s.anchor_text),
        ("补贴标准 Schedules", "; ".join(s.schedule_texts) or "—"),
    ]
    for row, (label, value) in enumerate(facts, start=1):
        ws.write(row, 0, label, f["label"])
        ws.write_string(row, 2, value)
    header = SUMMARY_HEADER_ROW
    ws.write_row(header, 0, SUMMARY_HEADERS, f["head"])
    row = header + 1
    for n, line in enumerate(claim.lines, start=1):
        ws.write_number(row, 0, n, f["cell"])
        ws.write_string(row, 1, f"{line['category_zh']} {line['category']}", f["cell"])
        ws.write_string(row, 2, f"{line['tier_zh']} [{line['tier']}]", f["cell"])
        ws.write_string(row, 3, line["schedule"], f["cell"])
        ws.write_number(row, 4, line["rate"], f["money"])
        ws.write_number(row, 5, line["units"], f["money"])
        ws.write_number(row, 6, line["amount"], f["money"])
        row += 1
    ws.write(row, 0, "", f["total_label"])
    ws.write_string(row, 1, TOTAL_LABEL, f["total_label"])
    for col in (2, 3, 4):
        ws.write(row, col, "", f["total_label"])
    ws.write_number(row, 5, claim.units, f["total"])
    ws.write_number(row, 6, claim.total_yuan, f["total"])
    row += 2
    ws.write(row, 0, "未申报设备 Excluded devices", f["label"])
    ws.write_number(row, 2, claim.excluded)
    for code, count in s.excluded_by_reason:
        row += 1
        zh, en = REASONS.get(code, (code, code))
        ws.write_string(row, 1, code)
        ws.write_string(row, 2, f"{zh} {en}")
        ws.write_number(row, 3, count)
    row += 2
    ws.write_string(
        row,
        0,
        "金额以元为单位，为整数；明细见“设备明细”工作表，未申报设备及原因见“未申报”工作表。"
        " Amounts in whole yuan; see the Devices and Excluded sheets.",
    )


def _detail_sheet(
    ws: Any, f: dict[str, Any], session: Session, catalog: Catalog, s: Summary
) -> None:
    for col, width in enumerate(_WIDTHS):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 3)
    ws.write_row(0, 0, HEADERS, f["head"])
    row = 1
    for detail in detail_rows(session, catalog, s.claim):
        for col, (value, kind) in enumerate(zip(detail.values, KINDS, strict=True)):
            if value is None or value == "":
                continue
            if kind == "int":
                ws.write_number(row, col, value, f["int"])
            elif kind == "kg":
                ws.write_number(row, col, value, f["kg"])
            else:
                ws.write_string(row, col, value)
        row += 1
    ws.autofilter(0, 0, max(row - 1, 1), len(HEADERS) - 1)


def _excluded_sheet(
    ws: Any, f: dict[str, Any], session: Session, catalog: Catalog, s: Summary
) -> None:
    for col, width in enumerate((21, 22, 34, 40, 90)):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 1)
    ws.write_row(0, 0, EXCLUSION_HEADERS, f["head"])
    for row, values in enumerate(exclusion_rows(session, catalog, s.claim), start=1):
        for col, value in enumerate(values):
            ws.write_string(row, col, value)
