"""Rules over lot shipments and their transfer manifests (SPEC §2.7, §2.8)."""

from __future__ import annotations

from collections.abc import Iterator

from traceability.audit.dataset import AuditData
from traceability.audit.device_rules import kg, pct
from traceability.audit.findings import Finding
from traceability.audit.lot_queries import lot_shipments
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
