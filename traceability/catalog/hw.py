"""Hazardous-waste codes of the 国家危险废物名录（2021年版）: their format and categories.

A waste code (废物代码) is eight digits ``NNN-NNN-CC``: the industry source,
the waste's number within it and, last, its category ``CC``, which the
名录 writes ``HWCC`` (HW01–HW50). A 危险废物经营许可证 licenses either whole
categories (``HW49``) or single codes (``900-045-49``); a fraction, a
manifest and a lot carry a full code. Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from typing import Any

from traceability.errors import ValidationFailed

#: ``NNN-NNN-CC``: 名录 2021, 附表 "废物代码" column.
CODE = re.compile(r"^\d{3}-\d{3}-(\d{2})$")
#: ``HWCC``: 名录 2021, 附表 "废物类别" column (HW01–HW50).
CATEGORY = re.compile(r"^HW(\d{2})$")
FIRST_CATEGORY, LAST_CATEGORY = 1, 50


def _in_range(number: str) -> bool:
    return FIRST_CATEGORY <= int(number) <= LAST_CATEGORY


def _text(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def is_hw_code(value: Any) -> bool:
    """Whether ``value`` is a waste code ``NNN-NNN-CC`` of a category HW01–HW50."""
    found = CODE.match(value) if isinstance(value, str) else None
    return found is not None and _in_range(found.group(1))


def hw_category(code: str) -> str:
    """The category of a waste code (``900-045-49`` → ``HW49``) or of a category itself."""
    return code if CATEGORY.match(code) else f"HW{code[-2:]}"


def check_hw_code(value: Any, *, field: str) -> str:
    """A waste code as typed (spaces trimmed) or a ``ValidationFailed`` naming ``field``."""
    code = _text(value)
    if not is_hw_code(code):
        raise ValidationFailed(
            f"{field} must be a 国家危险废物名录 waste code like 900-045-49", field=field
        )
    return code


def check_licensed_item(value: Any, *, field: str) -> str:
    """What a 危险废物经营许可证 may license: a category (``HW49``) or a waste code."""
    item = _text(value)
    found = CATEGORY.match(item)
    if (found and _in_range(found.group(1))) or is_hw_code(item):
        return item
    raise ValidationFailed(
        f"{field} must be a waste category like HW49 or a waste code like 900-045-49",
        field=field,
    )


def covers(licensed: str, code: str) -> bool:
    """Whether a licensed item (a category or a code) covers waste code ``code``."""
    return licensed == code or licensed == hw_category(code)
