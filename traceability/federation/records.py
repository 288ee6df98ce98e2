"""The records of a plant's EPCIS query document, read as candidate events for the import.

Each entry of the document's ``trace:proofs`` map carries the record's
digested content (``trace:record``), the digest and ``prev`` the plant
claims, and its anchor. Only the content is believed: it is read into a
``Record`` (an event row's columns, each checked for type and size, so
nothing the plant sends can fail the regulator's database), and the digest
is recomputed from that row, exactly as the verifiers compute it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.canonical import NotCanonicalisable, digest_hex
from traceability import limits
from traceability.custody.wellformed import row_problem
from traceability.db import iso
from traceability.verification.services import content_of

_TEXT = {
    "id": limits.EVENT_ID, "type": 16, "org": limits.ORG_CODE, "actor": 64,
    "device": limits.QR_ID, "lot": limits.LOT_CODE, "claim": 64,
    "organisation": limits.ORG_CODE, "batch": limits.BATCH_SUBJECT,
}  # fmt: skip
_OPTIONAL = ("device", "lot", "claim", "organisation", "batch")
_EPCIS_SUBJECTS = ("device", "lot")


@dataclass(slots=True)
class Record:
    """A plant's record read as an event row, not stored: the columns the verifiers read
    (an ORM ``Event`` costs several times more to build, for nothing the import needs)."""

    id: Any
    type: Any
    org: Any
    actor: Any
    device: Any
    lot: Any
    claim: Any
    organisation: Any
    batch: Any
    occurred_at: Any
    recorded_at: Any
    payload: Any
    prev: Any
    digest: str = ""
    seq: int = -1


@dataclass
class Candidate:
    """One record of the plant's document, as read (``problem``: why it cannot be stored)."""

    key: str
    row: Record | None
    digest: str
    event_id: str | None = None
    prev: str | None = None
    root: str | None = None
    leaf_index: int | None = None
    subject: tuple[str, str] | None = None
    recorded_at: dt.datetime | None = None
    problem: str | None = None


def _timestamp(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a timestamp")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} is not a timestamp") from None
    if parsed.tzinfo is None or iso(parsed) != value:
        raise ValueError(f"{name} is not in the log's form (UTC, microseconds, Z)")
    return parsed


def _fields(record: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, size in _TEXT.items():
        value = record.get(name)
        if value is None and name in _OPTIONAL:
            values[name] = None
            continue
        if not isinstance(value, str) or not 0 < len(value) <= size:
            raise ValueError(f"{name} is not text of at most {size} characters")
        values[name] = value
    prev = record.get("prev")
    if prev is not None and not (isinstance(prev, str) and len(prev) == 64):
        raise ValueError("prev is not a digest")
    if not isinstance(record.get("payload"), dict):
        raise ValueError("payload is not an object")
    unknown = set(record) - {*_TEXT, "prev", "payload", "occurred_at", "recorded_at"}
    if unknown:
        raise ValueError(f"it holds fields no event has: {', '.join(sorted(unknown))[:100]}")
    return {
        **values,
        "prev": prev,
        "payload": record["payload"],
        "occurred_at": _timestamp(record.get("occurred_at"), "occurred_at"),
        "recorded_at": _timestamp(record.get("recorded_at"), "recorded_at"),
    }


def record_row(record: Any) -> Record | None:
    """The record as an event row (not stored), or None when it cannot be one."""
    row, _ = _read(record)
    return row


def _read(record: Any) -> tuple[Record | None, str | None]:
    if not isinstance(record, Mapping):
        return None, "its record is not an object"
    try:
        row = Record(**_fields(record))
    except ValueError as exc:
        return None, f"its record is not an event: {exc}"
    if (problem := row_problem(row)) is not None:
        return row, f"the record is malformed: {problem}"
    try:
        row.digest = digest_hex(content_of(row))
    except (NotCanonicalisable, TypeError, ValueError) as exc:
        return row, f"its content has no canonical form: {exc}"
    return row, None


def _candidate(key: str, entry: Any) -> Candidate:
    entry = entry if isinstance(entry, Mapping) else {}
    row, problem = _read(entry.get("trace:record"))
    if entry.get("trace:problem"):
        problem = f"the plant marks its record malformed: {str(entry['trace:problem'])[:300]}"
    anchor = entry.get("trace:anchor")
    anchor = anchor if isinstance(anchor, Mapping) else {}
    root, index = anchor.get("trace:root"), anchor.get("trace:leafIndex")
    c = Candidate(
        key=key,
        row=row,
        digest=row.digest if row is not None else "",
        event_id=row.id if row is not None else None,
        prev=row.prev if row is not None else None,
        root=root.lower() if isinstance(root, str) and len(root) == 64 else None,
        leaf_index=index if type(index) is int and index >= 0 else None,
        recorded_at=row.recorded_at if row is not None else None,
        problem=problem,
    )
    if row is not None:
        kind = next((k for k in _OPTIONAL if getattr(row, k) is not None), None)
        c.subject = (kind, str(getattr(row, kind))) if kind else None
        if problem is None and kind not in _EPCIS_SUBJECTS:
            c.problem = f"a {kind} record is not an EPCIS event"
    return c


def candidates_of(document: Any) -> list[Candidate]:
    """Every record of the document's ``trace:proofs`` map, as a candidate."""
    proofs = document.get("trace:proofs") if isinstance(document, Mapping) else None
    if not isinstance(proofs, Mapping):
        return []
    out = []
    for key, entries in proofs.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            out.append(_candidate(str(key)[:200], entry))
    return out
