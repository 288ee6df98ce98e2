"""Pages of a list: the ``page`` and ``per_page`` query parameters, checked, and what they select.

The API's paged routes and the portal's paged pages read them here alike
(SPEC §4.1: bad input is a 4xx naming the field, never a 500): a page
number that is no whole number — ``page=²``, Arabic-Indic digits, 5,000
digits — is a 422 naming ``page``.

>>> paging = paging_of({"page": "2"}, per_page=3)
>>> paging.window(list("abcdefg")), paging.pages(7)
(['d', 'e', 'f'], 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from traceability.errors import ValidationFailed

#: The last page anyone may ask for.
MAX_PAGE = 10**6

T = TypeVar("T")


@dataclass(frozen=True)
class Paging:
    """Page ``page`` (from 1) of ``per_page`` items."""

    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def window(self, items: Sequence[T]) -> Sequence[T]:
        """The items of this page (none past the last)."""
        return items[self.offset : self.offset + self.per_page]

    def pages(self, total: int) -> int:
        """How many pages ``total`` items fill (one, when there are none)."""
        return max(1, -(-total // self.per_page))


def paging_of(args: Mapping[str, str], *, per_page: int, max_per_page: int | None = None) -> Paging:
    """The page the query ``args`` ask for; ``per_page`` is the caller's to choose (from 1 to
    ``max_per_page``) only where a maximum is given, else it is ``per_page``."""
    page = whole_number(args.get("page"), name="page", default=1, maximum=MAX_PAGE)
    if max_per_page is not None:
        per_page = whole_number(
            args.get("per_page"), name="per_page", default=per_page, maximum=max_per_page
        )
    return Paging(page, per_page)


def whole_number(raw: str | None, *, name: str, default: int, maximum: int) -> int:
    """A query parameter holding a whole number from 1 to ``maximum`` (absent: ``default``).

    ASCII digits only: ``str.isdigit`` also accepts "²", which ``int`` refuses,
    and ``int`` reads other scripts' digits ("١٢") and refuses 4,300 of them.
    """
    if raw is None or raw == "":
        return default
    digits = raw.lstrip("0")
    if not (raw.isascii() and raw.isdigit()) or len(digits) > len(str(maximum)):
        raise ValidationFailed(f"{name} must be a whole number from 1 to {maximum}", field=name)
    value = int(digits or "0")
    if not 1 <= value <= maximum:
        raise ValidationFailed(f"{name} must be a whole number from 1 to {maximum}", field=name)
    return value
