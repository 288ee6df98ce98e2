"""Which lots an organisation's floor staff can act on next."""

from __future__ import annotations

from sqlmodel import Session, col, select

from traceability.lots.models import Lot, LotManifest, LotState

#: Most lots listed per state; older ones are still reachable by typing or scanning their code.
LIMIT = 200


def actionable_lots(session: Session, org_code: str) -> dict[str, list[Lot]]:
    """A plant's open lots (to ship), a processor's lots shipped to it (to receive) and received."""

    def lots(*conditions: object) -> list[Lot]:
        query = select(Lot).where(*conditions).order_by(col(Lot.code)).limit(LIMIT)  # type: ignore[arg-type]
        return list(session.exec(query).all())

    return {
        "open": lots(Lot.org == org_code, Lot.state == LotState.open, Lot.weight_g > 0),
        "incoming": lots(Lot.destination == org_code, Lot.state == LotState.shipped),
        "received": lots(Lot.destination == org_code, Lot.state == LotState.received),
    }


def manifest_numbers(session: Session, lots: list[str]) -> dict[str, list[str]]:
    """Each lot's manifest numbers, in the order shipped (lots shipped before manifests
    were lists have none: they are weighed as a whole)."""
    out: dict[str, list[str]] = {}
    if not lots:
        return out
    query = (
        select(LotManifest.lot, LotManifest.number)
        .where(col(LotManifest.lot).in_(lots))
        .order_by(col(LotManifest.id))
    )
    for lot, number in session.exec(query):
        out.setdefault(lot, []).append(number)
    return out
