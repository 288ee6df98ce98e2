"""One anchored batch as the plant holds it, for a regulator's completeness check (SPEC §3
"The regulator's instance"): ``GET /api/v1/ledger/batches/{root}``.

The regulator enumerates every root the plant's submitter anchored on chain
and asks the plant for each: the batch's leaves (the anchored digests, in
order) and the content of every record the plant still holds at a leaf.
The regulator trusts none of it: the leaves must hash to the root the
registry holds, and each record's content must hash to its leaf. The
records include what the EPCIS query does not export (the register's and
the claims' events), so the regulator can account for every leaf.

Example::

    published = anchored_batch(session, principal, root)
    published.leaves[0]          # the first anchored digest (hex)
    published.records[0]["leafIndex"]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from traceability.accounts.models import Principal, Role
from traceability.anchoring.models import AnchorBatch, AnchorLeaf
from traceability.custody.models import Event
from traceability.errors import Forbidden, NotFound, ValidationFailed
from traceability.register.scope import readable_orgs
from traceability.verification.bundle import record_content

#: What a record the caller may not read says instead of its content.
WITHHELD = "a record of an organisation outside the reader's scope"

_EVENT = Event.__table__  # type: ignore[attr-defined]
_LEAF = AnchorLeaf.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PublishedBatch:
    root: str
    size: int
    state: str
    leaves: list[str]
    #: ``{"leafIndex", "trace:record", "trace:digest", "trace:prev"}`` per record held.
    records: list[dict[str, Any]]


def _root(value: str) -> str:
    root = value.lower().removeprefix("0x")
    if len(root) != 64 or any(c not in "0123456789abcdef" for c in root):
        raise ValidationFailed("root must be 64 hexadecimal digits", field="root")
    return root


def anchored_batch(session: Session, principal: Principal, root: str) -> PublishedBatch:
    """The batch anchored under ``root`` with the records of it the caller may read.

    The register's events are public (SPEC §2.8); a device's, a lot's or a
    claim's are listed when the caller may read its organisation's records, else
    only its leaf is named as withheld (another region's regulator reads it).
    """
    if principal.role == Role.operator:
        raise Forbidden("operators cannot read anchored batches")
    table = AnchorBatch.__table__  # type: ignore[attr-defined]
    batch = session.execute(select(AnchorBatch).where(table.c.root == _root(root))).scalar()
    if batch is None:
        raise NotFound(f"no batch anchored under {root[:66]} here", field="root")
    orgs = readable_orgs(session, principal)
    rows = session.execute(
        select(_EVENT, _LEAF.c.leaf_index)
        .join(_LEAF, _LEAF.c.event_seq == _EVENT.c.seq)
        .where(_LEAF.c.batch_id == batch.id)
        .order_by(_LEAF.c.leaf_index)
    )
    records = [
        {
            "leafIndex": int(row.leaf_index),
            "trace:record": record_content(row),
            "trace:digest": row.digest,
            "trace:prev": row.prev,
        }
        if row.organisation is not None or row.org in orgs
        else {"leafIndex": int(row.leaf_index), "trace:withheld": WITHHELD}
        for row in rows
    ]
    leaves = bytes(batch.leaves)
    return PublishedBatch(
        root=batch.root,
        size=batch.size,
        state=batch.state,
        leaves=[leaves[i : i + 32].hex() for i in range(0, len(leaves), 32)],
        records=records,
    )
