"""Changing the organisation register: only a regulator's admin, always through an event.

SPEC §2.8: the register's changes are anchored events made by a regulator
admin. ``SYSTEM`` is the deployment's own admin (the CLI, the demo loader):
it is recorded as the actor ``system`` of organisation ``system`` (lower
case, so never a real organisation's code).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlmodel import Session, col, select

from ledger.keys import address_problem
from traceability.accounts import services as accounts
from traceability.accounts.models import Organisation, OrgKind, Principal, Role
from traceability.db import utcnow
from traceability.errors import Forbidden, NotFound, ValidationFailed
from traceability.register.log import (
    ORG_CHANGED,
    ORG_REGISTERED,
    ROW_FACTS,
    OrgFacts,
    record_org_event,
    register_of,
)

SYSTEM = Principal(
    user_id=0,
    username="system",
    role=Role.admin,
    org_id=0,
    org_code="system",
    org_kind=OrgKind.regulator,
    org_region="",
)
_REGION = re.compile(r"^[1-9]\d{5}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def may_change(by: Principal) -> None:
    if by.role != Role.admin or by.org_kind != OrgKind.regulator:
        raise Forbidden("only a regulator's admin changes the organisation register", field="role")


def _check_submitter(submitter: str | None) -> None:
    if submitter is not None and not _ADDRESS.match(submitter):
        raise ValidationFailed(
            "submitter must be an address: 0x and 40 hexadecimal digits", field="submitter"
        )
    problem = address_problem(submitter) if submitter is not None else None
    if problem:  # e.g. a mistyped EIP-55 checksum
        raise ValidationFailed(f"submitter {problem}", field="submitter")


def register_org(
    *,
    session: Session,
    code: str,
    kind: str,
    name: str,
    region: str,
    license_no: str | None = None,
    capacity_units: int | None = None,
    submitter: str | None = None,
    by: Principal = SYSTEM,
    now: dt.datetime | None = None,
) -> Organisation:
    """A new organisation: its row and the ``org_registered`` event it is replayed from."""
    may_change(by)
    _check_submitter(submitter)
    org = accounts.add_org(
        session=session,
        code=code,
        kind=kind,
        name=name,
        region=region,
        license_no=license_no,
        capacity_units=capacity_units,
    )
    facts = {f: getattr(org, f) for f in ROW_FACTS} | {"submitter": submitter}
    record_org_event(
        session,
        code=code,
        by=by,
        event_type=ORG_REGISTERED,
        payload={k: v for k, v in facts.items() if v is not None},
        now=now or utcnow(),
    )
    return org


def _checked_changes(facts: OrgFacts, changes: dict[str, Any]) -> dict[str, Any]:
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationFailed("name must not be empty", field="name")
    if "region" in changes and not _REGION.match(str(changes["region"])):
        raise ValidationFailed("region must be a 6-digit GB/T 2260 code", field="region")
    if "capacity_units" in changes and changes["capacity_units"] <= 0:
        raise ValidationFailed("capacity must be a positive number of units", field="capacity")
    _check_submitter(changes.get("submitter"))
    return {k: v for k, v in changes.items() if v != getattr(facts, k)}


def change_org(
    *,
    session: Session,
    code: str,
    by: Principal,
    name: str | None = None,
    region: str | None = None,
    license_no: str | None = None,
    capacity_units: int | None = None,
    submitter: str | None = None,
    now: dt.datetime | None = None,
) -> OrgFacts:
    """Change an organisation's facts by an ``org_changed`` event; the row follows the log.

    The admin must be able to read the organisation's region as the register
    says it (the system admin reads every region). Returns the facts replayed
    after the change.
    """
    may_change(by)
    row = session.exec(
        select(Organisation).where(col(Organisation.code) == code).with_for_update()
    ).first()  # one change at a time per organisation: the chain does not fork
    facts = register_of(session, [code]).get(code)
    if row is None or facts is None:
        raise NotFound(f"no organisation {code[:32]}", field="org")
    if by is not SYSTEM and not accounts.can_read_region(by, facts.region):
        raise Forbidden(f"{code} is outside your region", field="org")
    given = {
        "name": name,
        "region": region,
        "license_no": license_no,
        "capacity_units": capacity_units,
        "submitter": submitter,
    }
    changes = _checked_changes(facts, {k: v for k, v in given.items() if v is not None})
    if not changes:
        raise ValidationFailed("nothing to change: every given fact is already so", field="org")
    record_org_event(
        session, code=code, by=by, event_type=ORG_CHANGED, payload=changes, now=now or utcnow()
    )
    after = register_of(session, [code])[code]
    for fact in ROW_FACTS:  # the projection, rewritten from the log
        setattr(row, fact, getattr(after, fact))
    session.add(row)
    session.flush()
    return register_of(session, [code])[code]
