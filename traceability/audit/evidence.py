"""Evidence reports (issue 20 item 5): a device's or a finding's records as a printable PDF.

The PDF lists each record (event) with its digest and where it was anchored —
the batch root, the transaction, the block and the block's time read from the
chain — in zh-CN or English, with the CJK font embedded (``traceability.fonts``,
as the claim PDF). It carries the proof bundles of what it lists as the attached
``evidence.json`` and a QR holding a verification URL with that file's digest,
so ``python -m ledger.verify REPORT.pdf --rpc URL --trust TRUST`` checks it with
the chain alone (``ledger.evidence``). A claim's evidence report is the claim PDF
(``claims.exports.pdf``), checked by ``traceability claims verify``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlmodel import Session

from ledger.canonical import canonical_value
from ledger.errors import LedgerError
from ledger.evidence import EVIDENCE_FILE, EVIDENCE_FORMAT, QR_PARAM, evidence_digest
from traceability.anchoring.trust import TrustedLedger
from traceability.fonts import cjk_fonts, mono_font
from traceability.labels.ids import format_id
from traceability.periods import beijing_text
from traceability.verification.bundle import device_bundle, events_bundle
from traceability.verification.services import event_rows

FONT, MONO = "cjk", "mono"
#: At most this many devices' bundles go into a finding's report (the count says how many).
DEVICES_LISTED = 20

#: The report's own words, (zh-CN, English).
WORDS: dict[str, tuple[str, str]] = {
    "device_title": ("设备证据报告", "Device evidence report"),
    "finding_title": ("审计发现证据报告", "Audit finding evidence report"),
    "records_of": ("记录：%s", "Records of %s"),
    "no": ("序号", "No."),
    "event": ("事件", "Event"),
    "type": ("类型", "Type"),
    "recorded": ("记录时间（北京时间）", "Recorded (Beijing time)"),
    "digest": ("摘要 SHA-256", "Digest SHA-256"),
    "anchor": ("锚定", "Anchor"),
    "pending": ("待锚定", "pending"),
    "anchors": ("锚定批次", "Anchor batches"),
    "root": ("批次根", "Batch root"),
    "tx": ("交易", "Transaction"),
    "block": ("区块", "Block"),
    "block_time": ("区块时间（北京时间）", "Block time (Beijing time)"),
    "unread": ("未能读取链上记录", "not read from the chain"),
    "more": ("另有 %s 台设备未列出", "%s more devices not listed"),
    "qr": ("核验二维码", "Verification QR"),
    "evidence_digest": ("证据摘要", "Evidence digest"),
    "generated": ("生成时间：%s（北京时间）", "Generated: %s (Beijing time)"),
    "page": ("第 %s 页", "page %s"),
    "how": (
        "核验：本文件附有核验数据（evidence.json），二维码含核验网址与其摘要。"
        "仅凭区块链与监管部门发布的信任文件即可核验，无需企业数据库：",
        "Verify with the chain and the regulator's trust file alone, without the plant's "
        "database: the report carries its proof (evidence.json), the QR holds a verification "
        "URL with its digest.",
    ),
}


@dataclass(frozen=True)
class Report:
    """What a report shows above its records: a title, facts (label, value) and where its QR
    leads (the verification URL, before the digest)."""

    title: str
    facts: list[tuple[str, str]]
    url: str
    bundles: list[dict[str, Any]]
    about: dict[str, Any]
    more_devices: int = 0


def device_evidence(session: Session, ledger: TrustedLedger, qr_id: str) -> list[dict[str, Any]]:
    """The device's proof bundle, as the one bundle of its report."""
    return [device_bundle(session, ledger, qr_id)]


def finding_evidence(
    session: Session, ledger: TrustedLedger, devices: Sequence[str], lot: str | None
) -> list[dict[str, Any]]:
    """The bundles of a finding's lot (when its subject is one) and devices (the first
    ``DEVICES_LISTED``)."""
    bundles = []
    if lot is not None:
        rows = event_rows(session, lot=lot)
        if rows:
            bundles.append(events_bundle(session, ledger, rows, {"lot": lot}))
    for qr_id in list(devices)[:DEVICES_LISTED]:
        bundles.append(device_bundle(session, ledger, qr_id))
    return bundles


