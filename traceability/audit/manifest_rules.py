"""Rules over output lots: shipments and their transfer manifests, stock against stocktakes
(SPEC §2.7, §2.8)."""

from __future__ import annotations

from collections.abc import Iterator

from traceability.audit.dataset import AuditData
from traceability.audit.device_rules import kg, local, pct
from traceability.audit.findings import Finding
from traceability.audit.lot_queries import fraction_stock, lot_shipments
from traceability.audit.ruleset import Thresholds


def lot_weight_mismatch(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A manifest weighed on receipt more than the tolerance away from its weight at dispatch.

    One finding per lot, when its receipt is recorded, naming the manifests that
    differ; a shipment from before manifests carried weights has nothing to compare.
    """
    for code, shipment in sorted(lot_shipments(data).items()):
        if shipment.received_at is None:
            continue
        differ = [
            m for m in shipment.manifests
            if m.shipped_g and m.received_g is not None
            and abs(m.received_g - m.shipped_g) > t.lot_weight_tolerance * m.shipped_g
        ]  # fmt: skip
        if not differ:
            continue
        shipped, received = shipment.shipped_g or 0, shipment.received_g or 0
        yield Finding(
            "lot_weight_mismatch",
            shipment.org,
            shipment.received_at,
            code,
            {
                "fraction": shipment.fraction,
                "to": shipment.to or "?",
                "shipped_kg": kg(shipped),
                "received_kg": kg(received),
                "share_pct": pct(received / shipped) if shipped else "?",
                "tolerance_pct": pct(t.lot_weight_tolerance),
                "manifests": ", ".join(
                    f"{m.number} ({kg(m.shipped_g or 0)} → {kg(m.received_g or 0)} kg)"
                    for m in differ
                ),
                "cross_province": bool(shipment.cross_province),
            },
            events=shipment.events,
            verified=shipment.verified,
        )


def stocktake_mismatch(data: AuditData, t: Thresholds) -> Iterator[Finding]:
    """A plant's latest stocktake of a fraction against its book stock at that moment.

    The book is what the log says should be in store: the fraction's outputs
    dismantled at the plant less those in lots shipped (``fraction_stock``). A
    stocktake differing from it by more than ``stocktake_tolerance`` of the book
    and at least ``stocktake_min_kg`` is a finding (short: gone without a
    manifest; over: outputs of devices never recorded), when the stocktake was taken.
    """
    names = data.catalog.fractions
    least = round(t.stocktake_min_kg * 1000)
    for (plant, fraction), stock in sorted(fraction_stock(data).items()):
        take, book = stock.latest_stocktake, stock.book_at_stocktake_g
        difference = stock.stocktake_difference_g
        if take is None or book is None or difference is None:
            continue
        if abs(difference) < least or abs(difference) <= t.stocktake_tolerance * book:
            continue
        name = names.get(fraction)
        yield Finding(
            "stocktake_mismatch",
            plant,
            take.at,
            take.lot,
            {
                "fraction_zh": name.zh if name else fraction,
                "fraction_en": name.en if name else fraction,
                "lot": take.lot,
                "taken": local(take.at),
                "book_kg": kg(book),
                "weighed_kg": kg(take.weight_g),
                "difference_kg": kg(difference),
                "share_pct": pct(take.weight_g / book) if book else "—",
                "tolerance_pct": pct(t.stocktake_tolerance),
            },
            events=(take.event,),
            verified=data.lots[take.lot].verification.verified if take.lot in data.lots else False,
        )
