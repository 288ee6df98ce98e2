"""What the plant's own database administrator might do behind the app's back (SPEC §3):
three edits ``traceability demo --tamper`` applies to a loaded demo, so that the
audit rules only tampering raises can be seen on it like every other rule.

- an anchored ``received`` event of DIS-SZ01 weighed 1 kg lighter in the database
  (``verification_failed``: its digest no longer matches what the chain holds);
- a device in DIS-WX02's stock marked dismantled in the ``device`` table, with no
  event to say so (``stock_reconciliation``: the plant's count against the log's);
- the stored 2026Q3 audit snapshot dated a day ahead so that it would never look due
  (``snapshot_in_the_future``, found by the next refresh).

Nothing is done through the app: these are the SQL statements an administrator
would run. The demo is otherwise honest data; without ``--tamper`` none of this
happens.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from traceability.audit.models import AuditSnapshot
from traceability.context import Trace
from traceability.custody.models import Event, EventType
from traceability.demo.clock import CST
from traceability.devices.models import Device, DeviceState

_EVENT = Event.__table__  # type: ignore[attr-defined]
_DEVICE = Device.__table__  # type: ignore[attr-defined]
_SNAPSHOT = AuditSnapshot.__table__  # type: ignore[attr-defined]

#: The period whose stored snapshot is dated ahead (the demo's quarter).
SNAPSHOT_PERIOD = "2026Q3"


def tamper(trace: Trace) -> str:
    """Apply the three edits; what was done, one line each (for the demo's summary)."""
    with trace.engine.begin() as conn:
        lines = [_lighter_receipt(conn), _stock_edited(conn), _snapshot_ahead(conn, trace.now())]
    return "\n".join(["Tampered with (as the plant's database administrator):", *lines])


def _lighter_receipt(conn: Connection) -> str:
    row = conn.execute(
        select(_EVENT.c.id, _EVENT.c.device, _EVENT.c.payload)
        .where(_EVENT.c.org == "DIS-SZ01", _EVENT.c.type == EventType.received)
        .order_by(_EVENT.c.seq)
        .limit(1)
    ).one()
    payload = {**row.payload, "weight_g": int(row.payload["weight_g"]) - 1000}
    conn.execute(update(_EVENT).where(_EVENT.c.id == row.id).values(payload=payload))
    return f"  event {row.id} (received, device {row.device}): 1 kg lighter → verification_failed"


def _stock_edited(conn: Connection) -> str:
    qr_id = conn.execute(
        select(_DEVICE.c.qr_id)
        .where(_DEVICE.c.custodian == "DIS-WX02", _DEVICE.c.state == DeviceState.received)
        .order_by(_DEVICE.c.qr_id)
        .limit(1)
    ).scalar_one()
    conn.execute(
        update(_DEVICE).where(_DEVICE.c.qr_id == qr_id).values(state=DeviceState.dismantled)
    )
    return f"  device {qr_id} of DIS-WX02: marked dismantled in its row → stock_reconciliation"


def _snapshot_ahead(conn: Connection, now: dt.datetime) -> str:
    ahead = now + dt.timedelta(days=1)
    done = conn.execute(
        update(_SNAPSHOT).where(_SNAPSHOT.c.period == SNAPSHOT_PERIOD).values(computed_at=ahead)
    ).rowcount
    if not done:
        return f"  no stored {SNAPSHOT_PERIOD} audit snapshot to date ahead (none computed yet)"
    shown = ahead.astimezone(CST)
    return (
        f"  the {SNAPSHOT_PERIOD} audit snapshot: dated {shown:%Y-%m-%d %H:%M} (Beijing time)"
        " → snapshot_in_the_future"
    )
