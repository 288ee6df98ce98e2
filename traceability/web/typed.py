"""What a person typed or scanned, said back in the page's language (the domain's
messages are English): shared by the portal's search and the public device page."""

from __future__ import annotations

from flask_babel import gettext as _

from traceability.errors import TraceabilityError
from traceability.labels.ids import CheckCharacterMismatch

#: How much of what was typed a message repeats.
SHOWN_CHARS = 40


def shown(raw: str) -> str:
    """``raw`` as a message repeats it: cut at ``SHOWN_CHARS``."""
    return raw if len(raw) <= SHOWN_CHARS else f"{raw[:SHOWN_CHARS]}…"


def mistyped(raw: str, error: TraceabilityError) -> str | None:
    """The message for an ID whose check character does not match (else None)."""
    if not isinstance(error, CheckCharacterMismatch):
        return None
    return _(
        "“%(q)s”: the check character does not match the other characters. A typo? "
        "Retype or re-scan it.",
        q=shown(raw),
    )
