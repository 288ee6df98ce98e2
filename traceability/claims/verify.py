"""``claims verify FILE``: an exported XLSX or CSV against the records and the ledger.

Three things must hold, and the first failure of each is named:

1. the file's rows are the rows the claim's records give (cell by cell; the
   review column and the records-changed-after-submission column are left out: a file
   exported before a review, or before a later record, still verifies),
   and its summary is the claim's replay (``claims.replay``), not the stored row;
2. the records give the digest the claim was submitted with, and that
   submission event is anchored and verifies on the ledger;
3. every claimed device's events are still the ones the claim counted, and
   still verify (an edit of the event log after anchoring shows here).

Stored figures that disagree with the replay (``projection_mismatch``) are
reported as warnings: they say the plant's database was edited, not that the
file is false — a file true to the anchored events verifies whenever it was made.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlmodel import Session

from traceability.anchoring.trust import TrustedLedger
from traceability.catalog.models import Catalog
from traceability.claims.events import CLAIM_SUBMITTED, ClaimEvent, claim_events
from traceability.claims.evidence import gather
from traceability.claims.exports.csv import neutralise
from traceability.claims.exports.rows import (
    HEADERS,
    LIVE_COLUMNS,
    QR_COLUMN,
    cell_text,
    detail_rows,
)
from traceability.claims.exports.xlsx import (
    DETAIL_SHEET,
    SUMMARY_HEADER_ROW,
    SUMMARY_SHEET,
    TOTAL_LABEL,
)
from traceability.claims.models import Claim, ClaimItem
from traceability.claims.outcomes import Outcomes
from traceability.claims.replay import ClaimReplay, replay_claim
from traceability.claims.services import get_claim_by_code
from traceability.errors import NotFound, ValidationFailed
from traceability.verification.services import VERIFIED

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]


@dataclass
class FileCheck:
    claim: str | None = None
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    #: The claim's database rows that disagree with its events (the file may still be true).
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _xlsx_text(value: Any) -> str:
    if isinstance(value, float):
        return cell_text(Decimal(repr(value)))
    return cell_text(value)


def _read(path: Path) -> tuple[str, list[list[str]], list[list[Any]] | None]:
    """(kind, detail rows including the header, summary rows or None) of the file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return "csv", [list(r) for r in csv.reader(fh)], None
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            if DETAIL_SHEET not in book.sheetnames:
                raise ValidationFailed(f"{path.name} has no sheet {DETAIL_SHEET!r}", field="file")
            detail = [
                [_xlsx_text(v) for v in row]
                for row in book[DETAIL_SHEET].iter_rows(values_only=True)
            ]
            summary = (
                [list(r) for r in book[SUMMARY_SHEET].iter_rows(values_only=True)]
                if SUMMARY_SHEET in book.sheetnames
                else None
            )
        finally:
            book.close()
        return "xlsx", detail, summary
    raise ValidationFailed("the file must be a claim export (.xlsx or .csv)", field="file")


def _expected(
    session: Session, catalog: Catalog, claim: Claim, kind: str, outcomes: Outcomes
) -> Generator[list[str], None, None]:
    for row in detail_rows(session, catalog, claim, outcomes):
        texts = [cell_text(v) for v in row.values]
        yield [neutralise(t) for t in texts] if kind == "csv" else texts


def _trim(row: list[str]) -> list[str]:
    out = list(row) + [""] * (len(HEADERS) - len(row))
    return out[: len(HEADERS)] if not any(out[len(HEADERS) :]) else out


def _compare_rows(
    session: Session,
    catalog: Catalog,
    claim: Claim,
    kind: str,
    rows: list[list[str]],
    outcomes: Outcomes,
) -> str | None:
    with closing(_expected(session, catalog, claim, kind, outcomes)) as expected:
        return _first_difference(rows, expected)


def _first_difference(rows: list[list[str]], expected: Iterator[list[str]]) -> str | None:
    for number, (found, wanted) in enumerate(zip_longest(rows, expected), start=1):
        line = number + 1  # the header is line 1 of the file
        if wanted is None:
            return f"row {number} (line {line}): the records hold only {number - 1} devices"
        if found is None:
            device = wanted[QR_COLUMN]
            return f"row {number} (line {line}) is missing: the records list device {device}"
        found = _trim(found)
        for col, (a, b) in enumerate(zip(found, wanted, strict=False)):
            if col in LIVE_COLUMNS:
                continue
            if a != b:
                return (
                    f"row {number} (line {line}, device {wanted[QR_COLUMN]}): column "
                    f"{HEADERS[col]!r} is {a!r} in the file, the records say {b!r}"
                )
        if len(found) != len(wanted):
            return f"row {number} (line {line}): {len(found)} columns, not {len(wanted)}"
    return None


