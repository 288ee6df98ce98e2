"""Audit findings worked as cases (issue 20 item 2): assign, comment, ask the plant, close.

A case is a finding's own chain of events, recorded and anchored like a claim
review (``claims.events``): each step is a row of the event log whose subject
code (the ``claim`` column, the regulator's records) is the case's code, with
its digest, ``prev`` naming the case's previous step, and a place in a Merkle
batch; the ``Verifier`` checks it as it checks every other chain. There is no
case table: a case's state is its steps replayed (SPEC §3).

A finding's identity across audit refreshes is its rule, its organisation and
its subject (a device, a lot, a plant's line-day...): neither its time nor its
figures, which a later event may move. One case covers every finding of that
rule on that subject (two corrections of one device: one case). The code is
``CASE-<plant>-<16 hex of SHA-256 of rule|org|subject>``, so a finding names
its case without a lookup, and a plant's cases are read by prefix.

Who may do what: a regulator's auditor whose region covers the plant assigns
(to an auditor who may read the plant too), comments, requests information
and closes with a reason code (``data/case_reasons.toml``); the plant's
manager answers an open request. A closed case takes no further step.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select
from sqlmodel import Session

from ledger.canonical import digest_hex, event_content
from traceability import limits
from traceability.accounts.models import Organisation, OrgKind, Principal, Role, User
from traceability.accounts.services import can_read_region
from traceability.anchoring.trust import TrustedLedger
from traceability.audit.findings import Finding
from traceability.catalog.files import read_toml, validated
from traceability.custody.models import Event
from traceability.db import begin_write, iso
from traceability.errors import Conflict, Forbidden, NotFound, ValidationFailed
from traceability.register.log import register_of
from traceability.register.scope import readable_orgs
from traceability.reports.devices import anchor_rows
from traceability.reports.schemas import AnchorInfo
from traceability.verification.services import Verifier

CASE_REASONS = Path(__file__).parent / "data" / "case_reasons.toml"
PREFIX = "CASE-"

CASE_OPENED = "case_opened"  # a case no rule found (a sample's "does not match")
CASE_ASSIGNED = "case_assigned"
CASE_COMMENTED = "case_commented"
CASE_INFO_REQ = "case_info_req"
CASE_ANSWERED = "case_answered"
CASE_CLOSED = "case_closed"
CASE_TYPES = (CASE_OPENED, CASE_ASSIGNED, CASE_COMMENTED, CASE_INFO_REQ, CASE_ANSWERED, CASE_CLOSED)

#: A case's state, as its steps replayed say.
OPEN, AWAITING_PLANT, ANSWERED, CLOSED = "open", "awaiting_plant", "answered", "closed"
STATES = (OPEN, AWAITING_PLANT, ANSWERED, CLOSED)

Action = Literal["assign", "comment", "request_info", "answer", "close"]
_TYPE_OF: dict[str, str] = {
    "assign": CASE_ASSIGNED,
    "comment": CASE_COMMENTED,
    "request_info": CASE_INFO_REQ,
    "answer": CASE_ANSWERED,
    "close": CASE_CLOSED,
}
_EVENT = Event.__table__  # type: ignore[attr-defined]


class CaseReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    outcome: Literal["confirmed", "explained", "false_positive"]
    source: str = Field(min_length=1)
    note_required: bool = False


class CaseReasons(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    reasons: dict[str, CaseReason] = Field(min_length=1)


@cache
def load_case_reasons(path: Path = CASE_REASONS) -> CaseReasons:
    """The closing codes in ``path``; a ``CatalogDataError`` names the file and key at fault."""
    return validated(CaseReasons, read_toml(path), path)


@dataclass(frozen=True)
class CaseKey:
    """What a case is about: a finding's rule, organisation (the plant) and subject."""

    rule: str
    org: str
    subject: str

    @property
    def code(self) -> str:
        h = hashlib.sha256(f"{self.rule}|{self.org}|{self.subject}".encode()).hexdigest()
        return f"{PREFIX}{self.org}-{h[:16]}"

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "org": self.org, "subject": self.subject}


def key_of(finding: Finding) -> CaseKey:
    return CaseKey(finding.rule, finding.org, finding.subject)


def plant_of_code(code: str) -> str:
    """The plant a case code names (``CASE-<plant>-<hex>``); a 404 for what is no case code."""
    body = code.removeprefix(PREFIX)
    plant, _sep, digest = body.rpartition("-")
    if not code.startswith(PREFIX) or not plant or len(digest) != 16:
        raise NotFound(f"{code[:64]!r} is not a case", field="case")
    return plant


@dataclass(frozen=True)
class CaseStep:
    """One step of a case: who did what when (UTC; pages show Beijing time), as verified."""

    id: str
    type: str
    org: str
    actor: str
    at: dt.datetime
    payload: dict[str, Any]
    digest: str
    status: str = "pending"
    anchor: AnchorInfo | None = None


