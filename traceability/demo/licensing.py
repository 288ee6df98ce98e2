"""The demo's licences, transfer manifests and stocktakes (``data/licences.toml``, SPEC §2.8).

Licences are registered as register events by the system admin with the
organisations; the plan sends a device only to a plant licensed for its
category. Each shipped lot leaves on one or two trucks, each with its
manifest (a hazardous lot's numbered like an electronic 转移联单 of its
province, with the fraction's waste code); each is weighed on receipt.
Plants weigh their open lots at the start of some months. Two cases are
planted for the audit: a PCB lot weighed 154.9 kg out and 20.0 kg in, and
a stocktake well short of the book.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import tomllib
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from traceability.catalog.models import Catalog
from traceability.register.licensing import amend_licence, issue_licence
from traceability.register.services import SYSTEM

DATA_FILE = Path(__file__).parent / "data" / "licences.toml"

Span = tuple[float, float]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DemoLicence(_Frozen):
    org: str
    kind: Literal["dismantling", "hazardous_waste"]
    number: str
    uscc: str
    valid_from: dt.date
    valid_to: dt.date
    scope: dict[str, int]


class DemoAmendment(_Frozen):
    """A dismantling licence's terms from ``effective`` on, recorded at ``recorded``."""

    org: str
    number: str
    recorded: dt.datetime
    effective: dt.date
    scope: dict[str, int]


class Trucks(_Frozen):
    max_kg: int = Field(gt=0)
    dispatch_jitter: Span
    receipt_jitter: Span


class WeighedShort(_Frozen):
    fraction: str
    months: tuple[int, ...]
    book_kg: Span
    shipped_kg: Decimal
    received_kg: Decimal


class ShortStocktake(_Frozen):
    plant: str
    fraction: str
    month: int
    share: float = Field(gt=0, lt=1)


class Planted(_Frozen):
    lot_weighed_short: WeighedShort
    stocktake_short: ShortStocktake


class Stocktakes(_Frozen):
    months: tuple[int, ...]
    jitter: Span


class DemoLicences(_Frozen):
    version: str
    source: str
    licences: tuple[DemoLicence, ...]
    carriers: dict[str, str]
    trucks: Trucks
    planted: Planted
    stocktakes: Stocktakes
    #: Recorded after the quarter's work (``record_amendments``); the plan reads the
    #: licences as the register stood during the quarter (``licensed``).
    amendments: tuple[DemoAmendment, ...] = ()

    def licensed(self, plant: str, category: str, day: dt.date) -> bool:
        """Whether ``plant`` may dismantle ``category`` on ``day`` (a plant with no licence
        here is not restricted)."""
        held = [lic for lic in self.licences if lic.org == plant and lic.kind == "dismantling"]
        return not held or any(
            lic.valid_from <= day <= lic.valid_to and category in lic.scope for lic in held
        )


@functools.cache
def load_licences(path: Path = DATA_FILE) -> DemoLicences:
    with path.open("rb") as fh:
        return DemoLicences.model_validate(tomllib.load(fh))


def register_licences(
    session: Session, catalog: Catalog, licences: DemoLicences, now: dt.datetime
) -> None:
    """Every licence, as the regulator's register records it (before the quarter's work)."""
    for lic in licences.licences:
        issue_licence(
            session=session, catalog=catalog, code=lic.org, by=SYSTEM, kind=lic.kind,
            number=lic.number, uscc=lic.uscc, valid_from=lic.valid_from,
            valid_to=lic.valid_to, scope=lic.scope, now=now,
        )  # fmt: skip


def record_amendments(
    session: Session, catalog: Catalog, licences: DemoLicences
) -> list[dt.datetime]:
    """Every amendment, as the regulator's admin records it; the times they were recorded."""
    done = []
    for change in sorted(licences.amendments, key=lambda a: a.recorded):
        amend_licence(
            session=session, catalog=catalog, code=change.org, by=SYSTEM, number=change.number,
            effective=change.effective, scope=change.scope, now=change.recorded,
        )  # fmt: skip
        done.append(change.recorded)
    return done


def _kg(grams: int) -> str:
    return f"{Decimal(grams) / 1000:.3f}"


class Transfers:
    """Manifests for the loader's lot shipments and weights for their receipts."""

    def __init__(self, licences: DemoLicences, catalog: Catalog, rng: random.Random) -> None:
        self.licences, self.catalog, self.rng = licences, catalog, rng
        self.numbers: Counter[str] = Counter()
        self.weighed_short: str | None = None  # the planted lot
        self.short_stocktake: str | None = None
        self.stocktakes = 0

    def _number(self, plant: str, region: str, day: dt.date, hazardous: bool) -> str:
        self.numbers[plant] += 1
        if hazardous:  # year, the 移出地's GB/T 2260 code, sequence (lots/data/manifests.toml)
            return f"{day.year}{region}{self.numbers[plant]:08d}"
        return f"YD-{day:%Y%m%d}-{plant[-4:]}{self.numbers[plant]:03d}"

    def _planted(self, fraction: str, day: dt.date, book_g: int) -> bool:
        case = self.licences.planted.lot_weighed_short
        low, high = case.book_kg
        return (
            self.weighed_short is None
            and fraction == case.fraction
            and day.month in case.months
            and low * 1000 <= book_g <= high * 1000
        )

    def manifests(
        self, plant: str, region: str, lot: Any, day: dt.date
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The lot's manifests as its shipment sends them, and each one's weight on receipt."""
        fraction = self.catalog.fractions[lot.fraction]
        trucks = self.licences.trucks
        if self._planted(lot.fraction, day, lot.weight_g):
            self.weighed_short = lot.code
            planted = self.licences.planted.lot_weighed_short
            loads = [int(planted.shipped_kg * 1000)]
            received = [str(planted.received_kg)]
        else:
            total = round(lot.weight_g * self.rng.uniform(*trucks.dispatch_jitter))
            count = 2 if total > trucks.max_kg * 1000 else 1
            loads = [total // count + (total % count if i == 0 else 0) for i in range(count)]
            received = [_kg(round(g * self.rng.uniform(*trucks.receipt_jitter))) for g in loads]
        manifests = []
        for grams in loads:
            item: dict[str, Any] = {
                "number": self._number(plant, region, day, lot.hazardous),
                "transporter": self.licences.carriers[plant],
                "weight_kg": _kg(max(grams, 1)),
            }
            if lot.hazardous and fraction.hw_code:
                item["hw_code"] = fraction.hw_code
            manifests.append(item)
        return manifests, received

    def planted(self) -> list[str]:
        """The summary's lines for the cases planted here (each names its lot)."""
        lines = []
        if self.weighed_short:
            case = self.licences.planted.lot_weighed_short
            lines.append(
                f"  - lot shipped at {case.shipped_kg} kg, received at {case.received_kg} kg: "
                f"{self.weighed_short}"
            )
        if self.short_stocktake:
            lines.append(f"  - lot stocktake far short of the book: {self.short_stocktake}")
        return lines

    def stocktake_weight(self, plant: str, lot: Any, day: dt.date) -> str | None:
        """What a stocktake on ``day`` weighs of an open lot; None: no stocktake that day."""
        if day.month not in self.licences.stocktakes.months:
            return None
        self.stocktakes += 1
        case = self.licences.planted.stocktake_short
        if (plant, lot.fraction, day.month) == (case.plant, case.fraction, case.month):
            self.short_stocktake = lot.code
            return _kg(round(lot.weight_g * case.share))
        return _kg(round(lot.weight_g * self.rng.uniform(*self.licences.stocktakes.jitter)))