def evidence_file(report: Report) -> dict[str, Any]:
    """The attached file: what the report is about and the proof bundles it lists."""
    return {"format": EVIDENCE_FORMAT, "about": report.about, "bundles": report.bundles}


def qr_text(url: str, digest: str) -> str:
    """The QR: the verification URL with the evidence digest in its query."""
    return f"{url}{'&' if '?' in url else '?'}{QR_PARAM}={digest}"


def block_times(ledger: TrustedLedger, bundles: list[dict[str, Any]]) -> dict[str, int | None]:
    """Each anchored root's block time (Unix seconds) as the chain says; None: not read."""
    roots = {
        str(e["anchor"]["root"]) for b in bundles for e in b.get("events", []) if e.get("anchor")
    }
    times: dict[str, int | None] = {}
    for root in sorted(roots):
        try:
            record = ledger.chain.get_anchor(root) if ledger.chain is not None else None
        except (LedgerError, ValueError):
            record = None
        times[root] = record.timestamp if record is not None else None
    return times


class _EvidencePdf(FPDF):
    page_word = "%s"
    code = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, f"{self.code} · {self.page_word % self.page_no()}/{{nb}}", align="C")


def evidence_pdf(
    report: Report,
    *,
    zh: bool,
    times: dict[str, int | None],
    type_name: Callable[[str], str],
    now: dt.datetime,
    font_override: Path | None = None,
) -> bytes:
    """The report as an A4 PDF, in zh-CN (``zh``) or English, its evidence attached."""
    evidence = evidence_file(report)
    digest = evidence_digest(evidence)
    pdf = _document(report, zh, font_override, now)
    _head(pdf, report, zh, qr_text(report.url, digest), digest)
    for bundle in report.bundles:
        _records(pdf, bundle, zh, type_name)
        _anchors(pdf, bundle, zh, times)
    if report.more_devices:
        pdf.multi_cell(pdf.epw, 5, _w("more", zh) % report.more_devices, new_x="LMARGIN",
                       new_y="NEXT")  # fmt: skip
    _how(pdf, zh, now)
    pdf.embed_file(bytes=canonical_value(evidence), basename=EVIDENCE_FILE,
                   mime_type="application/json", desc="python -m ledger.verify",
                   compress=True)  # fmt: skip
    return bytes(pdf.output())


def _w(key: str, zh: bool) -> str:
    return WORDS[key][0 if zh else 1]


def _document(report: Report, zh: bool, font_override: Path | None, now: dt.datetime) -> Any:
    pdf = _EvidencePdf(orientation="P", unit="mm", format="A4")
    pdf.code, pdf.page_word = report.about.get("code", ""), _w("page", zh)
    pdf.set_title(report.title)
    pdf.set_creator("weee-traceability")
    pdf.set_creation_date(now)
    for style, face in cjk_fonts(font_override).items():
        pdf.add_font(FONT, style, str(face.path), collection_font_number=face.index)
    mono = mono_font(font_override)
    pdf.add_font(MONO, "", str(mono.path), collection_font_number=mono.index)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    return pdf


