"""Whether a stored event row has a shape the log allows (SPEC §3 "Verification statuses").

The application only ever writes well-formed rows; a database administrator
can write anything SQL allows: a device event that also names a lot, an
event of no subject, an unknown type, a payload that is not a JSON object
(or not JSON at all), a missing time. Such a row is ``tampered`` wherever it
is verified and named by its id — it never stops the verification, the
pages or the audit of everything else. Pure: no database, no Flask.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from traceability.custody.models import EventType

DEVICE_TYPES = frozenset({
    EventType.collected, EventType.shipped, EventType.received, EventType.stored,
    EventType.dismantled, EventType.refused, EventType.corrected,
})  # fmt: skip
# A lot's events are corrected too (custody/corrections.py: a manifest list, a receipt).
LOT_TYPES = frozenset({
    EventType.lot_shipped, EventType.lot_received, EventType.lot_treated, EventType.stocktake,
    EventType.corrected,
})  # fmt: skip
#: A processing batch's events (its closing, SPEC §2.4).
BATCH_TYPES = frozenset({EventType.batch_closed})
#: The organisation register's event types (``traceability.register.log``, a layer above).
ORG_TYPES = frozenset({
    "org_registered", "org_changed", "licence_issued", "licence_amended",
    "submitter_grant", "submitter_revoke",
})  # fmt: skip

_TEXT_COLUMNS = ("id", "org", "actor", "digest")
_TIME_COLUMNS = ("occurred_at", "recorded_at")


def row_problem(row: Any) -> str | None:
    """What is wrong with the shape of event ``row`` (a Core row or an ``Event``), or None."""
    device, lot = row.device, row.lot
    claim, organisation = getattr(row, "claim", None), getattr(row, "organisation", None)
    named = [
        (n, s)
        for n, s in (
            ("device", device),
            ("lot", lot),
            ("claim", claim),
            ("organisation", organisation),
            ("batch", getattr(row, "batch", None)),
        )
        if s is not None
    ]
    subjects = [s for _, s in named]
    if len(subjects) != 1:
        listed = ", ".join(n for n, _ in named)
        return (
            f"it names {listed or 'no device, lot, claim, organisation or batch'} "
            "(exactly one is allowed)"
        )
    if type(subjects[0]) is not str:
        return "its subject is not text"
    # Claim events' types are the claims package's own; devices and lots have theirs.
    kind = row.type
    if (device is not None and kind not in DEVICE_TYPES) or (
        lot is not None and kind not in LOT_TYPES
    ):
        return f"its type {kind!r} is not one a {'device' if device else 'lot'} event can have"
    if organisation is not None and kind not in ORG_TYPES:
        return f"its type {kind!r} is not one an organisation event can have"
    if getattr(row, "batch", None) is not None and kind not in BATCH_TYPES:
        return f"its type {kind!r} is not one a batch event can have"
    if type(row.payload) is not dict:
        return "its payload is not a JSON object"
    for name in _TEXT_COLUMNS:
        if type(getattr(row, name)) is not str:
            return f"its {name} is missing or not text"
    for name in _TIME_COLUMNS:
        if not isinstance(getattr(row, name), dt.datetime):
            return f"its {name} is missing or not a time"
    return None
