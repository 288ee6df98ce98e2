"""Reading an export back and naming the cells that differ from what verified data renders.

``claims.filecheck`` decides what is verified; this module knows the files'
layout (sheets, header rows, where each fact is written) and renders the
expected cells with the same functions the exports use.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from traceability.catalog.models import Catalog
from traceability.claims.eligibility import REASONS
from traceability.claims.exports.csv import neutralise
from traceability.claims.exports.machine import MACHINE_HEADER, MACHINE_ROW_LENGTH, PROOF_SHEET
from traceability.claims.exports.reviewtable import (
    CATEGORY_HEADERS,
    CATEGORY_SHEET,
    REVIEW_HEADERS,
    REVIEW_SHEET,
    category_rows,
    review_rows,
    with_names,
)
from traceability.claims.exports.rows import (
    CHANGED_COLUMN,
    EXCLUSION_HEADERS,
    HEADERS,
    MACHINE_COLUMN,
    QR_COLUMN,
    _exclusions,
    cell_text,
    rows_from_machine,
)
from traceability.claims.exports.stocktable import (
    OUTPUT_HEADERS,
    OUTPUT_SHEET,
    STOCK_HEADERS,
    STOCK_SHEET,
    output_rows,
    stock_rows,
)
from traceability.claims.exports.summary import licence_text, plant_text
from traceability.claims.exports.xlsx import (
    DETAIL_SHEET,
    EXCLUDED_SHEET,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    TOTAL_LABEL,
)
from traceability.claims.outcomes import Outcomes

EXCLUDED = EXCLUDED_SHEET
#: At most this many differing cells are listed (the first ones).
LISTED = 20


@dataclass
class Tables:
    kind: str
    sheet_name: str
    detail: list[list[str]]  # with the header
    summary: list[list[Any]] | None = None
    excluded: list[list[str]] | None = None
    proof: dict[str, Any] = None  # type: ignore[assignment]
    problem: str | None = None
    review: list[list[Any]] | None = None
    by_category: list[list[Any]] | None = None
    stock: list[list[Any]] | None = None
    outputs: list[list[Any]] | None = None


def cell_value_text(value: Any) -> str:
    if isinstance(value, float):
        return cell_text(Decimal(repr(value)))
    return cell_text(value)


def _sheet(book: Any, name: str) -> list[list[Any]] | None:
    if name not in book.sheetnames:
        return None
    return [list(r) for r in book[name].iter_rows(values_only=True)]


def read_tables(path: Path) -> Tables:
    """The file's tables; ``problem`` names why it cannot be checked with the chain."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [list(r) for r in csv.reader(fh)]
        proof_text = rows.pop()[1] if rows and rows[-1][:1] == [MACHINE_HEADER] else None
        tables = Tables("csv", "CSV", rows)
    elif suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            detail = _sheet(book, DETAIL_SHEET) or []
            proof_rows = _sheet(book, PROOF_SHEET)
            review = _sheet(book, REVIEW_SHEET)
            tables = Tables(
                "xlsx", f"sheet {DETAIL_SHEET}", [[cell_value_text(v) for v in r] for r in detail],
                _sheet(book, SUMMARY_SHEET),
                [[cell_value_text(v) for v in r] for r in _sheet(book, EXCLUDED_SHEET) or []],
            )  # fmt: skip
            tables.review = review
            tables.by_category = _sheet(book, CATEGORY_SHEET)
            tables.stock, tables.outputs = _sheet(book, STOCK_SHEET), _sheet(book, OUTPUT_SHEET)
        finally:
            book.close()
        proof_text = "".join(str(r[0] or "") for r in proof_rows[1:]) if proof_rows else None
    else:
        return Tables("?", "?", [], problem="the file must be a claim export (.xlsx, .csv, .pdf)")
    tables.problem = _header_problem(tables.detail, proof_text)
    try:
        tables.proof = json.loads(proof_text) if proof_text else {}
    except ValueError:
        tables.problem = tables.problem or "the file's 核验数据 (proof) is not JSON"
    return tables


def _header_problem(detail: list[list[str]], proof_text: str | None) -> str | None:
    header = [cell_text(h) for h in detail[0]] if detail else []
    if header[: len(HEADERS)] == list(HEADERS) and proof_text:
        return None
    if MACHINE_HEADER not in header or not proof_text:
        return (f"line 1 has {len(header)} columns and no {MACHINE_HEADER} (proof): a file made "
                "by an earlier version (before weee-trace-claim-file/1) cannot be checked with "
                "the chain alone; check it against the plant's records with --records")  # fmt: skip
    differs = next(n for n, h in enumerate(HEADERS) if n >= len(header) or header[n] != h)
    found = header[differs : differs + 1]
    return f"line 1 (header), column {differs + 1}: {found} is not {HEADERS[differs]!r}"


def where(tables: Tables, line: int, column: int) -> str:
    """``sheet 设备明细 Devices cell G4`` or ``CSV line 4 column 7``."""
    if tables.kind == "xlsx":
        return f"{tables.sheet_name} cell {get_column_letter(column + 1)}{line}"
    return f"CSV line {line} column {column + 1}"


