"""The stock and outputs sheets of a claim's XLSX (issue 18 item 5): opening and closing
stock per category beside the units dismantled, the outputs per fraction; both anchored
with the submission, so ``claims verify`` names an edited cell in either."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.claims.quarter import ELIGIBLE, EXCLUDED, FLAT_OUT, Quarter
from tests.claims.test_file_verify import check, export, named, submitted
from traceability.claims.exports.reviewtable import CATEGORY_SHEET
from traceability.claims.exports.stocktable import (
    OUTPUT_HEADERS,
    OUTPUT_SHEET,
    STOCK_HEADERS,
    STOCK_SHEET,
)
from traceability.claims.exports.xlsx import EXCLUDED_SHEET
from traceability.labels.ids import format_id

pytestmark = pytest.mark.integration


def _table(book: openpyxl.Workbook, sheet: str) -> list[list[Any]]:
    return [list(r) for r in book[sheet].iter_rows(values_only=True)]


def _row(table: list[list[Any]], code: str) -> list[Any]:
    return next(r for r in table[1:] if str(r[0]).endswith(f" {code}"))


def test_stock_per_category_reconciles_with_the_units_dismantled(
    quarter: Quarter, tmp_path: Path
) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    stock = _table(book, STOCK_SHEET)
    assert stock[0] == list(STOCK_HEADERS)
    for name, opening, received, dismantled, sent_on, closing in stock[1:]:
        assert closing == opening + received - dismantled - sent_on, name
    # The quarter's devices all arrived in it; one (``next_quarter``) was received on
    # 30 September and dismantled on 1 October (Beijing): the TVs' closing stock.
    assert all(r[1] == 0 for r in stock[1:])
    assert _row(stock, "tv")[5] == 1
    assert sum(int(r[5]) for r in stock[1:-1] if not str(r[0]).endswith(" tv")) == 0
    # Dismantled in the quarter (events): every unit of the per-category sheet (claimed +
    # excluded, counted there from the claim's rows) but ``next_quarter``, whose row a DB
    # edit moved into the quarter: the claim lists it as excluded, the events do not count it.
    units = {str(r[0]): r[1] for r in _table(book, CATEGORY_SHEET)[1:]}
    excluded = {str(r[0]) for r in _table(book, EXCLUDED_SHEET)[1:]}
    assert format_id(quarter.devices["next_quarter"]) in excluded
    for row in stock[1:]:
        moved = 1 if str(row[0]).endswith(" tv") or row[0] == "合计 Total" else 0
        assert row[3] == units.get(str(row[0]), 0) - moved, row[0]


def test_outputs_per_fraction_add_up(quarter: Quarter, tmp_path: Path) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    outputs = _table(openpyxl.load_workbook(path), OUTPUT_SHEET)
    assert outputs[0] == list(OUTPUT_HEADERS)
    for name, opening, produced, shipped, closing, *_ in outputs[1:]:
        got = [Decimal(repr(v)) for v in (opening, produced, shipped, closing)]
        assert got[3] == got[0] + got[1] - got[2], name
    # The circuit boards of every device the fixture dismantled in the quarter (kg).
    made = Counter[str]()
    for _, _, _, out, _ in (*ELIGIBLE.values(), *EXCLUDED.values()):
        made.update({k: Decimal(v) for k, v in out.items()})
    for _ in ("unconfirmed", "tampered", "pending"):
        made.update({k: Decimal(v) for k, v in FLAT_OUT.items()})
    assert Decimal(repr(_row(outputs, "pcb")[2])) == made["pcb"]


@pytest.mark.parametrize(("sheet", "column"), [(STOCK_SHEET, 6), (OUTPUT_SHEET, 3)])
def test_an_edited_stock_or_output_cell_is_named(
    quarter: Quarter, tmp_path: Path, sheet: str, column: int
) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    assert check(quarter, path).ok, check(quarter, path).problems
    book = openpyxl.load_workbook(path)
    cell = book[sheet].cell(2, column)
    cell.value = (cell.value or 0) + 7
    book.save(path)
    letter = openpyxl.utils.get_column_letter(column)
    named(check(quarter, path), f"sheet {sheet} cell {letter}2")


def test_a_deleted_stock_sheet_is_named(quarter: Quarter, tmp_path: Path) -> None:
    path = export(quarter, submitted(quarter), "xlsx", tmp_path)
    book = openpyxl.load_workbook(path)
    del book[STOCK_SHEET]
    book.save(path)
    named(check(quarter, path), f"no sheet {STOCK_SHEET}")
