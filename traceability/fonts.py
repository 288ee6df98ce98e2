"""The CJK font PDFs embed (claims, label sheets): Debian's fonts-noto-cjk by default.

A PDF that only names a font (reportlab's STSong-Light) shows Chinese only
where the viewer has a matching font; embedding a subset of Noto Sans CJK SC
makes every viewer show it. The package is a system one, so a missing font is
a clear error naming it, never a PDF with empty boxes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from traceability.errors import TraceabilityError

PACKAGE = "fonts-noto-cjk"
FAMILY = "Noto Sans CJK SC"
#: Where Debian (and Ubuntu) install it.
SEARCH = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/share/fonts/noto-cjk"),
)
FILES = {"": "NotoSansCJK-Regular.ttc", "B": "NotoSansCJK-Bold.ttc"}
MONO_FAMILY = "Noto Sans Mono CJK SC"


class FontMissing(TraceabilityError):
    code = "font_missing"
    status = 503


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int  # the font's number inside a collection (.ttc); 0 otherwise


def _index_of(path: Path, family: str) -> int:
    if path.suffix.lower() != ".ttc":
        with TTFont(path, lazy=True):  # readable at all
            return 0
    with TTCollection(path, lazy=True) as collection:
        for number, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == family:
                return number
    return 0


@functools.cache
def cjk_fonts(override: Path | None = None) -> dict[str, FontFile]:
    """Regular ("") and bold ("B") faces; ``override`` (TRACE_CJK_FONT) serves both."""
    if override is not None:
        if not override.is_file():
            raise FontMissing(f"TRACE_CJK_FONT={override} is not a font file", field="cjk_font")
        face = FontFile(override, _index_of(override, FAMILY))
        return {"": face, "B": face}
    for directory in SEARCH:
        regular = directory / FILES[""]
        if regular.is_file():
            bold = directory / FILES["B"]
            faces = {"": FontFile(regular, _index_of(regular, FAMILY))}
            faces["B"] = FontFile(bold, _index_of(bold, FAMILY)) if bold.is_file() else faces[""]
            return faces
    raise FontMissing(
        f"PDFs embed the CJK font {FAMILY}, which is not installed: install the Debian "
        f"package {PACKAGE} (sudo apt-get install {PACKAGE}) or set TRACE_CJK_FONT "
        "to a .ttc/.otf/.ttf file with Chinese glyphs"
    )


def mono_font(override: Path | None = None) -> FontFile:
    """The monospaced face of the same collection (label IDs), or the regular face."""
    regular = cjk_fonts(override)[""]
    if regular.path.suffix.lower() != ".ttc":
        return regular
    index = _index_of(regular.path, MONO_FAMILY)
    return FontFile(regular.path, index) if index else regular
