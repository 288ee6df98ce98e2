"""Transfer manifests (转移联单) of a lot shipment: their numbers, reading them back (SPEC §2.8).

A lot leaves its plant on one or more trucks, each with its manifest: a
number, the waste's HW code (hazardous lots), the transporter and the weight
shipped; the processor weighs each on receipt. What a number may look like
is data (``data/manifests.toml``, each format with its source): a hazardous
lot's numbers are 危险废物转移联单 numbers of the province it leaves from,
a non-hazardous lot's are its shipping documents' (no 联单 is issued).

Events recorded before manifests were lists carry one ``manifest_no`` and
no weights: ``shipment_of`` reads both shapes (history is anchored and
stays readable). Pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from traceability.errors import ValidationFailed

DATA_FILE = Path(__file__).parent / "data" / "manifests.toml"
#: The most manifests (trucks) one lot shipment may carry.
MAX_MANIFESTS = 20
_GROUPS = frozenset({"year", "region", "province", "city", "category", "sequence"})


class NumberFormat(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    zh: str
    en: str
    pattern: str
    source: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            groups = set(re.compile(value).groupindex)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if groups - _GROUPS:
            raise ValueError(f"unknown named groups {sorted(groups - _GROUPS)}")
        return value

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


class ManifestFormats(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    source: str
    hazardous: tuple[NumberFormat, ...]
    ordinary: tuple[NumberFormat, ...]


@functools.cache
def load_formats(path: Path = DATA_FILE) -> ManifestFormats:
    """The number formats, read and checked once; a malformed file fails naming file and key."""
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    try:
        return ManifestFormats.model_validate(raw)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def normalise_number(value: str) -> str:
    """Spaces out, capitals, and hyphens out of a number of digits (``2026-3205…``)."""
    text = re.sub(r"\s+", "", value).upper()
    return text.replace("-", "") if re.fullmatch(r"[\d-]+", text) else text


def province(region: str | None) -> str | None:
    """The 2-digit province of a GB/T 2260 region code."""
    return region[:2] if region and len(region) >= 2 else None


@dataclass(frozen=True)
class Shipment:
    """Where a number is checked against: the lot's hazard and code, its plant and date."""

    hazardous: bool
    hw_code: str | None  # the fraction's 名录 code (None: not coded)
    region: str  # the shipping plant's GB/T 2260 code (移出地)
    day: dt.date  # the shipping date, Beijing calendar


def _fits(found: re.Match[str], shipment: Shipment) -> str | None:
    """Why a number of the right shape does not fit this shipment, or None."""
    groups = found.groupdict()
    year = groups.get("year")
    if year is not None and not shipment.day.year - 1 <= int(year) <= shipment.day.year:
        return f"its year {year} is not the shipping year or the one before"
    given = groups.get("region") or groups.get("province")
    if given is not None and given[:2] != province(shipment.region):
        return f"it is not numbered in the province the lot leaves from ({shipment.region[:2]})"
    category = groups.get("category")
    if category is not None and shipment.hw_code and category != shipment.hw_code[-2:]:
        return f"its waste category HW{category} is not the lot's ({shipment.hw_code})"
    return None


def check_number(number: str, shipment: Shipment, *, field: str) -> None:
    """Refuse a number no format of the lot's kind accepts (``ValidationFailed`` at ``field``)."""
    formats = load_formats()
    kinds = formats.hazardous if shipment.hazardous else formats.ordinary
    why = None
    for fmt in kinds:
        found = fmt.regex.match(number)
        if found is None:
            continue
        why = _fits(found, shipment)
        if why is None:
            return
    names = "; ".join(f"{f.en} ({f.zh})" for f in kinds)
    raise ValidationFailed(
        f"{field} {number[:40]!r} is not a valid number: {why or 'expected ' + names}",
        field=field,
    )


@dataclass(frozen=True)
class Manifest:
    """One truck of a shipment as the log says: ``None`` where an old event says nothing."""

    number: str
    hw_code: str | None = None
    transporter: str | None = None
    shipped_g: int | None = None
    received_g: int | None = None

    @property
    def difference_g(self) -> int | None:
        """Received − shipped (negative: less arrived), when both were weighed."""
        if self.shipped_g is None or self.received_g is None:
            return None
        return self.received_g - self.shipped_g


def _grams(value: Any) -> int | None:
    return value if type(value) is int else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def shipment_of(
    shipped: Mapping[str, Any] | None, received: Mapping[str, Any] | None = None
) -> tuple[Manifest, ...]:
    """The manifests of a lot from its ``lot_shipped`` and ``lot_received`` payloads (either shape).

    An old shipment (one ``manifest_no``) received by one weight reads as one
    manifest with no shipped weight and that received weight.
    """
    if not shipped:
        return ()
    raw = shipped.get("manifests")
    weighed: dict[str, int | None] = {}
    if received:
        for item in received.get("manifests") or ():
            if isinstance(item, Mapping):
                weighed[str(item.get("number"))] = _grams(item.get("weight_g"))
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        number = _text(shipped.get("manifest_no"))
        if number is None:
            return ()
        total = _grams(received.get("weight_g")) if received else None
        return (Manifest(number, received_g=weighed.get(number, total)),)
    out = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        number = str(item.get("number"))
        out.append(
            Manifest(
                number,
                hw_code=_text(item.get("hw_code")),
                transporter=_text(item.get("transporter")),
                shipped_g=_grams(item.get("weight_g")),
                received_g=weighed.get(number),
            )
        )
    return tuple(out)


def cross_province(shipped: Mapping[str, Any] | None) -> bool | None:
    """Whether the shipment crossed a provincial border, as its event says (None: not said)."""
    value = shipped.get("cross_province") if shipped else None
    return value if isinstance(value, bool) else None
