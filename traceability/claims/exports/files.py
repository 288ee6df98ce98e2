"""Writing a claim's export files in one go: the device rows are read and formatted once.

``traceability claims export CLAIM -o c.xlsx -o c.csv -o c.pdf`` is what a
plant's finance office runs at the end of a quarter; for 100,000 devices,
reading and formatting the rows costs as much as writing either file, so the
XLSX and the CSV are fed from one pass.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import Session

from traceability.bulk import collector_paused
from traceability.catalog.models import Catalog
from traceability.claims.exports.csv import BOM, LINE_END, csv_cells, proof_row
from traceability.claims.exports.pdf import claim_pdf
from traceability.claims.exports.rows import HEADERS, DetailRow, detail_rows
from traceability.claims.exports.summary import Summary
from traceability.claims.exports.xlsx import write_xlsx

KINDS = (".xlsx", ".csv", ".pdf")


def write_files(
    session: Session,
    catalog: Catalog,
    summary: Summary,
    paths: Sequence[Path],
    *,
    cjk_font: Path | None = None,
    public_url: str = "",
) -> None:
    """Write the claim to each of ``paths``, the kind by its suffix (one of ``KINDS``)."""
    first: dict[str, Path] = {}
    for path in paths:
        kind = path.suffix.lower()
        if kind not in KINDS:
            raise ValueError(f"{path}: the suffix must be one of {', '.join(KINDS)}")
        first.setdefault(kind, path)
    with ExitStack() as stack:
        stack.enter_context(collector_paused())
        details: Iterable[DetailRow] = detail_rows(
            session, catalog, summary.claim, summary.replay.outcomes, summary.changed
        )
        if ".csv" in first:
            out = stack.enter_context(first[".csv"].open("w", encoding="utf-8", newline=""))
            details = _also_to_csv(details, out, summary.proof)
        if ".xlsx" in first:
            write_xlsx(first[".xlsx"], session, catalog, summary, details)
        else:
            for _ in details:
                pass
    if ".pdf" in first:
        first[".pdf"].write_bytes(claim_pdf(summary, font_override=cjk_font, public_url=public_url))
    for path in paths:  # the same kind asked for twice: one file written, then copied
        if path != first[path.suffix.lower()]:
            shutil.copyfile(first[path.suffix.lower()], path)


def _also_to_csv(
    details: Iterable[DetailRow], out: TextIO, proof: dict[str, Any]
) -> Iterator[DetailRow]:
    """The rows, each also written to ``out`` as a CSV line (the header first, after the BOM;
    the proof last)."""
    out.write(BOM)
    writer = csv.writer(out, lineterminator=LINE_END)
    writer.writerow(HEADERS)
    for detail in details:
        writer.writerow(csv_cells(detail))
        yield detail
    writer.writerow(proof_row(proof))