def _compare_summary(
    replay: ClaimReplay, summary: list[list[Any]], yuan: bool = True
) -> str | None:
    """The summary sheet against the replay (lines, units, total); a quantity certification
    (``yuan`` False) shows no rate or amount."""
    lines = summary[SUMMARY_HEADER_ROW + 1 :]
    for number, line in enumerate(replay.lines, start=1):
        row = lines[number - 1] if number - 1 < len(lines) else []
        got = [_xlsx_text(v) for v in row[4:7]] if len(row) >= 7 else []
        want = [str(line["rate"]) if yuan else "", str(line["units"]),
                str(line["amount"]) if yuan else ""]  # fmt: skip
        if got != want:
            return f"summary row {number}: rate, units, amount are {got}, the records say {want}"
    total = lines[len(replay.lines)] if len(lines) > len(replay.lines) else []
    if len(total) < 7 or total[1] != TOTAL_LABEL:
        return f"summary: no total row after {len(replay.lines)} lines"
    got = [_xlsx_text(total[5]), _xlsx_text(total[6])]
    want = [str(replay.units), str(replay.total_yuan) if yuan else ""]
    if got != want:
        return f"summary total: units, amount are {got}, the records say {want}"
    return None


def verify_file(
    session: Session,
    catalog: Catalog,
    path: Path,
    *,
    ledger: TrustedLedger,
) -> FileCheck:
    kind, rows, summary = _read(path)
    check = FileCheck()
    if not rows or [cell_text(h) for h in rows[0][: len(HEADERS)]] != list(HEADERS):
        check.problems.append("line 1 is not the header of a claim's device detail")
        return check
    body = [r for r in rows[1:] if any(r)]
    check.rows = len(body)
    if not body:
        check.problems.append("the file lists no devices")
        return check
    code = body[0][1]
    check.claim = code
    try:
        claim = get_claim_by_code(session, code)
    except NotFound:
        check.problems.append(f"row 1: no claim {code!r} in the records")
        return check
    events = claim_events(session, ledger, claim)
    replay = replay_claim(session, catalog, claim, events)
    if found := _compare_rows(session, catalog, claim, kind, body, replay.outcomes):
        check.problems.append(found)
    if summary is not None and (
        found := _compare_summary(replay, summary, claim.mode != "quantity")
    ):
        check.problems.append(found)
    check.problems += _check_anchor(claim, events, replay)
    check.warnings += [m.text for m in replay.mismatches]
    check.problems += _check_devices(session, catalog, claim, ledger)
    return check


def _check_anchor(claim: Claim, events: list[ClaimEvent], replay: ClaimReplay) -> list[str]:
    submitted = next((e for e in events if e.type == CLAIM_SUBMITTED), None)
    if submitted is None:
        return [f"claim {claim.code} is a {replay.state}: its digest was never anchored"]
    problems = []
    if not replay.content_verified:
        problems.append(
            f"the records give digest {replay.items_digest}, not the submitted (anchored) "
            f"{replay.digest}: the claim's rows were changed in the database"
        )
    if submitted.status != VERIFIED:
        problems.append(f"the submission event {submitted.id} is {submitted.status} on the ledger")
    return problems


def _check_devices(
    session: Session, catalog: Catalog, claim: Claim, ledger: TrustedLedger
) -> list[str]:
    counted: dict[str, list[str]] = {
        qr_id: digests
        for qr_id, digests in session.execute(
            select(_ITEM.c.qr_id, _ITEM.c.event_digests)
            .where(_ITEM.c.claim_id == claim.id)
            .order_by(_ITEM.c.qr_id)
        )
    }
    order = {qr_id: n for n, qr_id in enumerate(counted, start=1)}
    for evidence in gather(
        session,
        catalog,
        list(counted),
        plant=claim.org,
        ledger=ledger,
        claim_id=claim.id,
    ):
        qr_id = evidence.facts.qr_id
        where = f"row {order[qr_id]} (device {qr_id})"
        if list(evidence.digests) != counted[qr_id]:
            return [f"{where}: its event log is no longer the one the claim counted"]
        if not evidence.verification.verified:
            detail = evidence.verification.problem or ", ".join(
                f"{i}: {s}" for i, s in evidence.verification.events if s != VERIFIED
            )
            return [f"{where}: its events are {evidence.verification.status} ({detail})"]
    return []
