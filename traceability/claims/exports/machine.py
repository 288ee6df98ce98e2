"""The machine-readable half of a claim's export: what a verifier holding only the file and
the chain recomputes (SPEC §2.6 "Exports", issue 18 item 6).

Every device row of the detail and every excluded row carries its facts as a
canonical JSON array (the last column, ``核验数据``); the human cells are
rendered from it, so ``claims verify`` can say which cell differs. Submitting
a claim anchors, besides the claim digest (``claims.digest``):

* ``rows``: SHA-256 over the canonical JSON array of every claimed device's
  machine row, in QR ID order (``ROWS_VERSION``);
* ``plant``: the plant's name and licence number as the claim states them.

The claim digest covers each device's QR ID, tier, rate and every counted event
digest; ``rows`` covers the rest of the row (category, schedule, dismantling
time, intake weight, outputs, anchor, flags). A file of a claim submitted before
``rows`` was anchored verifies the claim digest only, and says so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.canonical import canonical_value
from traceability.accounts.models import Organisation
from traceability.claims.digest import DevicesOutOfOrder
from traceability.claims.models import Claim, ClaimItem
from traceability.db import iso

_ITEM = ClaimItem.__table__  # type: ignore[attr-defined]

#: What the anchored ``rows`` digest is over; bumped if a machine row changes shape.
ROWS_VERSION = "claim-rows-v1"
#: The file format of the proof an export carries (``claims verify`` reads it).
FILE_FORMAT = "weee-trace-claim-file/1"
#: Header of the machine column (detail and exclusions) and of the proof sheet/record.
MACHINE_HEADER = "核验数据"
PROOF_SHEET = "核验"
#: One XLSX cell holds at most 32,767 characters: the proof JSON is cut into such pieces.
PROOF_CHUNK = 30_000


def made_by() -> str:
    """``weee-traceability 0.1.0``: the version that wrote a file, written into it."""
    try:
        return f"weee-traceability {version('weee-traceability')}"
    except PackageNotFoundError:  # pragma: no cover - run from a checkout that is not installed
        return "weee-traceability (unknown version)"


#: Elements of a device's machine row (``machine_row``).
MACHINE_ROW_LENGTH = 12


def machine_row(item: Any) -> list[Any]:
    """A claimed device's facts as the rows digest covers them (``ClaimItem`` row)."""
    anchor = item.anchor or {}
    return [
        item.qr_id,
        item.category,
        item.tier,
        item.schedule,
        int(item.rate_yuan),
        iso(item.dismantled_at),
        item.received_weight_g,
        [[str(f), int(g)] for f, g in item.outputs],
        list(item.event_digests),
        [anchor.get("root"), anchor.get("tx_hash"), anchor.get("block_number")],
        [[str(f), str(d)] for f, d in (item.flags or [])],
        item.facts,
    ]


def machine_text(values: Sequence[Any]) -> str:
    """The cell text of a machine row: its RFC 8785 canonical JSON."""
    return canonical_value(list(values)).decode()


class StreamedRowsDigest:
    """SHA-256 over the canonical JSON array of machine rows, fed in QR ID order."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256(b"[")
        self._previous: str | None = None
        self.count = 0

    def add(self, row: Sequence[Any]) -> None:
        qr_id = str(row[0])
        if self._previous is not None and qr_id <= self._previous:
            raise DevicesOutOfOrder(f"devices must come in QR ID order: {qr_id} after "
                                    f"{self._previous}")  # fmt: skip
        self._hasher.update((b"," if self.count else b"") + canonical_value(list(row)))
        self._previous = qr_id
        self.count += 1

    def finish(self) -> str:
        self._hasher.update(b"]")
        return self._hasher.hexdigest()


def rows_digest(rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    hasher = StreamedRowsDigest()
    for row in rows:
        hasher.add(row)
    return {"version": ROWS_VERSION, "count": hasher.count, "digest": hasher.finish()}


def rows_of(session: Session, claim: Claim) -> dict[str, Any]:
    """``{version, count, digest}`` of the claim's device rows: what a submission anchors."""
    query = select(_ITEM).where(_ITEM.c.claim_id == claim.id)
    try:
        result = session.execute(query.order_by(_ITEM.c.qr_id).execution_options(yield_per=5_000))
        try:
            return rows_digest(machine_row(item) for item in result)
        finally:
            result.close()
    except DevicesOutOfOrder:  # the database's collation is not code point order
        items = sorted(session.execute(query), key=lambda r: r.qr_id)
        return rows_digest(machine_row(item) for item in items)


def plant_of(session: Session, claim: Claim) -> dict[str, Any]:
    """The plant as the claim states it (anchored with the submission)."""
    org = session.execute(
        select(Organisation).where(col(Organisation.code) == claim.org)
    ).scalar_one()
    return {"code": org.code, "name": org.name, "licence_no": org.license_no}
