"""What the audit reads of output lots: shipments with their manifests, stocktakes, stock.

Queries over ``AuditData`` (every lot's events verified and replayed up to
``as_of``) for the audit rules (SPEC §2.7, §2.8):

- ``lot_shipments(data)``: each shipped lot's manifests, with the weights
  shipped and received per manifest, its processor and the cross-province mark;
- ``lot_stocktakes(data)``: each lot's stocktakes (weighed stock, 盘点);
- ``fraction_stock(data)``: per plant and fraction, the outputs produced and
  shipped (what should be in store) and the latest stocktake against the
  book stock at that moment.

Licences are ``data.licences`` (``accounts.licences.LicenceBook``), e.g.
``data.licences.licensed_categories("DIS-SZ01", day)`` → category → units a
year, or ``data.licences.scope_on(org, "hazardous_waste", day)``. Corrections
are applied (a corrected manifest list or receipt reads as corrected).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from traceability.audit.dataset import AuditData, AuditedLot
from traceability.custody.facts import effective_payloads
from traceability.custody.models import EventType
from traceability.lots.manifests import Manifest, cross_province, shipment_of


@dataclass(frozen=True)
class LotShipment:
    """A shipped lot as its events say (up to ``as_of``)."""

    lot: str
    org: str  # the shipping plant
    fraction: str
    hazardous: bool
    to: str | None
    shipped_at: dt.datetime
    received_at: dt.datetime | None
    cross_province: bool | None  # None: shipped before the mark existed
    manifests: tuple[Manifest, ...]
    events: tuple[str, ...]  # the lot_shipped and lot_received event ids
    verified: bool

    @property
    def shipped_g(self) -> int | None:
        """Weighed at dispatch, over every manifest (None: an old shipment without weights)."""
        weights = [m.shipped_g for m in self.manifests]
        return None if not weights or None in weights else sum(weights)  # type: ignore[arg-type]

    @property
    def received_g(self) -> int | None:
        weights = [m.received_g for m in self.manifests]
        return None if not weights or None in weights else sum(weights)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Stocktake:
    lot: str
    org: str
    fraction: str
    at: dt.datetime
    weight_g: int
    event: str
    seq: int


def _payloads(lot: AuditedLot) -> Mapping[str, Mapping[str, Any]]:
    return effective_payloads(lot.events)


def lot_shipment(lot: AuditedLot) -> LotShipment | None:
    """The lot's shipment (None: not shipped by ``as_of``)."""
    shipped = next((e for e in lot.events if e.type == EventType.lot_shipped), None)
    if shipped is None:
        return None
    received = next((e for e in lot.events if e.type == EventType.lot_received), None)
    payloads = _payloads(lot)
    shipped_payload = payloads.get(shipped.id, shipped.payload)
    received_payload = payloads.get(received.id, received.payload) if received else None
    return LotShipment(
        lot=lot.code,
        org=lot.org,
        fraction=lot.fraction,
        hazardous=lot.hazardous,
        to=lot.shipped_to,
        shipped_at=shipped.occurred_at,
        received_at=received.occurred_at if received else None,
        cross_province=cross_province(shipped_payload),
        manifests=shipment_of(shipped_payload, received_payload),
        events=tuple(e.id for e in (shipped, received) if e is not None),
        verified=lot.verification.verified,
    )


def lot_shipments(data: AuditData) -> dict[str, LotShipment]:
    """Every lot shipped by ``data.as_of``, by code."""
    out = {}
    for code, lot in data.lots.items():
        shipment = lot_shipment(lot)
        if shipment is not None:
            out[code] = shipment
    return out


def lot_stocktakes(data: AuditData) -> dict[str, list[Stocktake]]:
    """Every lot's stocktakes by ``data.as_of``, in recording order, by code."""
    out: dict[str, list[Stocktake]] = {}
    for code, lot in data.lots.items():
        payloads = _payloads(lot)
        for event in lot.events:
            if event.type != EventType.stocktake:
                continue
            grams = payloads.get(event.id, event.payload).get("weight_g")
            if type(grams) is int:
                out.setdefault(code, []).append(
                    Stocktake(
                        code, lot.org, lot.fraction, event.occurred_at, grams, event.id, event.seq
                    )
                )
    return out


@dataclass
class FractionStock:
    """One plant's stock of one fraction: produced − shipped is what should be in store.

    ``book_at_stocktake_g`` is that balance at the latest stocktake (in the
    log's order), to compare with what the stocktake weighed.
    """

    org: str
    fraction: str
    produced_g: int = 0  # outputs of the fraction dismantled at the plant
    shipped_g: int = 0  # of those, in lots shipped (by the outputs they hold)
    latest_stocktake: Stocktake | None = None
    book_at_stocktake_g: int | None = None

    @property
    def in_store_g(self) -> int:
        return self.produced_g - self.shipped_g

    @property
    def stocktake_difference_g(self) -> int | None:
        """Weighed − book at the latest stocktake (negative: less in store than the book)."""
        if self.latest_stocktake is None or self.book_at_stocktake_g is None:
            return None
        return self.latest_stocktake.weight_g - self.book_at_stocktake_g


def _steps(data: AuditData) -> Iterable[tuple[int, str, Any]]:
    """Dismantlings and lot events in the log's order (seq)."""
    steps: list[tuple[int, str, Any]] = []
    for record in data.devices.values():
        for event in record.events:
            if event.type == EventType.dismantled:
                steps.append((event.seq, "out", (event.org, record.facts.outputs)))
    for lot in data.lots.values():
        for event in lot.events:
            if event.type in (EventType.lot_shipped, EventType.stocktake):
                steps.append((event.seq, str(event.type), (lot, event)))
    return sorted(steps, key=lambda s: s[0])


def fraction_stock(data: AuditData) -> dict[tuple[str, str], FractionStock]:
    """Per (plant, fraction): produced, shipped and in store by ``as_of``, and the latest
    stocktake with the book stock when it was taken (the stocktake rule's input)."""
    out: dict[tuple[str, str], FractionStock] = {}
    open_g: Counter[tuple[str, str]] = Counter()  # outputs not yet in a shipped lot
    takes = {t.event: t for ts in lot_stocktakes(data).values() for t in ts}
    for _, kind, item in _steps(data):
        if kind == "out":
            org, outputs = item
            for output in outputs:
                key = (org, output.fraction)
                stock = out.setdefault(key, FractionStock(*key))
                stock.produced_g += output.weight_g
                open_g[key] += output.weight_g
            continue
        lot, event = item
        key = (lot.org, lot.fraction)
        stock = out.setdefault(key, FractionStock(*key))
        if kind == EventType.lot_shipped:
            stock.shipped_g += open_g.pop(key, 0)
        elif event.id in takes:
            stock.latest_stocktake, stock.book_at_stocktake_g = takes[event.id], open_g[key]
    return out
