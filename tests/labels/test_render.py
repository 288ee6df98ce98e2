"""QR labels: what is printed must scan back to the device URL."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from traceability import fonts
from traceability.fonts import FontMissing
from traceability.labels import render
from traceability.labels.ids import format_id, mint_id

PUBLIC_URL = "https://trace.example.cn/"
SVG = "{http://www.w3.org/2000/svg}"


def _decode(image: Image.Image) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp decodes the printed QR codes")
    return [r.text for r in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def _label(qr_id: str | None = None) -> tuple[str, str]:
    qr_id = qr_id or mint_id()
    return render.device_url(PUBLIC_URL, qr_id), format_id(qr_id)


def _pages(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/Type /Page\b(?!s)", pdf)


def _media_boxes(pdf: bytes) -> set[tuple[float, ...]]:
    return {
        tuple(round(float(v), 2) for v in box.split())
        for box in re.findall(rb"/MediaBox \[([^\]]+)\]", pdf)
    }


# --- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "public_url", ["https://trace.example.cn", "https://trace.example.cn/", "http://h:8080/t/"]
)
def test_device_url_joins_base_and_id_with_one_slash(public_url: str) -> None:
    assert render.device_url(public_url, "ABC") == f"{public_url.rstrip('/')}/d/ABC"


# --- PNG ------------------------------------------------------------------------------


@pytest.mark.parametrize("box_size", [4, 8, 12])
def test_png_decodes_back_to_the_device_url(box_size: int) -> None:
    url, caption = _label()
    image = Image.open(io.BytesIO(render.label_png(url, caption, box_size=box_size)))
    assert image.format == "PNG"
    assert _decode(image) == [url]


def test_png_has_room_for_the_caption_under_the_code() -> None:
    url, caption = _label()
    image = Image.open(io.BytesIO(render.label_png(url, caption, box_size=8)))
    assert image.height > image.width  # the caption band under the square symbol
    # The bottom band (below the symbol) carries ink: the caption was drawn.
    band = image.convert("L").crop((0, image.width, image.width, image.height))
    assert band.getextrema()[0] < 128


def test_png_survives_long_urls_and_captions() -> None:
    url = render.device_url("https://very-long-deployment-name.example.gov.cn/trace/", mint_id())
    caption = "a caption wider than the symbol itself, for sure"
    image = Image.open(io.BytesIO(render.label_png(url, caption, box_size=4)))
    assert _decode(image) == [url]


# --- SVG ------------------------------------------------------------------------------


def _rasterise_svg_path(root: ET.Element, scale: int = 8) -> Image.Image:
    """Draw qrcode's one-path SVG (``M x,y H x2 V y2 H x z`` squares) with Pillow."""
    path = root.find(f"{SVG}path")
    assert path is not None
    _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    squares = re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path.get("d", ""))
    assert squares
    for x, y, x2, y2 in squares:
        box = (float(x) * scale, float(y) * scale, float(x2) * scale - 1, float(y2) * scale - 1)
        draw.rectangle(box, fill=0)
    return image


def test_svg_is_xml_with_the_caption_as_text() -> None:
    url, caption = _label()
    root = ET.fromstring(render.label_svg(url, caption))
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [caption]
    assert root.get("width", "").endswith("mm") and root.get("height", "").endswith("mm")


def test_svg_symbol_decodes_back_to_the_device_url() -> None:
    url, caption = _label()
    root = ET.fromstring(render.label_svg(url, caption))
    assert _decode(_rasterise_svg_path(root)) == [url]


def test_svg_escapes_markup_in_the_caption() -> None:
    url, _ = _label()
    caption = '<script>alert("x")</script> & 设备'
    root = ET.fromstring(render.label_svg(url, caption))
    assert [t.text for t in root.iter(f"{SVG}text")] == [caption]


# --- PDF sheets -----------------------------------------------------------------------