@dataclass(frozen=True)
class Case:
    """A case as its steps replayed say (no step yet: open, unassigned)."""

    key: CaseKey
    state: str = OPEN
    assignee: str | None = None
    reason: str | None = None
    closed_at: dt.datetime | None = None
    steps: tuple[CaseStep, ...] = field(default=())

    @property
    def code(self) -> str:
        return self.key.code

    @property
    def is_open(self) -> bool:
        return self.state != CLOSED


def replay_case(key: CaseKey, steps: Sequence[CaseStep]) -> Case:
    """The case's state after ``steps`` in recording order (unknown types change nothing)."""
    state, assignee, reason, closed = OPEN, None, None, None
    for s in steps:
        if state == CLOSED:
            break  # a closed case takes no step; one written by hand changes nothing
        if s.type == CASE_ASSIGNED:
            assignee = str(s.payload.get("assignee") or "") or None
        elif s.type == CASE_INFO_REQ:
            state = AWAITING_PLANT
        elif s.type == CASE_ANSWERED and state == AWAITING_PLANT:
            state = ANSWERED
        elif s.type == CASE_CLOSED:
            state, reason, closed = CLOSED, str(s.payload.get("reason") or ""), s.at
    return Case(key, state, assignee, reason, closed, tuple(steps))


def _step(row: Any, status: str = "pending", anchor: AnchorInfo | None = None) -> CaseStep:
    payload = dict(row.payload) if isinstance(row.payload, Mapping) else {}
    return CaseStep(
        str(row.id), str(row.type), str(row.org), str(row.actor), row.occurred_at, payload,
        str(row.digest), status, anchor,
    )  # fmt: skip


def _key_from(code: str, rows: Sequence[Any]) -> CaseKey | None:
    for row in rows:
        raw = row.payload.get("finding") if isinstance(row.payload, Mapping) else None
        if isinstance(raw, Mapping):
            key = CaseKey(str(raw.get("rule")), str(raw.get("org")), str(raw.get("subject")))
            if key.code == code:
                return key
    return None


def plant_cases(session: Session, plant: str) -> dict[str, Case]:
    """Every case of ``plant`` that has a step, by code (statuses not checked: lists)."""
    rows: dict[str, list[Any]] = defaultdict(list)
    query = (
        select(_EVENT)
        .where(_EVENT.c.claim.startswith(f"{PREFIX}{plant}-", autoescape=True))
        .order_by(_EVENT.c.seq)
    )
    for row in session.execute(query):
        rows[row.claim].append(row)
    cases: dict[str, Case] = {}
    for code, group in rows.items():
        key = _key_from(code, group)
        if key is not None and key.org == plant:
            cases[code] = replay_case(key, [_step(r) for r in group])
    return cases


def verified_case(session: Session, ledger: TrustedLedger, key: CaseKey) -> Case:
    """One case with each step's verification status and anchor (its timeline)."""
    rows = list(
        session.execute(select(_EVENT).where(_EVENT.c.claim == key.code).order_by(_EVENT.c.seq))
    )
    positions, anchors = anchor_rows(session, [r.seq for r in rows])
    statuses = Verifier.for_ledger(session, ledger).statuses(rows, positions)
    steps = [_step(r, s, anchors.get(r.seq)) for r, s in zip(rows, statuses, strict=True)]
    return replay_case(key, steps)


def key_of_code(session: Session, code: str, findings: Iterable[Finding]) -> CaseKey:
    """The finding (or recorded case) a code names; a 404 when neither does."""
    plant = plant_of_code(code)
    for f in findings:
        if f.org == plant and key_of(f).code == code:
            return key_of(f)
    case = plant_cases(session, plant).get(code)
    if case is None:
        raise NotFound(f"no finding or case {code[:64]}", field="case")
    return case.key


