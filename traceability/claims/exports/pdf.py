"""The PDF summary: the 拆解处理情况表 in Chinese (and English), with a QR of the claim digest.

fpdf2 embeds a subset of the CJK font (``traceability.fonts``), so any viewer
shows the text, and ``pdftotext`` reads it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from fpdf import FPDF
from fpdf.enums import Align, TableCellFillMode
from fpdf.fonts import FontFace

from ledger.canonical import canonical_value
from traceability.claims.eligibility import REASONS
from traceability.claims.exports.summary import Summary, check_text
from traceability.claims.policy import FLAGS
from traceability.claims.replay import ClaimReplay
from traceability.db import utcnow
from traceability.fonts import cjk_fonts
from traceability.periods import beijing_text

FONT = "cjk"
#: The proof attached to the PDF (``exports.machine.FILE_FORMAT``).
PROOF_FILE = "claim-proof.json"
#: The verification URL's path, before the claim code.
VERIFY_PATH = "/verify/claims/"


class _ClaimPdf(FPDF):
    claim_code = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(
            0,
            6,
            f"{self.claim_code} · 第 {self.page_no()}/{{nb}} 页 page",
            align="C",
        )


def _qr_image(text: str) -> Any:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image().get_image()


def money(value: int) -> str:
    return f"{value:,}"


def claim_pdf(
    summary: Summary, *, font_override: Path | None = None, public_url: str = ""
) -> bytes:
    """The claim's 拆解处理情况表 as an A4 PDF to print, sign and file (SPEC §2.6); its QR
    holds the verification URL with the digest, and the proof is attached (``PROOF_FILE``)."""
    pdf = _document(summary, font_override)
    _title(pdf, summary.replay)
    _facts(pdf, summary, qr_text(public_url, summary.claim.code, summary.replay.digest))
    yuan = summary.claim.mode != "quantity"
    _lines_table(pdf, summary.replay, yuan)
    _totals(pdf, summary.replay, yuan)
    _schedules_and_exclusions(pdf, summary)
    _conditions_and_flags(pdf, summary)
    _review_table(pdf, summary)
    _integrity(pdf, summary)
    _signatures(pdf)
    pdf.embed_file(
        bytes=canonical_value(summary.proof),
        basename=PROOF_FILE,
        mime_type="application/json",
        desc="核验数据 (traceability claims verify)",
        compress=True,
    )
    return bytes(pdf.output())


def qr_text(public_url: str, code: str, digest: str) -> str:
    """What the QR holds: the claim's verification URL, the anchored digest in its query."""
    return f"{public_url.rstrip('/')}{VERIFY_PATH}{code}?digest={digest}"


def _document(summary: Summary, font_override: Path | None) -> _ClaimPdf:
    """An A4 document with its metadata and the CJK faces, at its first page."""
    claim, replay = summary.claim, summary.replay
    faces = cjk_fonts(font_override)
    pdf = _ClaimPdf(orientation="P", unit="mm", format="A4")
    pdf.claim_code = claim.code
    pdf.set_title(f"拆解处理情况表 {claim.code}")
    pdf.set_subject(f"claim digest {replay.digest}")
    pdf.set_creator("weee-traceability")
    pdf.set_creation_date(utcnow())
    for style, face in faces.items():
        pdf.add_font(FONT, style, str(face.path), collection_font_number=face.index)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    return pdf