@pytest.mark.parametrize(("count", "pages"), [(1, 1), (32, 1), (33, 2), (40, 2), (64, 2), (65, 3)])
def test_a4_sheet_holds_32_labels_per_page(count: int, pages: int) -> None:
    pdf = render.label_sheet_pdf([_label() for _ in range(count)], layout="a4", title="S-1")
    assert pdf.startswith(b"%PDF-")
    assert len(_pages(pdf)) == pages
    assert _media_boxes(pdf) == {(0.0, 0.0, 595.28, 841.89)}


@pytest.mark.parametrize("count", [1, 3])
def test_thermal_sheet_is_one_50_by_30_mm_page_per_label(count: int) -> None:
    pdf = render.label_sheet_pdf([_label() for _ in range(count)], layout="thermal")
    assert len(_pages(pdf)) == count
    assert _media_boxes(pdf) == {(0.0, 0.0, round(50 / 25.4 * 72, 2), round(30 / 25.4 * 72, 2))}


@pytest.mark.skipif(shutil.which("pdffonts") is None, reason="pdffonts (poppler) not installed")
@pytest.mark.parametrize("layout", ["a4", "thermal"])
def test_sheets_embed_every_font_and_the_chinese_reads_back(layout: str, tmp_path: Path) -> None:
    url, caption = _label()
    sheet = tmp_path / "sheet.pdf"
    sheet.write_bytes(render.label_sheet_pdf([(url, caption)], layout=layout, title="苏州 拆解厂"))
    fonts = subprocess.run(["pdffonts", str(sheet)], capture_output=True, text=True, check=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows), fonts.stdout
    text = subprocess.run(["pdftotext", str(sheet), "-"], capture_output=True, text=True).stdout
    assert "废弃电器电子产品追溯标签" in text
    assert caption.split("-")[0] in text


def test_a_missing_cjk_font_is_an_error_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FontMissing, match="not a font file"):
        render.label_sheet_pdf([_label()], layout="a4", font=tmp_path / "none.ttc")
    monkeypatch.setattr(fonts, "SEARCH", (tmp_path,))  # a host without fonts-noto-cjk
    fonts.cjk_fonts.cache_clear()
    try:
        with pytest.raises(FontMissing, match="apt-get install fonts-noto-cjk"):
            render.label_sheet_pdf([_label()], layout="a4")
    finally:
        fonts.cjk_fonts.cache_clear()


def test_same_labels_give_the_same_pdf_bytes() -> None:
    items = [_label() for _ in range(3)]
    assert render.label_sheet_pdf(items, layout="a4") == render.label_sheet_pdf(items, layout="a4")


def test_an_empty_sheet_or_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError):
        render.label_sheet_pdf([], layout="a4")
    with pytest.raises(ValueError):
        render.label_sheet_pdf([_label()], layout="letter")  # type: ignore[arg-type]


def test_the_vector_symbol_drawn_in_pdfs_decodes_back_to_the_url() -> None:
    """The modules ``label_sheet_pdf`` draws, rasterised independently of the PDF library."""
    url, _ = _label()
    modules = render._qr_modules(url)
    scale, quiet = 6, render.QUIET_ZONE
    side = (len(modules) + 2 * quiet) * scale
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(modules):
        for c, dark in enumerate(row):
            if dark:
                x, y = (c + quiet) * scale, (r + quiet) * scale
                draw.rectangle((x, y, x + scale - 1, y + scale - 1), fill=0)
    assert _decode(image) == [url]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler) not installed")
@pytest.mark.parametrize(("layout", "count"), [("a4", 32), ("thermal", 2)])
def test_printed_pdf_pages_decode_back_to_every_url(
    layout: str, count: int, tmp_path: Path
) -> None:
    items = [_label() for _ in range(count)]
    sheet = tmp_path / "sheet.pdf"
    sheet.write_bytes(render.label_sheet_pdf(items, layout=layout))  # type: ignore[arg-type]
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", str(sheet), str(tmp_path / "page")], check=True
    )
    decoded = set()
    for page in sorted(tmp_path.glob("page*.png")):
        decoded.update(_decode(Image.open(page)))
    assert decoded == {url for url, _ in items}