class CaseAction(BaseModel):
    """One step asked for: ``text`` for a comment, request or answer; ``assignee`` (a
    username) to assign; ``reason`` (a closing code) and ``note`` to close."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    text: str | None = Field(default=None, max_length=limits.REASON)
    assignee: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=limits.CODE)
    note: str | None = Field(default=None, max_length=limits.REASON)


def check_case_reader(session: Session, principal: Principal, plant: str) -> None:
    """A case is read by whoever may read its plant (an auditor of its region, its
    manager); operators read no case."""
    if principal.role == Role.operator:
        raise Forbidden("operators have no access to audit cases", field="role")
    if plant not in readable_orgs(session, principal, [plant]):
        raise Forbidden(f"{plant[:32]} is outside the records you may read", field="plant")


def act_on_case(
    session: Session,
    principal: Principal,
    key: CaseKey,
    request: CaseAction,
    now: dt.datetime,
    *,
    opened: Mapping[str, Any] | None = None,
) -> Case:
    """Record one step of the case (in a write transaction, committed); the case after it.

    ``opened``: the case has no finding of the audit behind it (a sample's outcome):
    its first step is a ``case_opened`` event with this payload.
    """
    check_case_reader(session, principal, key.org)
    payload = _payload(session, principal, key, request)
    begin_write(session)
    before = plant_cases(session, key.org).get(key.code) or Case(key)
    _check_state(before, request.action)
    if opened is not None and not before.steps:
        record_case_event(session, principal, key, CASE_OPENED, dict(opened), now)
    record_case_event(session, principal, key, _TYPE_OF[request.action], payload, now)
    session.commit()
    return plant_cases(session, key.org)[key.code]


def _payload(
    session: Session, principal: Principal, key: CaseKey, request: CaseAction
) -> dict[str, Any]:
    """What the step's event records; a 4xx naming the field for what may not be done."""
    if request.action == "answer":
        if principal.role != Role.manager:
            raise Forbidden("only the plant's manager answers a request", field="action")
    elif principal.role != Role.auditor:
        raise Forbidden("only a regulator's auditor works a case", field="action")
    if request.action == "assign":
        return {"assignee": _assignee(session, key, (request.assignee or "").strip())}
    if request.action == "close":
        return _closing(request)
    text = (request.text or "").strip()
    if not text:
        raise ValidationFailed(f"a step to {request.action} needs a text", field="text")
    return {"text": text}


def _closing(request: CaseAction) -> dict[str, Any]:
    reasons = load_case_reasons().reasons
    code = (request.reason or "").strip()
    reason = reasons.get(code)
    if reason is None:
        raise ValidationFailed(
            f"{code[:40]!r} is not a closing reason code (one of {', '.join(reasons)})",
            field="reason",
        )
    note = (request.note or "").strip()
    if reason.note_required and not note:
        raise ValidationFailed(f"reason {code} needs a note", field="note")
    return {"reason": code, "outcome": reason.outcome, **({"note": note} if note else {})}


def _assignee(session: Session, key: CaseKey, username: str) -> str:
    """``username``, if an active auditor of a regulator whose region covers the plant."""
    if not username:
        raise ValidationFailed("name the auditor to assign the case to", field="assignee")
    user, org = User.__table__.c, Organisation.__table__.c  # type: ignore[attr-defined]
    row = session.execute(
        select(user.username, user.role, user.is_active, user.id, org.id.label("oid"), org.code)
        .join(Organisation.__table__, org.id == user.org_id)  # type: ignore[attr-defined]
        .where(user.username == username)
    ).first()
    if row is None or row.role != Role.auditor or not row.is_active:
        raise ValidationFailed(f"{username[:64]!r} is no active auditor", field="assignee")
    facts = register_of(session, [row.code, key.org])
    if row.code not in facts or key.org not in facts:
        raise ValidationFailed(f"{username[:64]!r} is no auditor of a region", field="assignee")
    who = Principal(
        row.id, row.username, Role.auditor, row.oid, row.code, OrgKind(facts[row.code].kind),
        facts[row.code].region,
    )  # fmt: skip
    if not can_read_region(who, facts[key.org].region):
        raise ValidationFailed(
            f"{username[:64]!r} is not an auditor of the plant's region", field="assignee"
        )
    return username


def _check_state(case: Case, action: str) -> None:
    if case.state == CLOSED:
        raise Conflict(f"case {case.code} is closed: it takes no further step", field="case")
    if action == "answer" and case.state != AWAITING_PLANT:
        raise Conflict(
            f"case {case.code} has no open request for information to answer", field="case"
        )


def record_case_event(
    session: Session,
    principal: Principal,
    key: CaseKey,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
) -> str:
    """Append a step to the case's chain (in the caller's transaction); its digest."""
    body = {"finding": key.to_json(), **payload}
    return append_to_chain(session, principal, key.code, event_type, body, now)


def append_to_chain(
    session: Session,
    principal: Principal,
    code: str,
    event_type: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
) -> str:
    """Append an event to the reviewer's chain ``code`` (a case's, a sample's), linked to its
    last event and digested as every event is (in the caller's transaction); its digest."""
    prev = session.execute(
        select(_EVENT.c.digest).where(_EVENT.c.claim == code).order_by(_EVENT.c.seq.desc()).limit(1)
    ).scalar()
    body = dict(payload)
    event_id = str(uuid.uuid4())
    content = event_content(
        id=event_id, type=event_type, org=principal.org_code, actor=principal.username,
        occurred_at=iso(now), recorded_at=iso(now), payload=body, prev=prev, claim=code,
    )  # fmt: skip
    digest = digest_hex(content)
    session.execute(
        insert(_EVENT).values(
            id=event_id, type=event_type, claim=code, org=principal.org_code,
            actor=principal.username, occurred_at=now, recorded_at=now, payload=body,
            prev=prev, digest=digest,
        )
    )  # fmt: skip
    return digest
