"""Query parameters of the API's list routes: the page (``traceability.paging``), text filters."""

from __future__ import annotations

from flask import request

from traceability.errors import ValidationFailed
from traceability.paging import Paging, paging_of

MAX_PER_PAGE = 500


def requested_paging(per_page: int = 50, max_per_page: int = MAX_PER_PAGE) -> Paging:
    """The page of a list route: ``page`` from 1, ``per_page`` from 1 to ``max_per_page``."""
    return paging_of(request.args, per_page=per_page, max_per_page=max_per_page)


def text_arg(name: str, max_length: int = 64) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length or not raw.isprintable():
        raise ValidationFailed(f"{name} is not a valid value", field=name)
    return raw
