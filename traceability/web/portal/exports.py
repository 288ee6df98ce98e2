"""CSV and XLSX downloads of a table (the anomaly list, a plant's figures)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


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
        writer.writerows([[_safe(v) for v in row] for row in rows])
        # with a BOM: Excel opens UTF-8 (Chinese text) correctly
        body: bytes = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        mimetype = "text/csv"
    else:
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title=(title or name)[:31].replace("/", "-"))
        sheet.append(list(header))
        for row in rows:
            sheet.append([_safe(_cell(v)) for v in row])
        out = io.BytesIO()
        book.save(out)
        body, mimetype = out.getvalue(), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