def _title(pdf: FPDF, replay: ClaimReplay) -> None:
    """The form's title, and a warning in red when the records disagree with the events."""
    width = pdf.epw
    pdf.set_font(FONT, "B", 15)
    pdf.cell(width, 8, "废弃电器电子产品拆解处理情况表", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(
        width,
        6,
        "WEEE dismantling subsidy claim — summary",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if not replay.ok:
        pdf.set_text_color(180, 0, 0)
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(
            width,
            5.5,
            "数据库记录与锚定事件不符 (projection_mismatch)：下列数字按锚定事件重算。"
            "The database disagrees with the claim's anchored events; the figures below are "
            "replayed from the events.",
            new_x="LMARGIN",
            new_y="NEXT",
            align="C",
        )
        pdf.set_text_color(0, 0, 0)
    pdf.ln(3)


def _facts(pdf: FPDF, summary: Summary, qr: str) -> None:
    """Header facts on the left, the QR of the digest on the right."""
    claim = summary.claim
    width = pdf.epw
    top = pdf.get_y()
    qr_side = 34
    facts = [
        ("处理企业 Plant", summary.plant_name),
        ("许可证编号 Licence", summary.licence or "—"),
        ("申报期 Period", f"{claim.period} ({summary.period_text})"),
        ("申报单号 Claim", claim.code),
        ("状态 State", summary.state_text),
        ("申报方式 Mode", summary.mode_text),
    ]
    if summary.supplement_text:
        facts.append(("补报 Supplement", summary.supplement_text))
    pdf.set_font(FONT, size=9.5)
    for label, value in facts:
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(34, 6, label)
        pdf.set_font(FONT, size=9.5)
        pdf.multi_cell(width - qr_side - 38, 6, value, new_x="LMARGIN", new_y="NEXT", align="L")
    qr_x = pdf.l_margin + width - qr_side
    pdf.image(_qr_image(qr), x=qr_x, y=top, w=qr_side, h=qr_side)
    after_facts = pdf.get_y()
    pdf.set_xy(qr_x, top + qr_side)
    pdf.set_font(FONT, size=7)
    pdf.cell(qr_side, 4, "申报摘要 claim digest", align="C")
    pdf.set_xy(pdf.l_margin, after_facts)
    pdf.set_y(max(pdf.get_y(), top + qr_side + 4) + 3)


def _lines_table(pdf: FPDF, replay: ClaimReplay, yuan: bool = True) -> None:
    """One row per claim line (category, tier, rate, units, amount), then the total; a
    quantity certification (``yuan`` False) shows no rate or amount."""
    shown = money if yuan else (lambda _: "—")
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=(9, 24, 73, 19, 19, 28),
        text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=_heading_style(),
        cell_fill_color=(244, 247, 251),
        cell_fill_mode=TableCellFillMode.ROWS,
        line_height=5.2,
    ) as table:
        table.row(("序号", "类别", "补贴档次", "单价(元/台)", "数量(台)", "金额(元)"))
        for n, line in enumerate(replay.lines, start=1):
            table.row(
                (
                    str(n),
                    line["category_zh"],
                    line["tier_zh"],
                    shown(line["rate"]),
                    money(line["units"]),
                    shown(line["amount"]),
                )
            )
        pdf.set_font(FONT, "B", 9.5)
        total = table.row()
        total.cell("合计 Total", colspan=4, align=Align.R)
        total.cell(money(replay.units), align=Align.R)
        total.cell(shown(replay.total_yuan), align=Align.R)


def _totals(pdf: FPDF, replay: ClaimReplay, yuan: bool = True) -> None:
    """The amount claimed (a quantity certification: the units) and, once reviewed, the
    amount approved."""
    width = pdf.epw
    pdf.set_font(FONT, size=9)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(
        width,
        7,
        f"申报金额合计 Total claimed: {money(replay.total_yuan)} 元 (yuan)"
        if yuan
        else f"核定数量合计 Units certified: {money(replay.units)} 台 (no yuan)",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if replay.approved_yuan is not None:
        pdf.cell(
            width,
            7,
            f"核准金额 Approved: {money(replay.approved_yuan)} 元 (yuan)",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)


def _schedules_and_exclusions(pdf: FPDF, summary: Summary) -> None:
    """The rate schedules applied, and the devices not claimed counted by reason."""
    width = pdf.epw
    _section(pdf, "补贴标准 Rate schedules applied")
    for text in summary.schedule_texts or ["—"]:
        pdf.multi_cell(width, 5, "· " + text, new_x="LMARGIN", new_y="NEXT", align="L")
    _section(pdf, f"未申报设备 Devices not claimed: {money(summary.replay.excluded)}")
    for code, count in summary.excluded_by_reason:
        zh, en = REASONS.get(code, (code, code))
        pdf.multi_cell(
            width,
            5,
            f"· {zh} ({code}): {money(count)} — {en}",
            new_x="LMARGIN",
            new_y="NEXT",
            align="L",
        )


def _conditions_and_flags(pdf: FPDF, summary: Summary) -> None:
    """The enterprise conditions as stated, and the claimed devices per row flag."""
    width = pdf.epw
    _section(pdf, "企业条件 Enterprise conditions")
    for text in summary.condition_texts or ("—",):
        pdf.multi_cell(width, 5, "· " + text, new_x="LMARGIN", new_y="NEXT", align="L")
    _section(pdf, "标记 Flagged devices (claimed, for the reviewer)")
    for code, count in summary.flagged or (("", 0),):
        zh, en = FLAGS.get(code, ("无", "none"))
        line = f"· {zh} ({code}): {money(count)} — {en}" if code else "· 无 none"
        pdf.multi_cell(width, 5, line, new_x="LMARGIN", new_y="NEXT", align="L")
    if summary.policy_text:
        pdf.multi_cell(width, 5, f"标记政策 Flag policy: {summary.policy_text}",
                       new_x="LMARGIN", new_y="NEXT", align="L")  # fmt: skip


def _review_table(pdf: FPDF, summary: Summary) -> None:
    """The regulator's 审核核定 table, once the claim was reviewed."""
    if not summary.review_table:
        return
    _section(pdf, "审核核定 Review (claimed / approved / deducted)")
    pdf.set_font(FONT, size=7.5)
    headers = ("类别", "档次", "申报(台)", "申报(元)", "核定(台)", "核定(元)", "核减(台)",
               "核减(元)", "核减原因代码", "待审(台)")  # fmt: skip
    with pdf.table(
        col_widths=(22, 40, 11, 13, 11, 13, 11, 13, 30, 11),
        text_align=("LEFT", "LEFT", *["RIGHT"] * 6, "LEFT", "RIGHT"),
        headings_style=_heading_style(),
        line_height=4.6,
    ) as table:
        table.row(headers)
        for row in summary.review_table:
            table.row(["" if v is None else (money(v) if isinstance(v, int) else str(v))
                       for v in row[1:]])  # fmt: skip
    pdf.set_font(FONT, size=9)


def _integrity(pdf: FPDF, summary: Summary) -> None:
    """The digest, its anchor, the check's outcome, how to verify, and when this was made."""
    replay = summary.replay
    width = pdf.epw
    _section(pdf, "完整性 Integrity")
    pdf.set_font(FONT, size=8.5)
    pdf.multi_cell(
        width,
        4.6,
        f"申报摘要 Claim digest (SHA-256): {replay.digest}",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    pdf.multi_cell(
        width, 4.6, f"锚定 Anchor: {summary.anchor_text}", new_x="LMARGIN", new_y="NEXT", align="L"
    )
    pdf.multi_cell(
        width, 4.6, f"核对 Check: {check_text(replay)}", new_x="LMARGIN", new_y="NEXT", align="L"
    )
    pdf.multi_cell(
        width,
        4.6,
        "核验：右上角二维码含核验网址与申报摘要，本文件附有核验数据（claim-proof.json）；"
        "`traceability claims verify 文件 --trust 信任文件 --rpc 节点` 仅凭区块链核验本 PDF 及"
        "导出的 XLSX/CSV，无需企业数据库。Verify this PDF, the XLSX or the CSV with the chain "
        "alone: `traceability claims verify FILE --trust TRUST --rpc URL`.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    pdf.multi_cell(
        width,
        4.6,
        f"生成时间 Generated: {beijing_text(utcnow())} (北京时间 Beijing time)",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )


def _signatures(pdf: FPDF) -> None:
    """Where the plant signs and seals the form (a finance office files it signed)."""
    pdf.ln(6)
    pdf.set_font(FONT, size=9.5)
    third = pdf.epw / 3
    for label in ("填报人 Prepared by", "企业负责人 Approved by", "企业盖章 Company seal"):
        pdf.cell(third, 6, label)
    pdf.ln(12)
    for _ in range(3):
        pdf.cell(third, 6, "签字 Signature: ____________")
    pdf.ln(9)
    for _ in range(3):
        pdf.cell(third, 6, "日期 Date: ______________")
    pdf.ln()


def _heading_style() -> Any:
    return FontFace(emphasis="BOLD", fill_color=(221, 235, 247))


def _section(pdf: FPDF, title: str) -> None:
    pdf.ln(1.5)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(pdf.epw, 6.5, title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT, size=9)
