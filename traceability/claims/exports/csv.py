"""The CSV export: the device detail, one row per claimed device.

UTF-8 with a byte-order mark, so Excel opens it as UTF-8 and shows the
Chinese; a cell that starts with ``= + - @`` (or a tab or carriage return)
gets a leading apostrophe, so no spreadsheet runs it as a formula (OWASP
"CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlmodel import Session

from ledger.canonical import canonical_value
from traceability.bulk import collector_paused
from traceability.catalog.models import Catalog
from traceability.claims.exports.machine import MACHINE_HEADER
from traceability.claims.exports.rows import HEADERS, DetailRow, cell_text, detail_rows
from traceability.claims.models import Claim
from traceability.claims.outcomes import Outcomes

BOM = "\ufeff"
LINE_END = "\r\n"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_STARTS = frozenset(_FORMULA_START)


def neutralise(text: str) -> str:
    return "'" + text if text[:1] in _STARTS else text


def csv_cells(detail: DetailRow) -> list[str]:
    """A device's row as the CSV holds it."""
    out = []
    for value in detail.values:  # a loop: 100,000 rows of 17 cells
        text = value if type(value) is str else cell_text(value)
        out.append("'" + text if text[:1] in _STARTS else text)
    return out


def csv_lines(
    session: Session,
    catalog: Catalog,
    claim: Claim,
    outcomes: Outcomes,
    changed: dict[str, str] | None = None,
    proof: dict[str, Any] | None = None,
) -> Iterator[str]:
    """The file as text chunks (streamable); the first starts with the BOM. ``outcomes``:
    the replayed review outcomes (``claims.replay``); ``proof``: written last (``proof_row``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerow(HEADERS)
    yield BOM + buffer.getvalue()
    for detail in detail_rows(session, catalog, claim, outcomes, changed):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_cells(detail))
        yield buffer.getvalue()
    if proof is not None:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(proof_row(proof))
        yield buffer.getvalue()


def proof_row(proof: dict[str, Any]) -> list[str]:
    """The CSV's last record: ``核验数据`` then the proof's canonical JSON (``claims verify``
    reads it; a spreadsheet shows it as one more line after the devices)."""
    return [MACHINE_HEADER, canonical_value(proof).decode()]


def claim_csv(
    session: Session,
    catalog: Catalog,
    claim: Claim,
    outcomes: Outcomes,
    changed: dict[str, str] | None = None,
    proof: dict[str, Any] | None = None,
) -> bytes:
    with collector_paused():  # a quarter's 100,000 rows
        lines = csv_lines(session, catalog, claim, outcomes, changed, proof)
        return "".join(lines).encode("utf-8")
