"""The small world of organisations and devices in every state the API tests start from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.accounts import Actor


@dataclass
class World:
    """Organisations (Suzhou unless said otherwise), their users and devices in every state.

    Built by tests/api/conftest.py's ``world`` fixture.
    """

    collector: Actor  # COL-SZ operator
    plant: Actor  # DIS-SZ operator
    plant_manager: Actor  # DIS-SZ manager
    plant_bj: Actor  # DIS-BJ operator, Beijing (110000)
    processor: Actor  # PRO-SZ operator
    auditor: Actor  # REG-JS auditor, Jiangsu (320000)
    auditor_bj: Actor  # REG-BJ auditor, Beijing (110000)
    admin: Actor  # SYS admin, Jiangsu (320000): reads Suzhou, not Beijing
    at_collector: str  # collected by COL-SZ
    in_transit: str  # collected by COL-SZ, shipped to DIS-SZ
    plant_collected: str  # collected by DIS-SZ itself, not yet received
    received: str  # received at DIS-SZ
    dismantled: str  # dismantled at DIS-SZ into open lots (pcb, plastics)
    bj_device: str  # received at DIS-BJ
    collected_event: str  # id of COL-SZ's `collected` event of at_collector
    shipped_event: str  # id of COL-SZ's `shipped` event of in_transit
    pcb_lot: str  # DIS-SZ's open pcb lot
    shipped_lot: str  # DIS-SZ's plastics lot, shipped to PRO-SZ
    received_lot: str  # DIS-SZ's copper lot, received by PRO-SZ
    # Ids of DIS-SZ's received/stored/dismantled events of `dismantled`, its
    # lot_shipped of shipped_lot and PRO-SZ's lot_received of received_lot.
    event_ids: dict[str, str]
    revoked: Actor  # DIS-SZ operator whose token has been revoked
    max_content_length: int  # the app's request body limit
    extra: dict[str, Any] = field(default_factory=dict)
