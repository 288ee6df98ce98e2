"""Review reasons (核减原因): the codes an auditor gives when rejecting or reinstating devices
of a submitted claim (SPEC §2.6, issue 18 item 5) — data, with their source.

``data/review_reasons.toml`` lists each code with its Chinese and English text,
the decisions that may give it and its source (an official document, or
"practice default", said so). A review names a code; a free-text note may
accompany it. Reviews recorded before the codes hold free text as their
reason: ``reason_text`` shows such text as it was recorded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from traceability.catalog.files import read_toml, validated

REVIEW_REASONS = Path(__file__).parent / "data" / "review_reasons.toml"

DecisionKind = Literal["approve", "reject", "reinstate"]


class ReviewReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    decisions: tuple[DecisionKind, ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    note_required: bool = False


class ReviewReasons(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    reasons: dict[str, ReviewReason] = Field(min_length=1)

    def for_decision(self, decision: str) -> dict[str, ReviewReason]:
        """The codes a ``decision`` may give, in the file's order."""
        return {c: r for c, r in self.reasons.items() if decision in r.decisions}


@cache
def load_review_reasons(path: Path = REVIEW_REASONS) -> ReviewReasons:
    """The codes in ``path``; a ``CatalogDataError`` names the file and the key at fault."""
    return validated(ReviewReasons, read_toml(path), path)


def reason_text(code: str | None, zh: bool) -> str:
    """A recorded reason in a reader's language: a code's text, or (recorded before the
    codes) the free text as it was recorded; "" for none."""
    if not code:
        return ""
    reason = load_review_reasons().reasons.get(code)
    if reason is None:
        return code
    return reason.zh if zh else reason.en