def machine_rows(detail: list[list[str]], name: str) -> tuple[list[list[Any]], str | None]:
    out: list[list[Any]] = []
    for line, row in enumerate(detail[1:], start=2):
        if not any(row):
            continue
        try:
            value = json.loads(row[MACHINE_COLUMN])
            assert isinstance(value, list) and len(value) == MACHINE_ROW_LENGTH
        except (ValueError, IndexError, AssertionError):
            return out, f"{name} line {line}: {MACHINE_HEADER} is not a device's machine row"
        out.append(value)
    return out, None


def detail_differences(
    tables: Tables, catalog: Catalog, claim: Any, machine: list[list[Any]], outcomes: Outcomes
) -> list[str]:
    """Every human cell of the detail against what the machine rows render."""
    found: list[str] = []
    body = [r for r in tables.detail[1:] if any(r)]
    expected = rows_from_machine(catalog, claim, machine, outcomes)
    for line, (row, want) in enumerate(zip(body, expected, strict=False), start=2):
        for col, value in enumerate(want.values):
            if col == CHANGED_COLUMN:
                continue
            text = cell_text(value)
            text = neutralise(text) if tables.kind == "csv" else text
            got = row[col] if col < len(row) else ""
            if got != text and len(found) < LISTED:
                device = row[QR_COLUMN]
                found.append(f"{where(tables, line, col)} ({HEADERS[col]}, device {device}): "
                             f"the file says {got!r}, the chain {text!r}")  # fmt: skip
    return found


def exclusion_machine_rows(rows: list[list[str]]) -> tuple[list[list[Any]], str | None]:
    out: list[list[Any]] = []
    column = len(EXCLUSION_HEADERS) - 1
    for line, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        try:
            value = json.loads(row[column])
            assert isinstance(value, list) and len(value) == 3
        except (ValueError, IndexError, AssertionError):
            return out, f"sheet {EXCLUDED_SHEET} line {line}: {MACHINE_HEADER} is not readable"
        out.append(value)
    return out, None


def exclusion_differences(tables: Tables, catalog: Catalog, machine: list[list[Any]]) -> list[str]:
    found: list[str] = []
    body = [r for r in (tables.excluded or [])[1:] if any(r)]
    shaped = (SimpleNamespace(qr_id=m[0], category=m[1], reasons=m[2]) for m in machine)
    for line, (row, want) in enumerate(zip(body, _exclusions(catalog, shaped), strict=False), 2):
        for col, text in enumerate(want):
            got = row[col] if col < len(row) else ""
            if got != text and len(found) < LISTED:
                found.append(f"sheet {EXCLUDED_SHEET} cell {get_column_letter(col + 1)}{line} "
                             f"({EXCLUSION_HEADERS[col]}): the file says {got!r}, the chain "
                             f"{text!r}")  # fmt: skip
    return found


def _facts(anchored: Any) -> dict[str, str]:
    """The summary's anchored facts by label: what the cell next to each label must say."""
    payload = anchored.payload
    plant = payload.get("plant") or {}
    facts = {"申报摘要 Claim digest (SHA-256)": str(payload.get("digest"))}
    if plant:
        facts["处理企业 Plant"] = plant_text(str(plant.get("name")), anchored.org)
        facts["许可证编号 Licence"] = licence_text(payload.get("conditions"),
                                                    plant.get("licence_no"))  # fmt: skip
    return facts


def summary_differences(tables: Tables, anchored: Any, catalog: Catalog) -> list[str]:
    """The summary sheet's facts, lines, total and exclusions by reason against the chain."""
    rows = tables.summary or []
    found = []
    facts = _facts(anchored)
    for number, row in enumerate(rows[:SUMMARY_HEADER_ROW], start=1):
        label = row[0] if row else None
        got = cell_value_text(row[2]) if len(row) > 2 else ""
        if label in facts and got != (want := facts.pop(label)):
            found.append(f"sheet {SUMMARY_SHEET} cell C{number} ({label}): the file says "
                         f"{got!r}, the chain {want!r}")  # fmt: skip
    found += [f"sheet {SUMMARY_SHEET}: no {label} row" for label in facts]
    found += list(_line_differences(rows, tables.proof.get("lines") or [], anchored))
    return found


def _line_differences(
    rows: list[list[Any]], lines: list[dict[str, Any]], anchored: Any
) -> Iterator[str]:
    yuan = anchored.payload.get("mode") != "quantity"
    start = SUMMARY_HEADER_ROW + 1
    for n, line in enumerate(lines):
        row = rows[start + n] if start + n < len(rows) else []
        want = [str(line["rate"]) if yuan else "", str(line["units"]),
                str(line["amount"]) if yuan else ""]  # fmt: skip
        for col, text in zip((4, 5, 6), want, strict=True):
            got = cell_value_text(row[col]) if col < len(row) else ""
            if got != text:
                yield (f"sheet {SUMMARY_SHEET} cell {get_column_letter(col + 1)}{start + n + 1}: "
                       f"the file says {got!r}, the chain {text!r}")  # fmt: skip
    yield from _total_differences(rows, lines, yuan)
    by_reason = dict((anchored.payload.get("excluded") or {}).get("by_reason") or {})
    for number, row in enumerate(rows[start + len(lines) :], start=start + len(lines) + 1):
        code = row[1] if len(row) > 3 else None
        shown = cell_value_text(row[3]) if len(row) > 3 else ""
        if (code in REASONS or code in by_reason) and shown != str(by_reason.get(code, 0)):
            yield (f"sheet {SUMMARY_SHEET} cell D{number} ({code}): the file says {shown!r}, "
                   f"the chain {by_reason.get(code, 0)}")  # fmt: skip


