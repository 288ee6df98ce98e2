"""Who sees what in the portal, and the period a page shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import g, request
from sqlmodel import Session

from traceability.accounts.models import OrgKind, Principal, Role
from traceability.app import current_trace, get_session
from traceability.db import iso
from traceability.errors import Forbidden
from traceability.paging import Paging, paging_of
from traceability.periods import Period, last_closed_quarter, parse_period, quarter_of
from traceability.register.log import OrgFacts, register_of
from traceability.register.scope import readable_orgs

PORTAL_ROLES = (Role.manager, Role.auditor, Role.admin)


@dataclass(frozen=True)
class Scope:
    """The organisations the signed-in user may read (code → the register's facts)."""

    principal: Principal
    orgs: dict[str, OrgFacts]

    @property
    def plants(self) -> list[OrgFacts]:
        return [o for o in self.orgs.values() if o.kind == OrgKind.dismantler]

    @property
    def mismatched(self) -> list[OrgFacts]:
        """Readable organisations whose row disagrees with the register's events."""
        return [o for o in self.orgs.values() if o.mismatch]

    def plant(self, code: str) -> OrgFacts:
        org = self.orgs.get(code)
        if org is None or org.kind != OrgKind.dismantler:
            raise Forbidden(f"{code[:32]} is outside the records you may read", field="plant")
        return org


def scope_of(session: Session, principal: Principal) -> Scope:
    """The organisations ``principal`` may read (``register.scope``), as the register's
    events say (SPEC §2.8): an edited row neither hides a plant nor changes what is shown."""
    return Scope(principal, register_of(session, readable_orgs(session, principal)))


def current_scope() -> Scope:
    principal: Principal = g.principal
    return scope_of(get_session(), principal)


def requested_period(default: Period | None = None) -> Period:
    raw = request.args.get("period")
    if not raw:
        return default or last_closed_quarter(current_trace().now())
    return parse_period(raw[:16])


def recent_quarters(now: dt.datetime, count: int = 6) -> list[str]:
    names, period = [], quarter_of(now)
    for _ in range(count):
        names.append(period.name)
        period = quarter_of(period.start - dt.timedelta(days=1))
    return names


def requested_paging(per_page: int) -> Paging:
    """The page of a portal list: ``page`` from 1, of ``per_page`` rows (not for the reader)."""
    return paging_of(request.args, per_page=per_page)


def closed_at(period: Period) -> str | None:
    """The period's close once it has closed (its figures are as recorded by then, issue 17
    item 8), as the API writes times; None while it is open."""
    return iso(period.end) if period.closed(current_trace().now()) else None
