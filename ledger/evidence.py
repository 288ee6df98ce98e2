"""Evidence reports: a printable PDF carrying the proof bundles of what it lists.

An evidence report (a device's or an audit finding's, issue 20 item 5) is an
A4 PDF whose attached file ``evidence.json`` holds one proof bundle per
subject it names (``weee-trace-proof/1``, as ``python -m ledger.verify``
checks them), and whose first page's QR holds a verification URL with the
SHA-256 of that file's canonical JSON in its ``evidence`` query parameter.

``python -m ledger.verify REPORT.pdf --rpc URL --trust TRUST`` checks, with the
chain and the trust file alone:

* the attached file hashes to the QR's digest (a swapped or edited attachment
  fails, naming the digest the QR holds and the one the file gives);
* every bundle verifies against the chain, event by event;
* every event's digest is printed on the report (an edited page fails, naming
  the event whose digest is missing).

The PDF's parts are read with poppler's ``pdfdetach``, ``pdftoppm`` and
``pdftotext`` and the QR with zxing-cpp; nothing here imports the application.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from ledger.canonical import canonical_value

EVIDENCE_FORMAT = "weee-trace-evidence/1"
#: The attached file's name inside the PDF.
EVIDENCE_FILE = "evidence.json"
#: The QR URL's query parameter holding the evidence digest.
QR_PARAM = "evidence"


def evidence_digest(evidence: dict[str, Any]) -> str:
    """Hex SHA-256 of the evidence file's canonical JSON (RFC 8785): what the QR holds."""
    return hashlib.sha256(canonical_value(evidence)).hexdigest()


def qr_digest(text: str | None) -> str | None:
    """The evidence digest a QR's URL holds (None: none)."""
    if not text:
        return None
    found = parse_qs(urlparse(text).query).get(QR_PARAM)
    return found[0] if found else None


@dataclass
class PdfParts:
    """What a report holds: the attached evidence, the QR's text and the page text."""

    evidence: dict[str, Any] | None
    qr: str | None
    text: str
    problems: list[str] = field(default_factory=list)


def read_pdf(path: Path) -> PdfParts:
    """The attached evidence, the first page's QR and the text of ``path`` (poppler, zxing)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        problems: list[str] = []
        subprocess.run(["pdfdetach", "-saveall", "-o", str(out), str(path)],
                       check=False, capture_output=True)  # fmt: skip
        attached = out / EVIDENCE_FILE
        evidence = None
        if not attached.exists():
            problems.append(f"the PDF carries no attached {EVIDENCE_FILE}")
        else:
            try:
                evidence = json.loads(attached.read_bytes())
            except ValueError as exc:
                problems.append(f"the attached {EVIDENCE_FILE} is not JSON: {exc}")
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=False,
                              capture_output=True, text=True).stdout  # fmt: skip
        return PdfParts(evidence, _first_qr(path, out), text, problems)


def _first_qr(path: Path, out: Path) -> str | None:
    import zxingcpp
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "200", "-f", "1", "-l", "1", "-png", str(path),
                    str(out / "page")], check=False, capture_output=True)  # fmt: skip
    pages = sorted(out.glob("page*.png"))
    if not pages:
        return None
    with Image.open(pages[0]) as image:
        found = zxingcpp.read_barcodes(image)
    return found[0].text if found else None


def bundles_of(evidence: Any) -> list[dict[str, Any]]:
    """The proof bundles an evidence file holds; ValueError when it is not one."""
    if not isinstance(evidence, dict) or evidence.get("format") != EVIDENCE_FORMAT:
        raise ValueError(f"not an evidence file ({EVIDENCE_FORMAT})")
    bundles = evidence.get("bundles")
    if not isinstance(bundles, list) or not all(isinstance(b, dict) for b in bundles):
        raise ValueError("the evidence file's bundles are not a list of proof bundles")
    return bundles


def report_problems(parts: PdfParts) -> list[str]:
    """What in the report disagrees with its attached evidence (not yet the chain)."""
    problems = list(parts.problems)
    if parts.evidence is None:
        return problems
    found = qr_digest(parts.qr)
    digest = evidence_digest(parts.evidence)
    if parts.qr is None:
        problems.append("page 1: no QR code could be read")
    elif found != digest:
        problems.append(
            f"page 1 QR holds evidence digest {found}, the attached {EVIDENCE_FILE} "
            f"hashes to {digest}"
        )
    printed = re.sub(r"\s+", "", parts.text)
    try:
        bundles = bundles_of(parts.evidence)
    except ValueError as exc:
        return [*problems, str(exc)]
    for bundle in bundles:
        for event in bundle.get("events") or []:
            digest = str(event.get("digest"))
            if digest not in printed:
                event_id = (event.get("content") or {}).get("id", "?")
                problems.append(
                    f"event {event_id}: its digest {digest[:16]}… is not printed on the report"
                )
    return problems
