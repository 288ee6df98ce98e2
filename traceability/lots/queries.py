"""Which lots an organisation's floor staff can act on next."""

from __future__ import annotations

from sqlmodel import Session, col, select

from traceability.lots.models import Lot, LotState

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
