"""QR labels: PNG and SVG for one device, PDF sheets for pre-minted batches.

Every label encodes the device URL ``{public base}/d/{ID}`` so any phone camera
opens the device page, and prints the grouped ID underneath (or beside) it so
the ID can be typed when a label is scuffed. All three formats use the same
encoder (``qrcode``, error correction M: survives ~15 % damage, which matters
on devices dragged across a plant floor) and keep the 4-module quiet zone that
scanners need.

Sheets carry the bilingual heading ``废弃电器电子产品追溯标签 / WEEE trace label``,
set in Noto Sans CJK SC, embedded (subset) by fpdf2 so every viewer and
printer shows it (a PDF that only names a CJK font, as reportlab's STSong-Light
does, shows Chinese only where the viewer has a matching font). The ID is set
in the same collection's monospaced face. Sizes are in millimetres.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.constants
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.compat.etree import ET
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage

from traceability.fonts import FontFile, cjk_fonts, mono_font

__all__ = [
    "LABEL_HEADING",
    "THERMAL_SIZE",
    "device_url",
    "label_png",
    "label_sheet_pdf",
    "label_svg",
]

LABEL_HEADING = "废弃电器电子产品追溯标签 / WEEE trace label"
CJK_FONT = "cjk"
MONO_FONT = "cjkmono"
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 requires around a QR symbol
PT = 25.4 / 72  # millimetres per point
REPRODUCIBLE_EPOCH = dt.datetime(1969, 12, 31, 19, 0, tzinfo=dt.UTC)

#: Thermal label stock, one label per page, in millimetres.
THERMAL_SIZE = (50.0, 30.0)
#: A4 label-stock grid: 4 × 8 cells of 45 × 32 mm, centred on the page.
A4 = (210.0, 297.0)
A4_COLUMNS, A4_ROWS = 4, 8
A4_CELL = (45.0, 32.0)

_PAD = 1.5


def device_url(public_url: str, qr_id: str) -> str:
    """The URL a label encodes: the device's public page."""
    return f"{public_url.rstrip('/')}/d/{qr_id}"


