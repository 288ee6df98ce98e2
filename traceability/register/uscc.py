"""统一社会信用代码 (unified social credit code, GB 32100-2015): format and check character.

Eighteen characters from the 31 of ``ALPHABET`` (digits and capitals but
I, O, S, V, Z): the registration authority (1), the kind of entity (1), the
GB/T 2260 administrative division of the registering authority (6 digits),
the subject's identifier (9: its GB 11714 organisation code) and a check
character. The check character is ``31 − (Σ value(cᵢ) × 3ⁱ mod 31)`` over
the first 17, mod 31 (GB 32100-2015 §5, weights 3ⁱ mod 31); a single
mistyped character or most swaps change it. Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from typing import Any

from traceability.errors import ValidationFailed

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
WEIGHTS = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
_SHAPE = re.compile(rf"^[{ALPHABET}]{{2}}\d{{6}}[{ALPHABET}]{{10}}$")


class InvalidUscc(ValidationFailed):
    code = "invalid_uscc"


def check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value: Any, *, field: str = "uscc") -> str:
    """The code in capitals without spaces; ``InvalidUscc`` naming ``field`` if it is not one."""
    text = re.sub(r"\s+", "", value).upper() if isinstance(value, str) else ""
    if len(text) != LENGTH or not _SHAPE.match(text):
        raise InvalidUscc(
            f"{field} must be an 18-character 统一社会信用代码 (digits and capitals but "
            "I, O, S, V, Z; characters 3–8 the registering authority's region code)",
            field=field,
        )
    if check_character(text[:-1]) != text[-1]:
        raise InvalidUscc(
            f"{field}: the check character does not match (GB 32100-2015): a character is mistyped",
            field=field,
        )
    return text
