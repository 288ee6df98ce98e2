"""``claims verify FILE --trust TRUST --rpc URL``: a claim's export against the chain alone.

No database is opened. The file carries its proof (``exports.machine``): the
claim's own events (submission, reviews) with their Merkle proofs, the lines,
and on every device and excluded row a machine column. The check:

1. the claim's events verify against the trusted chain (``ledger.verify``);
2. the device rows give the anchored claim digest (QR ID, tier, rate and every
   counted event digest, with the lines) and, for claims submitted since
   ``claim-rows-v1``, the anchored rows digest (the rest of each row);
3. the exclusions give the anchored exclusions digest and count;
4. every human cell — detail, summary, exclusions, the review column, the stock and
   outputs sheets (against the stock the submission anchored) — is what
   the verified data renders, else the cell is named;
5. a PDF: the QR's digest and claim are the anchored ones, the attached proof
   verifies, and the plant, licence and digest printed are the anchored ones.

The "changed after submission" column is read from the plant's log when
exporting and is not checked (the chain does not hold it).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

from ledger.errors import LedgerError, TrustMismatch
from ledger.interface import Ledger
from ledger.verify import LATE, TrustAnchors, verify_bundle
from traceability.catalog.models import Catalog
from traceability.claims.digest import StreamedExclusionsDigest, streamed_claim_digest
from traceability.claims.events import CLAIM_REVIEWED, CLAIM_SUBMITTED
from traceability.claims.exports import filecells
from traceability.claims.exports.machine import FILE_FORMAT, ROWS_VERSION, rows_digest
from traceability.claims.exports.pdf import PROOF_FILE, VERIFY_PATH
from traceability.claims.outcomes import Outcomes

VERIFIED = "verified"


@dataclass
class FileCheck:
    claim: str | None = None
    rows: int = 0
    made_by: str | None = None
    problems: list[str] = field(default_factory=list)
    #: What was not checked and why (an older file, a column the chain does not hold).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Anchored:
    """What the chain vouches for: the submission event's content and the reviews."""

    code: str
    org: str
    payload: dict[str, Any]
    reviews: list[dict[str, Any]]


def verify_export(path: Path, catalog: Catalog, chain: Ledger, trust: TrustAnchors) -> FileCheck:
    """Check the export ``path`` (.xlsx, .csv or .pdf) against the chain ``chain``."""
    check = FileCheck()
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        _check_pdf(path, chain, trust, check)
        return check
    tables = filecells.read_tables(path)
    if tables.problem:
        check.problems.append(tables.problem)
        return check
    anchored = _anchored(tables.proof, chain, trust, check)
    if anchored is None:
        return check
    machine = _check_devices(catalog, tables, anchored, check)
    if machine is None:
        return check
    if tables.summary is not None:
        check.problems += filecells.summary_differences(tables, anchored, catalog)
        outcomes = Outcomes(anchored.reviews)
        check.problems += filecells.review_differences(tables, catalog, machine, anchored, outcomes)
        check.problems += filecells.stock_differences(tables, catalog, anchored)
        if not isinstance(anchored.payload.get("stock"), dict):
            check.notes.append("submitted by a version that anchored no stock: the stock and "
                               "outputs sheets are not checked")  # fmt: skip
    if tables.excluded is not None:
        _check_exclusions(catalog, tables, anchored, check, machine)
    else:
        check.notes.append("a CSV holds the device detail only: its summary and exclusions "
                           "are checked in the XLSX")  # fmt: skip
    return check


def _anchored(
    proof: dict[str, Any] | None, chain: Ledger, trust: TrustAnchors, check: FileCheck
) -> Anchored | None:
    """The claim's verified events from the file's proof, or None (a problem named)."""
    if not isinstance(proof, dict) or proof.get("format") != FILE_FORMAT:
        check.problems.append(f"the file carries no proof of format {FILE_FORMAT}")
        return None
    check.claim, check.made_by = str(proof.get("claim")), str(proof.get("made_by"))
    bundle = proof.get("bundle") or {}
    if (bundle.get("subject") or {}).get("claim") != check.claim:
        check.problems.append(f"the proof's events are not claim {check.claim}'s")
        return None
    try:
        results = verify_bundle(bundle, chain, trust)
    except (TrustMismatch, LedgerError, ValueError) as exc:
        check.problems.append(f"the chain refuses the proof: {exc}")
        return None
    events = [e.get("content") or {} for e in bundle.get("events", [])]
    for content, result in zip(events, results, strict=True):
        if result.status == LATE:  # on chain and intact; when it was anchored is a flag
            check.notes.append(f"claim event {result.id} ({content.get('type')}) is late: "
                               f"{result.detail}")  # fmt: skip
        elif result.status != VERIFIED:
            check.problems.append(f"claim event {result.id} ({content.get('type')}) is "
                                  f"{result.status} on the chain: {result.detail}")  # fmt: skip
    submitted = next((c for c in events if c.get("type") == CLAIM_SUBMITTED), None)
    if check.problems or submitted is None:
        if submitted is None:
            check.problems.append(f"claim {check.claim} was never submitted: nothing anchored")
        return None
    reviews = [dict(c.get("payload") or {}) for c in events if c.get("type") == CLAIM_REVIEWED]
    return Anchored(check.claim, str(submitted["org"]), dict(submitted["payload"]), reviews)