def label_png(url: str, caption: str, *, box_size: int = 8) -> bytes:
    """A QR label as PNG, caption centred under the code (for on-screen and ad-hoc printing)."""
    qr = _qr(url, box_size=box_size, border=QUIET_ZONE)
    code = qr.make_image(image_factory=PilImage).get_image().convert("L")
    font = _png_font(max(12, round(box_size * 2.5)))
    probe = ImageDraw.Draw(code)
    left, top, right, bottom = probe.textbbox((0, 0), caption, font=font)
    text_w, text_h = right - left, bottom - top
    margin = box_size * QUIET_ZONE
    width = max(code.width, text_w + 2 * margin)
    # The caption sits below the quiet zone, never inside it.
    height = code.height + text_h + margin
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(code, ((width - code.width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text(((width - text_w) // 2 - left, code.height - top), caption, font=font, fill=0)
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def label_svg(url: str, caption: str) -> bytes:
    """A QR label as standalone SVG (one path, white background), caption as ``<text>``.

    Units are millimetres (one module = 1 mm): the SVG prints at a known size
    and scales losslessly for any printer.
    """
    qr = _qr(url, box_size=10, border=QUIET_ZONE)
    image = qr.make_image(image_factory=SvgPathFillImage)
    root = image.get_image()
    side = image.units(image.pixel_size, text=False)
    # Fit the caption in the symbol's width (monospace glyphs are ~0.6 em wide).
    font_size = min(Decimal(4), side / (Decimal("0.62") * max(len(caption), 1)))
    font_size = font_size.quantize(Decimal("0.01"))
    caption_h = font_size * 2
    total_h = side + caption_h
    root.set("height", f"{total_h}mm")
    root.set("viewBox", f"0 0 {side} {total_h}")
    text = ET.SubElement(
        root,
        "text",
        {
            "x": str(side / 2),
            "y": str(side + font_size * Decimal("1.2")),
            "text-anchor": "middle",
            "font-family": "DejaVu Sans Mono, Menlo, Consolas, monospace",
            "font-size": str(font_size),
            "fill": "#000000",
        },
    )
    text.text = caption
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def label_sheet_pdf(
    items: Sequence[tuple[str, str]],
    *,
    layout: Literal["a4", "thermal"],
    title: str = "",
    font: Path | None = None,
) -> bytes:
    """A printable PDF of labels, ``items`` being ``(url, caption)`` pairs.

    ``"a4"``: A4 portrait, 4 × 8 labels of 45 × 32 mm per page, ``title`` and
    page numbers in the top margin. ``"thermal"``: one 50 × 30 mm page per
    label, for roll printers. QR codes are drawn as vectors, so they stay sharp
    at any printer resolution. ``font``: a CJK font file to embed instead of
    Debian's fonts-noto-cjk (``TRACE_CJK_FONT``).
    """
    if not items:
        raise ValueError("a label sheet needs at least one label")
    if layout not in ("a4", "thermal"):
        raise ValueError(f"unknown label layout {layout!r}: use 'a4' or 'thermal'")
    page_size = A4 if layout == "a4" else THERMAL_SIZE
    pdf = FPDF(unit="mm", format=page_size)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title or LABEL_HEADING)
    pdf.set_subject(LABEL_HEADING)
    pdf.set_creator("weee-traceability")
    # A fixed timestamp (fpdf2's reproducible-output epoch): the same sheet gives the same bytes.
    pdf.set_creation_date(REPRODUCIBLE_EPOCH)
    _add_fonts(pdf, cjk_fonts(font)[""], mono_font(font))
    if layout == "a4":
        _draw_a4_pages(pdf, items, title)
    else:
        for url, caption in items:
            pdf.add_page()
            _draw_label(pdf, 0, 0, *THERMAL_SIZE, url, caption)
    return bytes(pdf.output())


def _add_fonts(pdf: FPDF, regular: FontFile, mono: FontFile) -> None:
    pdf.add_font(CJK_FONT, "", str(regular.path), collection_font_number=regular.index)
    pdf.add_font(MONO_FONT, "", str(mono.path), collection_font_number=mono.index)


def _qr(url: str, *, box_size: int, border: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    qr.add_data(url)
    qr.make(fit=True)
    return qr


def _qr_modules(url: str) -> list[list[bool]]:
    """The symbol's dark/light modules without quiet zone, for vector drawing."""
    return [[bool(m) for m in row] for row in _qr(url, box_size=1, border=0).get_matrix()]


def _png_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font needs no system fonts: the same PNG on every host.
    return ImageFont.load_default(size=size)


def _draw_a4_pages(pdf: FPDF, items: Sequence[tuple[str, str]], title: str) -> None:
    page_w, page_h = A4
    cell_w, cell_h = A4_CELL
    per_page = A4_COLUMNS * A4_ROWS
    left = (page_w - A4_COLUMNS * cell_w) / 2
    top = (page_h - A4_ROWS * cell_h) / 2  # from the top edge (fpdf2's y grows downwards)
    pages = math.ceil(len(items) / per_page)
    for page in range(pages):
        pdf.add_page()
        header = " · ".join(part for part in (title, f"{page + 1}/{pages}") if part)
        pdf.set_font(CJK_FONT, size=8)
        pdf.text(left, top - 4, header)
        for slot, (url, caption) in enumerate(items[page * per_page : (page + 1) * per_page]):
            row, column = divmod(slot, A4_COLUMNS)
            x = left + column * cell_w
            y = top + row * cell_h
            _draw_cut_marks(pdf, x, y, cell_w, cell_h)
            _draw_label(pdf, x, y, cell_w, cell_h, url, caption)


def _draw_cut_marks(pdf: FPDF, x: float, y: float, w: float, h: float) -> None:
    """Faint corner ticks, so plain paper can be cut into labels too."""
    tick = 1.5
    pdf.set_draw_color(178)
    pdf.set_line_width(0.3 * PT)
    for cx, dx in ((x, tick), (x + w, -tick)):
        for cy, dy in ((y, tick), (y + h, -tick)):
            pdf.line(cx, cy, cx + dx, cy)
            pdf.line(cx, cy, cx, cy + dy)
    pdf.set_draw_color(0)


def _draw_label(pdf: FPDF, x: float, y: float, w: float, h: float, url: str, caption: str) -> None:
    """One label in the box (x, y from the top-left; w, h): heading across the top,
    QR left, caption right."""
    heading_size = _fit(pdf, LABEL_HEADING, CJK_FONT, w - 2 * _PAD, 6.0)
    heading_h = heading_size * PT
    pdf.set_text_color(0)
    pdf.set_font(CJK_FONT, size=heading_size)
    pdf.text(x + _PAD, y + _PAD + heading_h * 0.85, LABEL_HEADING)

    side = min(h - 2 * _PAD - heading_h - 0.5, (w - 2 * _PAD) * 0.6)
    qr_x, qr_y = x + _PAD, y + h - _PAD - side
    _draw_qr(pdf, qr_x, qr_y, side, _qr_modules(url))

    text_x = qr_x + side + 0.5
    text_w = x + w - _PAD - text_x
    font = MONO_FONT if caption.isascii() else CJK_FONT
    lines = _caption_lines(caption)
    size = min(_fit(pdf, line, font, text_w, 10.0) for line in lines)
    size = min(size, side / (len(lines) * 1.25 * PT))
    pdf.set_font(font, size=size)
    line_h = size * 1.25 * PT
    block_h = line_h * len(lines)
    baseline = qr_y + side / 2 - block_h / 2 + size * PT
    for line in lines:
        pdf.text(text_x, baseline, line)
        baseline += line_h


def _draw_qr(pdf: FPDF, x: float, y: float, side: float, modules: list[list[bool]]) -> None:
    """The symbol as filled rectangles, one per horizontal run of dark modules.

    ``side`` includes the quiet zone, so nothing else is ever drawn inside it;
    (x, y) is its top-left corner.
    """
    count = len(modules)
    unit = side / (count + 2 * QUIET_ZONE)
    origin_x = x + QUIET_ZONE * unit
    origin_y = y + QUIET_ZONE * unit
    pdf.set_fill_color(0)
    for r, row in enumerate(modules):
        c = 0
        while c < count:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < count and row[c]:
                c += 1
            pdf.rect(origin_x + start * unit, origin_y + r * unit, (c - start) * unit, unit, "F")


def _caption_lines(caption: str) -> list[str]:
    """Two balanced lines split at a hyphen group (``7KQ2-M9XD`` / ``4TZP-AB``).

    A grouped ID on one line would need a tiny font in the space beside the
    QR; hyphens are ignored when an ID is typed back, so dropping the one at
    the break is harmless.
    """
    groups = [g for g in re.split(r"[-\s]+", caption) if g]
    if len(groups) < 2:
        return [caption]
    half = (len(groups) + 1) // 2
    return ["-".join(groups[:half]), "-".join(groups[half:])]


def _fit(pdf: FPDF, text: str, font: str, width: float, max_size: float) -> float:
    """Largest font size in points (≤ max_size) at which ``text`` fits in ``width`` mm."""
    pdf.set_font(font, size=1.0)
    at_one = pdf.get_string_width(text)
    return max_size if at_one <= 0 else min(max_size, width / at_one)
