"""Proof bundles: everything an outsider needs to check a device against the chain.

The bundle is plain JSON and is checked by ``python -m ledger.verify`` with
no access to this database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from ledger import merkle
from ledger.canonical import DIGEST_FIELDS
from traceability.anchoring.connection import read_meta
from traceability.anchoring.models import AnchorBatch
from traceability.anchoring.trust import TrustedLedger
from traceability.custody.wellformed import row_problem
from traceability.db import iso
from traceability.verification.services import content_of, event_rows, leaf_positions

BUNDLE_FORMAT = "weee-trace-proof/1"


def record_content(row: Any) -> dict[str, Any]:
    """The event's digest content; a malformed row's columns as stored (they match no digest,
    so the independent verifier finds it tampered too)."""
    if row_problem(row) is None:
        return content_of(row)
    raw = {name: getattr(row, name, None) for name in DIGEST_FIELDS}
    for name in ("occurred_at", "recorded_at"):
        value = raw[name]
        raw[name] = iso(value) if isinstance(value, dt.datetime) else None
    return {k: v for k, v in raw.items() if v is not None or k == "prev"}


def device_bundle(session: Session, ledger: TrustedLedger, qr_id: str) -> dict[str, Any]:
    """The device's events with their proofs. The ``chain`` section is informative only:
    the verifier takes what it trusts from the regulator's trust file, never from here."""
    return events_bundle(session, ledger, event_rows(session, device=qr_id), {"device": qr_id})


def claim_bundle(session: Session, ledger: TrustedLedger, code: str) -> dict[str, Any]:
    """A claim's own events (submission, reviews) with their proofs: what an export carries."""
    return events_bundle(session, ledger, event_rows(session, claim=code), {"claim": code})


def events_bundle(
    session: Session, ledger: TrustedLedger, rows: list[Any], subject: dict[str, str]
) -> dict[str, Any]:
    """The events ``rows`` of one subject (in recording order) with their proofs."""
    positions = leaf_positions(session, [r.seq for r in rows])
    meta = read_meta(session)
    leaves_of: dict[int, tuple[AnchorBatch, list[bytes]]] = {}
    events = []
    for row in rows:
        anchor = None
        if row.seq in positions:
            batch_id, index = positions[row.seq]
            if batch_id not in leaves_of:
                batch = session.get(AnchorBatch, batch_id)
                assert batch is not None
                leaves_of[batch_id] = (
                    batch,
                    [batch.leaves[i : i + 32] for i in range(0, len(batch.leaves), 32)],
                )
            batch, leaves = leaves_of[batch_id]
            anchor = {
                "root": batch.root,
                "leaf_index": index,
                "size": batch.size,
                "proof": [p.hex() for p in merkle.inclusion_proof(leaves, index)],
                "tx_hash": batch.tx_hash,
                "block_number": batch.block_number,
                "state": batch.state,
            }
        events.append({"content": record_content(row), "digest": row.digest, "anchor": anchor})
    trust = ledger.trust
    chain = (
        {"chain_id": trust.chain_id, "genesis_hash": trust.genesis_hash, "contract": trust.registry}
        if trust is not None
        else {
            "chain_id": int(meta["chain_id"]) if meta.get("chain_id") else None,
            "genesis_hash": meta.get("genesis_hash"),
            "contract": meta.get("contract"),
        }
    )
    return {
        "format": BUNDLE_FORMAT,
        "subject": subject,
        "chain": chain,
        # What the plant says the whole history is: a verifier fails a bundle
        # that holds less (it can prove only the events it holds).
        "history": {"events": len(events), "head": events[-1]["digest"] if events else None},
        "events": events,
    }
