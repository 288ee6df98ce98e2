"""Recording and replaying the register's events (SPEC §2.8, §3).

``org_registered`` carries every fact of a new organisation; ``org_changed``
only the facts it changes; ``submitter_grant``/``submitter_revoke``
assign (withdraw) its anchoring address, with the registry transaction that
did so on chain. Replaying them in recording order gives what the
register says; the ``organisation`` row is compared against it, never obeyed:
a row that disagrees is a ``projection_mismatch``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import insert, select
from sqlmodel import Session

from ledger.canonical import digest_hex, event_content
from traceability.accounts.models import Organisation, Principal
from traceability.custody.models import Event
from traceability.db import iso
from traceability.errors import NotFound

ORG_REGISTERED = "org_registered"
ORG_CHANGED = "org_changed"
#: The regulator authorised (revoked) an anchoring address on the registry for this
#: organisation: ``traceability ledger authorize|revoke`` (``register.submitters``).
SUBMITTER_GRANT = "submitter_grant"
SUBMITTER_REVOKE = "submitter_revoke"
#: The facts the register holds, as named in events and on the ``organisation`` row.
FACTS = ("kind", "name", "region", "license_no", "capacity_units", "submitter")
#: The facts the ``organisation`` row also holds (the submitter address lives only in the log).
ROW_FACTS = FACTS[:-1]
PROJECTION_MISMATCH: Final = "projection_mismatch"

_EVENT = Event.__table__  # type: ignore[attr-defined]
_ORG = Organisation.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class OrgFacts:
    """An organisation as its register events say (the row's values where it has none).

    ``mismatch`` names the facts on which the ``organisation`` row disagrees
    with the replay, with the row's values in ``row``; ``logged`` is False for
    a row no register event speaks for (its facts are then the row's own).
    """

    code: str
    kind: str
    name: str
    region: str
    license_no: str | None = None
    capacity_units: int | None = None
    submitter: str | None = None
    logged: bool = True
    events: int = 0
    mismatch: tuple[str, ...] = ()
    row: Mapping[str, Any] | None = None

    @property
    def status(self) -> str | None:
        """``projection_mismatch`` when the row disagrees with the log (or has none), else None."""
        return PROJECTION_MISMATCH if self.mismatch else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            **{f: getattr(self, f) for f in FACTS},
            "events": self.events,
            "status": self.status,
            "mismatch": list(self.mismatch),
            "row": dict(self.row) if self.row is not None else None,
        }


def last_digest(session: Session, code: str) -> str | None:
    """The digest of the organisation's latest register event (its chain's head)."""
    query = (
        select(_EVENT.c.digest)
        .where(_EVENT.c.organisation == code)
        .order_by(_EVENT.c.seq.desc())
        .limit(1)
    )
    return session.execute(query).scalar()


def record_org_event(
    session: Session,
    *,
    code: str,
    by: Principal,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
) -> str:
    """Append an event to the organisation's chain (in the caller's transaction); its digest."""
    event_id, prev = str(uuid.uuid4()), last_digest(session, code)
    content = event_content(
        id=event_id,
        type=event_type,
        org=by.org_code,
        actor=by.username,
        occurred_at=iso(now),
        recorded_at=iso(now),
        payload=payload,
        prev=prev,
        organisation=code,
    )
    digest = digest_hex(content)
    session.execute(
        insert(_EVENT).values(
            id=event_id,
            type=event_type,
            organisation=code,
            org=by.org_code,
            actor=by.username,
            occurred_at=now,
            recorded_at=now,
            payload=dict(payload),
            prev=prev,
            digest=digest,
        )
    )
    return digest


def replay_org(code: str, rows: Iterable[Any]) -> OrgFacts | None:
    """The organisation's facts from its register events (recording order); None: no event."""
    facts: dict[str, Any] | None = None
    count = 0
    for row in rows:
        payload = row.payload if isinstance(row.payload, Mapping) else {}
        if row.type == ORG_REGISTERED and facts is None:
            facts = {f: payload.get(f) for f in FACTS}
        elif row.type == ORG_CHANGED and facts is not None:
            facts.update({f: payload[f] for f in FACTS if f in payload})
        elif row.type == SUBMITTER_GRANT and facts is not None:
            facts["submitter"] = payload.get("submitter")
        elif row.type == SUBMITTER_REVOKE and facts is not None and _same(facts, payload):
            facts["submitter"] = None
        count += 1
    if facts is None:
        return None
    return OrgFacts(
        code=code,
        kind=str(facts["kind"]),
        name=str(facts["name"]),
        region=str(facts["region"]),
        license_no=facts["license_no"],
        capacity_units=facts["capacity_units"],
        submitter=facts["submitter"],
        events=count,
    )


def _same(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """Whether ``payload`` names the submitter ``facts`` hold."""
    return str(facts["submitter"] or "").lower() == str(payload.get("submitter")).lower()


def _compared(facts: OrgFacts | None, row: Any | None, code: str) -> OrgFacts:
    if facts is None:  # a row no event speaks for: its own word, flagged
        assert row is not None
        own = {f: getattr(row, f) for f in ROW_FACTS}
        return OrgFacts(code=code, **own, logged=False, mismatch=("unregistered",), row=own)
    if row is None:  # events but no row: the row was deleted
        return replace(facts, mismatch=("missing",))
    differs = tuple(f for f in ROW_FACTS if getattr(row, f) != getattr(facts, f))
    if not differs:
        return facts
    return replace(facts, mismatch=differs, row={f: getattr(row, f) for f in differs})


def register_logs(
    session: Session, codes: Iterable[str] | None = None
) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every organisation's register events (recording order) and its row, by code."""
    events = select(_EVENT).where(_EVENT.c.organisation.is_not(None)).order_by(_EVENT.c.seq)
    orgs = select(_ORG)
    if codes is not None:
        wanted = sorted(set(codes))
        events = events.where(_EVENT.c.organisation.in_(wanted))
        orgs = orgs.where(_ORG.c.code.in_(wanted))
    logs: dict[str, list[Any]] = defaultdict(list)
    for row in session.execute(events):
        logs[row.organisation].append(row)
    return dict(logs), {row.code: row for row in session.execute(orgs)}


def register_from(
    logs: Mapping[str, Sequence[Any]], rows: Mapping[str, Any]
) -> dict[str, OrgFacts]:
    """Each organisation replayed from ``logs``, compared with its row in ``rows``, by code."""
    return {
        code: _compared(replay_org(code, logs.get(code, ())), rows.get(code), code)
        for code in sorted(set(logs) | set(rows))
    }


def register_of(session: Session, codes: Iterable[str] | None = None) -> dict[str, OrgFacts]:
    """Every organisation (or those of ``codes``) as replayed, compared with its row, by code."""
    return register_from(*register_logs(session, codes))


def regions(session: Session) -> dict[str, str]:
    """Each organisation's region as the register's events say (code → region).

    What region scoping reads (SPEC §2.1): an edited row moves no one out of
    its regulator's sight.
    """
    return {code: facts.region for code, facts in register_of(session).items()}


def register_region(session: Session, code: str) -> str:
    """One organisation's region as the register says; NotFound when nothing speaks for it."""
    facts = register_of(session, [code]).get(code)
    if facts is None:
        raise NotFound(f"no organisation {code[:32]}", field="org")
    return facts.region