def _head(pdf: Any, report: Report, zh: bool, qr: str, digest: str) -> None:
    """Title, facts on the left, the QR on the right with the evidence digest under it."""
    pdf.set_font(FONT, "B", 15)
    pdf.cell(pdf.epw, 9, report.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    top, side = pdf.get_y(), 36
    for label, value in report.facts:
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(42, 6, label)
        pdf.set_font(FONT, size=9.5)
        pdf.multi_cell(pdf.epw - side - 46, 6, value, new_x="LMARGIN", new_y="NEXT", align="L")
    after = pdf.get_y()
    x = pdf.l_margin + pdf.epw - side
    image = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6,
                          border=4)  # fmt: skip
    image.add_data(qr)
    image.make(fit=True)
    pdf.image(image.make_image().get_image(), x=x, y=top, w=side, h=side)
    pdf.set_xy(x, top + side)
    pdf.set_font(FONT, size=7)
    pdf.cell(side, 4, _w("qr", zh), align="C")
    pdf.set_y(max(after, top + side + 4) + 2)
    pdf.set_font(FONT, size=8)
    pdf.cell(28, 5, _w("evidence_digest", zh))
    pdf.set_font(MONO, size=7.5)
    pdf.cell(0, 5, digest, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _subject_name(bundle: dict[str, Any]) -> str:
    subject = bundle.get("subject") or {}
    if subject.get("device"):
        return format_id(str(subject["device"]))
    return str(subject.get("lot") or subject.get("claim") or "?")


def _records(pdf: Any, bundle: dict[str, Any], zh: bool, type_name: Callable[[str], str]) -> None:
    """One row per event: number, type, recorded time, digest (whole), anchor batch."""
    roots = _roots(bundle)
    pdf.set_font(FONT, "B", 10.5)
    pdf.cell(pdf.epw, 7, _w("records_of", zh) % _subject_name(bundle), new_x="LMARGIN",
             new_y="NEXT")  # fmt: skip
    pdf.set_font(FONT, size=8)
    heading = FontFace(emphasis="BOLD", fill_color=(221, 235, 247))
    with pdf.table(col_widths=(8, 26, 32, 104, 20), headings_style=heading,
                   text_align=("CENTER", "LEFT", "LEFT", "LEFT", "LEFT"),
                   line_height=4.6) as table:  # fmt: skip
        table.row((_w("no", zh), _w("type", zh), _w("recorded", zh), _w("digest", zh),
                   _w("anchor", zh)))  # fmt: skip
        for n, event in enumerate(bundle.get("events") or [], start=1):
            content = event.get("content") or {}
            anchor = event.get("anchor")
            row = table.row()
            row.cell(str(n))
            row.cell(type_name(str(content.get("type", ""))))
            row.cell(_beijing(content.get("recorded_at")))
            row.cell(str(event.get("digest", "")), style=FontFace(family=MONO, size_pt=7))
            row.cell(f"A{roots.index(anchor['root']) + 1}" if anchor else _w("pending", zh))
    pdf.ln(2)


def _roots(bundle: dict[str, Any]) -> list[str]:
    roots: list[str] = []
    for event in bundle.get("events") or []:
        anchor = event.get("anchor")
        if anchor and anchor["root"] not in roots:
            roots.append(anchor["root"])
    return roots


def _anchors(pdf: Any, bundle: dict[str, Any], zh: bool, times: dict[str, int | None]) -> None:
    """Each batch the events were anchored in: root, transaction, block, block time."""
    batches = {e["anchor"]["root"]: e["anchor"] for e in bundle.get("events") or []
               if e.get("anchor")}  # fmt: skip
    if not batches:
        return
    pdf.set_font(FONT, "B", 9)
    pdf.cell(pdf.epw, 6, _w("anchors", zh), new_x="LMARGIN", new_y="NEXT")
    for n, root in enumerate(_roots(bundle), start=1):
        anchor, stamp = batches[root], times.get(root)
        when = (beijing_text(dt.datetime.fromtimestamp(stamp, dt.UTC)) if stamp is not None
                else _w("unread", zh))  # fmt: skip
        pdf.set_font(FONT, "B", 8)
        pdf.cell(10, 4.6, f"A{n}")
        pdf.set_font(FONT, size=8)
        pdf.cell(0, 4.6, f"{_w('block', zh)} {anchor.get('block_number') or '—'} · "
                 f"{_w('block_time', zh)} {when}", new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        for key, value in (("root", root), ("tx", anchor.get("tx_hash") or "—")):
            pdf.set_x(pdf.l_margin + 10)
            pdf.set_font(FONT, size=7.5)
            pdf.cell(20, 4.2, _w(key, zh))
            pdf.set_font(MONO, size=7)
            pdf.cell(0, 4.2, str(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _beijing(value: Any) -> str:
    try:
        return beijing_text(dt.datetime.fromisoformat(str(value)))
    except (TypeError, ValueError):
        return "—"


def _how(pdf: Any, zh: bool, now: dt.datetime) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(pdf.epw, 4.6, _w("how", zh), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(MONO, size=7.5)
    pdf.multi_cell(pdf.epw, 4.6, "python -m ledger.verify REPORT.pdf --rpc URL --trust TRUST.json",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(pdf.epw, 4.6, _w("generated", zh) % beijing_text(now), new_x="LMARGIN",
                   new_y="NEXT")  # fmt: skip
