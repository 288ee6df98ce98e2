"""The EPCIS 2.0 query (``GET /epcis/events``): the caller's events as an EPCISQueryDocument.

Readers see the events their organisation recorded (managers) or that the
organisations of their region recorded (auditors, admins of a regulator).
``EQ_bizStep`` selects by the exported business step; corrections (error
declarations) come only with no step filter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from traceability.accounts.models import Principal, Role
from traceability.custody.models import Event, EventType
from traceability.db import iso, utcnow
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


@dataclass(frozen=True)
class EventQuery:
    ge_event_time: dt.datetime | None = None
    lt_event_time: dt.datetime | None = None
    eq_biz_step: str | None = None
    page: int = 1
    per_page: int = 100


def _filtered(query: Any, orgs: frozenset[str], q: EventQuery) -> Any:
    # The register's events (SPEC §2.8) are about organisations, not EPCIS objects.
    query = query.where(_EVENT.c.org.in_(sorted(orgs)), _EVENT.c.organisation.is_(None))
    if q.ge_event_time is not None:
        query = query.where(_EVENT.c.occurred_at >= q.ge_event_time)
    if q.lt_event_time is not None:
        query = query.where(_EVENT.c.occurred_at < q.lt_event_time)
    if q.eq_biz_step is not None:
        if q.eq_biz_step not in set(BIZ_STEPS.values()):
            raise ValidationFailed(
                f"EQ_bizStep must be one of {', '.join(sorted(set(BIZ_STEPS.values())))}",
                field="EQ_bizStep",
            )
        query = query.where(_EVENT.c.type.in_(types_of_step(q.eq_biz_step)))
    return query


def query_document(
    session: Session, principal: Principal, q: EventQuery, public_url: str
) -> dict[str, Any]:
    """One page of the caller's events, oldest recorded first, as an EPCISQueryDocument."""
    if principal.role == Role.operator:
        raise Forbidden("operators cannot export the event log")
    orgs = readable_orgs(session, principal)
    total = session.execute(_filtered(select(func.count()).select_from(_EVENT), orgs, q)).scalar()
    rows = list(
        session.execute(
            _filtered(select(_EVENT), orgs, q)
            .order_by(_EVENT.c.seq)
            .offset((q.page - 1) * q.per_page)
            .limit(q.per_page)
        )
    )
    _, anchors = anchor_rows(session, [r.seq for r in rows])
    corrected_ids = [str(r.payload.get("corrects")) for r in rows if r.type == EventType.corrected]
    targets = (
        {r.id: r for r in session.execute(select(_EVENT).where(_EVENT.c.id.in_(corrected_ids)))}
        if corrected_ids
        else {}
    )
    names = Names(public_url)
    events: list[dict[str, Any]] = []
    proofs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        target = targets.get(str(row.payload.get("corrects"))) if row.type == "corrected" else None
        event = epcis_event(names, row, target)
        events.append(event)
        proofs.setdefault(record_key(names, row, event), []).append(
            proof_entry(row, anchors.get(row.seq))
        )
    return {
        "@context": names.context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(utcnow()),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": events},
            }
        },
        "trace:proofs": proofs,
        "trace:page": q.page,
        "trace:perPage": q.per_page,
        "trace:total": int(total or 0),
    }