def _check_devices(
    catalog: Catalog, tables: filecells.Tables, anchored: Anchored, check: FileCheck
) -> list[list[Any]] | None:
    """The device rows against the anchored digests, then cell by cell; the machine rows."""
    machine, problem = filecells.machine_rows(tables.detail, tables.sheet_name)
    if problem:
        check.problems.append(problem)
        return None
    check.rows = len(machine)
    payload = anchored.payload
    digest = streamed_claim_digest(
        code=anchored.code, org=anchored.org, period=str(payload.get("period")),
        schedules=payload.get("schedules") or [], lines=tables.proof.get("lines") or [],
        devices=((m[0], m[2], m[4], m[8]) for m in machine), mode=str(payload.get("mode")),
        supplements=payload.get("supplements"),
    )  # fmt: skip
    if digest != payload.get("digest"):
        check.problems.append(f"{tables.sheet_name}: the device rows' 核验数据 give claim digest "
                              f"{digest}, the chain holds {payload.get('digest')}")  # fmt: skip
    rows = payload.get("rows")
    if isinstance(rows, dict) and rows.get("version") == ROWS_VERSION:
        if rows_digest(machine)["digest"] != rows.get("digest"):
            check.problems.append(f"{tables.sheet_name}: the device rows' 核验数据 do not give "
                                  "the anchored rows digest")  # fmt: skip
    else:
        check.notes.append("submitted by a version that anchored no rows digest: only device, "
                           "tier, rate and event digests of each row are anchored")  # fmt: skip
    claim = SimpleNamespace(code=anchored.code, mode=str(payload.get("mode") or "yuan"))
    outcomes = Outcomes(anchored.reviews)
    check.problems += filecells.detail_differences(tables, catalog, claim, machine, outcomes)
    check.notes.append("not checked: 提交后变更 (read from the plant's log when exported)")
    return machine


def _check_exclusions(
    catalog: Catalog,
    tables: filecells.Tables,
    anchored: Anchored,
    check: FileCheck,
    devices: list[list[Any]],
) -> None:
    """The exclusions sheet against the anchored exclusions; then the per-category sheet
    (``devices``: the verified device rows)."""
    excluded = anchored.payload.get("excluded") or {}
    machine, problem = filecells.exclusion_machine_rows(tables.excluded or [])
    if problem:
        check.problems.append(problem)
        return
    sheet = filecells.EXCLUDED
    count = int(excluded.get("count", -1))
    if len(machine) != count:
        found = Counter(str(m[2][0][0]) if m[2] else "?" for m in machine)
        missing = {k: int(v) - found.get(k, 0) for k, v in dict(excluded.get("by_reason") or
                   {}).items() if int(v) != found.get(k, 0)}  # fmt: skip
        check.problems.append(f"sheet {sheet}: {len(machine)} rows, the chain holds {count} "
                              f"excluded devices (missing by reason: {missing})")  # fmt: skip
        return
    hasher = StreamedExclusionsDigest()
    for qr_id, category, reasons in machine:
        hasher.add(qr_id, category, reasons)
    if hasher.finish() != excluded.get("digest"):
        check.problems.append(f"sheet {sheet}: the rows' 核验数据 do not give the anchored "
                              "exclusions digest")  # fmt: skip
    check.problems += filecells.exclusion_differences(tables, catalog, machine)
    check.problems += filecells.category_differences(tables, catalog, devices, machine)


def _check_pdf(path: Path, chain: Ledger, trust: TrustAnchors, check: FileCheck) -> None:
    """The PDF's QR and printed facts against its attached proof, verified on the chain."""
    proof, qr, text = _pdf_parts(path)
    anchored = _anchored(proof, chain, trust, check)
    if anchored is None:
        return
    digest = str(anchored.payload.get("digest"))
    if qr is None:
        check.problems.append("page 1: no QR code could be read")
    else:
        url = urlparse(qr)
        found = (parse_qs(url.query).get("digest") or [""])[0]
        if found != digest:
            check.problems.append(f"page 1 QR: digest {found!r}, the chain holds {digest}")
        if url.path.rpartition(VERIFY_PATH.rstrip("/") + "/")[2] != anchored.code:
            check.problems.append(f"page 1 QR: {qr!r} names another claim than {anchored.code}")
    check.problems += filecells.pdf_text_differences(text, anchored)


def _pdf_parts(path: Path) -> tuple[dict[str, Any] | None, str | None, str]:
    """(attached proof, text of the first page's QR, the text) — poppler and zxing-cpp."""
    import zxingcpp
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)],
                       check=False, capture_output=True)  # fmt: skip
        attached = out / PROOF_FILE
        try:
            proof = json.loads(attached.read_bytes()) if attached.exists() else None
        except ValueError:
            proof = None
        subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(path),
                        str(out / "page")], check=True, capture_output=True)  # fmt: skip
        page = next(out.glob("page*.png"))
        with Image.open(page) as image:
            found = zxingcpp.read_barcodes(image)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                              capture_output=True, text=True).stdout  # fmt: skip
    return proof, (found[0].text if found else None), text
