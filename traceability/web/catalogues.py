"""Export the handheld app's strings from the one catalogue to JSON (run at build time).

``python -m traceability.web.catalogues static/dist/i18n`` writes ``{tag}.json``
per language of :data:`traceability.web.i18n.LANGUAGES`: ``{msgid: text}``
for every translated message (English needs none: the msgids are English).
The JavaScript looks its strings up there and falls back to the msgid.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from traceability.web.i18n import LANGUAGES, TRANSLATIONS


def catalogue(locale: str) -> dict[str, str]:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        messages = read_po(f, locale=locale)
    return {
        m.id: m.string
        for m in messages
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for tag, locale in LANGUAGES.items():
        path = directory / f"{tag}.json"
        path.write_text(json.dumps(catalogue(locale), ensure_ascii=False, sort_keys=True))
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    for path in export(Path(argv[0] if argv else "static/dist/i18n")):
        print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
