"""The EPCIS 2.0 query (``GET /epcis/events``, SPEC §4.2): the caller's events, GS1's way.

Readers see the events their organisation recorded (managers) or that the
organisations of their region recorded (auditors, admins of a regulator).
The parameters are GS1's (EPCIS 2.0 §8.2.7.1 SimpleEventQuery, REST binding):
``GE_eventTime``/``LT_eventTime``, ``GE_recordTime``/``LT_recordTime``,
``EQ_bizStep``, ``EQ_bizLocation`` (an organisation's URI), ``MATCH_epc``
(objects observed: ``epcList``), ``MATCH_inputEPC`` (a dismantling's input)
and ``MATCH_anyEPC`` (either: a device's or a lot's whole history). A list
parameter takes several values, repeated or separated by ``|``; an
identifier of another system matches nothing. Pages are ``perPage`` events
in the order they were recorded; the next page is asked for with the
``nextPageToken`` the answer's ``Link`` header carries (keyset paging: a
page stays right while events are added). ``EQ_bizStep`` selects by the
exported business step; corrections (error declarations) come only with no
step filter. The register's and the claims' events are not EPCIS events and
are not exported here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlmodel import Session

from ledger import merkle
from traceability.accounts.models import Principal, Role
from traceability.anchoring.models import AnchorBatch
from traceability.custody.models import Event, EventType
from traceability.custody.wellformed import row_problem
from traceability.db import iso
from traceability.epcis import cbv
from traceability.epcis.mapping import (
    BIZ_STEPS,
    Names,
    epcis_event,
    proof_entry,
    record_key,
    types_of_step,
)
from traceability.errors import Forbidden, ValidationFailed
from traceability.register.scope import readable_orgs
from traceability.reports.devices import anchor_rows

_EVENT = Event.__table__  # type: ignore[attr-defined]
_TOKEN_PREFIX = "s1."


@dataclass(frozen=True)
class EventQuery:
    ge_event_time: dt.datetime | None = None
    lt_event_time: dt.datetime | None = None
    ge_record_time: dt.datetime | None = None
    lt_record_time: dt.datetime | None = None
    eq_biz_step: tuple[str, ...] = ()
    eq_biz_location: tuple[str, ...] = ()
    match_epc: tuple[str, ...] = ()
    match_input_epc: tuple[str, ...] = ()
    match_any_epc: tuple[str, ...] = ()
    #: The ``seq`` of the last event of the previous page (from ``nextPageToken``).
    after: int | None = None
    per_page: int = 100


@dataclass(frozen=True)
class QueryPage:
    document: dict[str, Any]
    #: The token of the next page; None: this is the last.
    next_page_token: str | None


def page_token(seq: int) -> str:
    raw = base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")
    return _TOKEN_PREFIX + raw


def after_of(token: str) -> int:
    """The ``seq`` a ``nextPageToken`` continues after; a 422 naming it when it is not ours."""
    problem = ValidationFailed(
        "nextPageToken is not a token this server gave", field="nextPageToken"
    )
    if not token.startswith(_TOKEN_PREFIX) or len(token) > 40:
        raise problem
    body = token.removeprefix(_TOKEN_PREFIX)
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise problem from None
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise problem
    return int(text)


def biz_step_of(value: str) -> str:
    """A bare CBV step (or its Web URI / CBV 1.x URN) that the export writes; else a 422."""
    step = cbv.bare("bizStep", value)
    if step in cbv.BIZ_STEPS:
        return step
    steps = ", ".join(sorted(set(BIZ_STEPS.values())))
    raise ValidationFailed(
        f"EQ_bizStep must be CBV business steps, such as {steps}", field="EQ_bizStep"
    )


def _subjects(names: Names, uris: Sequence[str]) -> tuple[list[str], list[str]]:
    """The devices and lots among ``uris`` (another system's identifiers name neither)."""
    devices, lots = [], []
    for uri in uris:
        kind, key = names.parse(uri)
        if kind == "device":
            devices.append(key)
        elif kind == "lot":
            lots.append(key)
    return devices, lots


def _epc_clause(names: Names, q: EventQuery) -> Any:
    clauses = []
    for uris, which in ((q.match_epc, "epc"), (q.match_input_epc, "input"),
                        (q.match_any_epc, "any")):  # fmt: skip
        if not uris:
            continue
        devices, lots = _subjects(names, uris)
        dismantled = _EVENT.c.type == EventType.dismantled
        device = _EVENT.c.device.in_(devices)
        if which == "epc":
            clause = or_(and_(device, ~dismantled), _EVENT.c.lot.in_(lots))
        elif which == "input":
            clause = and_(device, dismantled)
        else:
            clause = or_(device, _EVENT.c.lot.in_(lots))
        clauses.append(clause if devices or lots else false())
    return and_(*clauses) if clauses else None


def _filtered(query: Any, orgs: frozenset[str], q: EventQuery, names: Names) -> Any:
    # The register's events (SPEC §2.8) are about organisations, a claim's (§2.6) about a
    # claim and a batch's closing (§2.4) about a processing batch, not EPCIS objects.
    query = query.where(
        _EVENT.c.org.in_(sorted(orgs)),
        _EVENT.c.organisation.is_(None),
        _EVENT.c.claim.is_(None),
        _EVENT.c.batch.is_(None),
    )
    occurred, recorded = _EVENT.c.occurred_at, _EVENT.c.recorded_at
    for column, at_or_after, before in (
        (occurred, q.ge_event_time, q.lt_event_time), (recorded, q.ge_record_time, q.lt_record_time)
    ):  # fmt: skip
        if at_or_after is not None:
            query = query.where(column >= at_or_after)
        if before is not None:
            query = query.where(column < before)
    if q.eq_biz_step:
        types = [t for step in q.eq_biz_step for t in types_of_step(biz_step_of(step))]
        query = query.where(_EVENT.c.type.in_(types))
    if q.eq_biz_location:
        codes = [key for kind, key in map(names.parse, q.eq_biz_location) if kind == "org"]
        query = query.where(_EVENT.c.org.in_(codes))
    if (epcs := _epc_clause(names, q)) is not None:
        query = query.where(epcs)
    if q.after is not None:
        query = query.where(_EVENT.c.seq > q.after)
    return query


def _exported(
    session: Session, rows: list[Any], names: Names
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The rows as EPCIS events, and the ``trace:proofs`` map of their records."""
    positions, anchors = anchor_rows(session, [r.seq for r in rows])
    paths = _audit_paths(session, positions)
    corrected_ids = [
        str(r.payload.get("corrects"))
        for r in rows
        if r.type == EventType.corrected and isinstance(r.payload, dict)
    ]
    targets = (
        {r.id: r for r in session.execute(select(_EVENT).where(_EVENT.c.id.in_(corrected_ids)))}
        if corrected_ids
        else {}
    )
    events: list[dict[str, Any]] = []
    proofs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        entry = proof_entry(row, anchors.get(row.seq), paths.get(row.seq))
        if (problem := row_problem(row)) is not None:
            # Written behind the services (SPEC §3): no event can be made of it; the record is
            # named with what is wrong, so a reader sees it is there and tampered.
            key = f"trace:seq:{row.seq}"
            proofs.setdefault(key, []).append({**entry, "trace:problem": problem})
            continue
        target = targets.get(str(row.payload.get("corrects"))) if row.type == "corrected" else None
        if target is not None and row_problem(target) is not None:
            target = None
        event = epcis_event(names, row, target)
        events.append(event)
        proofs.setdefault(record_key(names, row, event), []).append(entry)
    return events, proofs


def _audit_paths(session: Session, positions: dict[int, tuple[int, int]]) -> dict[int, list[str]]:
    """Each anchored event's Merkle audit path (RFC 9162), each batch's tree built once."""
    wanted: dict[int, list[tuple[int, int]]] = {}
    for seq, (batch_id, index) in positions.items():
        wanted.setdefault(batch_id, []).append((seq, index))
    paths: dict[int, list[str]] = {}
    for batch_id, members in wanted.items():
        batch = session.get(AnchorBatch, batch_id)
        if batch is None:
            continue
        levels = _tree(bytes(batch.leaves))
        paths.update({seq: [p.hex() for p in merkle.path_in(levels, i)] for seq, i in members})
    return paths


@functools.lru_cache(maxsize=4)
def _tree(leaves: bytes) -> list[list[bytes]]:
    """A batch's tree, built once for the pages that read paths off it (keyed by the leaves
    themselves: whatever the database holds now is what the paths are made of)."""
    return merkle.tree_levels([leaves[i : i + 32] for i in range(0, len(leaves), 32)])


def query_document(
    session: Session, principal: Principal, q: EventQuery, public_url: str, now: dt.datetime
) -> QueryPage:
    """One page of the caller's events, oldest recorded first, as an EPCISQueryDocument."""
    if principal.role == Role.operator:
        raise Forbidden("operators cannot export the event log")
    names = Names(public_url)
    orgs = readable_orgs(session, principal)
    rows = list(
        session.execute(
            _filtered(select(_EVENT), orgs, q, names).order_by(_EVENT.c.seq).limit(q.per_page + 1)
        )
    )
    more = len(rows) > q.per_page
    rows = rows[: q.per_page]
    events, proofs = _exported(session, rows, names)
    document = {
        "@context": names.context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(now),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
        "trace:proofs": proofs,
    }
    return QueryPage(document, page_token(rows[-1].seq) if more else None)
