"""CSV and XLSX downloads of a table (the anomaly list, a plant's figures).

Times are Beijing time (SPEC §2.9): an aware ``datetime`` in a row becomes a
real date-time cell of the XLSX (Beijing wall-clock time, formatted) and
Beijing text in the CSV; the column's header says the zone
(``BEIJING_TIME``). A ``date`` is a date cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from traceability.periods import CHINA, beijing_wall_clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: How a time and a date read in a sheet (the header names the zone).
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        # to the second: a cell keeps milliseconds, and 23:59:59.999999 would read 00:00
        cell = WriteOnlyCell(sheet, value=beijing_wall_clock(value).replace(microsecond=0))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return _safe(value)


def _text(value: Any) -> Any:
    """A CSV field: times as Beijing text (``2026-07-06 09:08``)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _safe(value)


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def table_response(
    name: str, fmt: str, header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = ""
) -> Response:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([[_text(v) for v in row] for row in rows])
        # with a BOM: Excel opens UTF-8 (Chinese text) correctly
        body: bytes = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        mimetype = "text/csv"
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=(title or name)[:31].replace("/", "-"))
        sheet.append(list(header))
        for row in rows:
            sheet.append([_cell(sheet, v) for v in row])
        out = io.BytesIO()
        book.save(out)
        body, mimetype = out.getvalue(), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