def _total_differences(
    rows: list[list[Any]], lines: list[dict[str, Any]], yuan: bool
) -> Iterator[str]:
    number = SUMMARY_HEADER_ROW + 1 + len(lines)
    row = rows[number] if number < len(rows) else []
    want = [str(sum(int(x["units"]) for x in lines)),
            str(sum(int(x["amount"]) for x in lines)) if yuan else ""]  # fmt: skip
    if len(row) < 7 or row[1] != TOTAL_LABEL:
        yield f"sheet {SUMMARY_SHEET} row {number + 1}: not the total ({TOTAL_LABEL})"
        return
    for col, text in zip((5, 6), want, strict=True):
        if cell_value_text(row[col]) != text:
            yield (f"sheet {SUMMARY_SHEET} cell {get_column_letter(col + 1)}{number + 1} "
                   f"({TOTAL_LABEL}): the file says {cell_value_text(row[col])!r}, the chain "
                   f"{text!r}")  # fmt: skip


def category_differences(
    tables: Tables, catalog: Catalog, machine: list[list[Any]], excluded: list[list[Any]]
) -> list[str]:
    """The per-category sheet against the verified device and exclusion rows."""
    if tables.by_category is None:
        return [f"no sheet {CATEGORY_SHEET}"]
    want = category_rows(
        catalog, (m[1] for m in machine), ((e[1], str(e[2][0][0]) if e[2] else "?")
                                           for e in excluded)
    )  # fmt: skip
    return _table_differences(CATEGORY_SHEET, CATEGORY_HEADERS, tables.by_category, want)


def stock_differences(tables: Tables, catalog: Catalog, anchored: Any) -> list[str]:
    """The stock and outputs sheets against the figures the submission anchored."""
    stock = anchored.payload.get("stock")
    if not isinstance(stock, dict):
        return []  # submitted before the stock was anchored: ``filecheck`` notes it
    found: list[str] = []
    for sheet, headers, got, want in (
        (STOCK_SHEET, STOCK_HEADERS, tables.stock,
         stock_rows(catalog, stock.get("devices") or [])),
        (OUTPUT_SHEET, OUTPUT_HEADERS, tables.outputs,
         output_rows(catalog, stock.get("outputs") or [])),
    ):  # fmt: skip
        if got is None:
            found.append(f"no sheet {sheet}: the chain holds its figures")
            continue
        if not want:  # the writer leaves one empty row under the header
            got = [r for r in got if any(v is not None for v in r)]
        found += _table_differences(sheet, headers, got, want)
    return found


def _table_differences(
    sheet: str, headers: Sequence[str], got: list[list[Any]], want: list[tuple[Any, ...]]
) -> list[str]:
    found: list[str] = []
    body = got[1:]
    if len(body) != len(want):
        found.append(f"sheet {sheet}: {len(body)} rows, the chain gives {len(want)}")
    for number, row in enumerate(want, start=2):
        shown = body[number - 2] if number - 2 < len(body) else []
        for col, value in enumerate(row):
            text = cell_text(value)
            seen = cell_value_text(shown[col]) if col < len(shown) else ""
            if seen != text and len(found) < LISTED:
                found.append(f"sheet {sheet} cell {get_column_letter(col + 1)}{number} "
                             f"({headers[col]}): the file says {seen!r}, the chain "
                             f"{text!r}")  # fmt: skip
    return found


def review_differences(
    tables: Tables, catalog: Catalog, machine: list[list[Any]], anchored: Any, outcomes: Outcomes
) -> list[str]:
    """The 审核核定 sheet against the verified reviews (none: the sheet must not be there)."""
    if not anchored.reviews:
        return [f"sheet {REVIEW_SHEET}: the chain holds no review"] if tables.review else []
    if tables.review is None:
        return [f"no sheet {REVIEW_SHEET}: the chain holds {len(anchored.reviews)} review(s)"]
    lines = with_names(catalog, tables.proof.get("lines") or [])
    yuan = anchored.payload.get("mode") != "quantity"
    want = review_rows(lines, (m[:5] for m in machine), outcomes, yuan=yuan)
    return _table_differences(REVIEW_SHEET, REVIEW_HEADERS, tables.review, want)


def pdf_text_differences(text: str, anchored: Any) -> list[str]:
    """The plant, licence and digest the PDF prints against the anchored ones."""
    flat = " ".join(text.split())
    found = []
    for label, value in _facts(anchored).items():
        if " ".join(value.split()) not in flat:
            found.append(f"PDF {label}: the chain's {value!r} is not printed")
    return found
