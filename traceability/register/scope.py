"""Whose records a user may read: the one organisation scope (SPEC §2.1, §2.8).

A regulator's auditors and admins read the organisations of its region as
the register's events place them — an edited ``organisation`` row moves no
one in or out of sight; everyone else reads their own organisation's. The
API, the portal, the audit, the EPCIS query, claims and device reports all
ask ``readable_orgs``; what a role may do at all (operators have no audit
findings) stays with each feature.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from traceability.accounts.models import Principal
from traceability.accounts.services import REGULATOR_ROLES, can_read_region
from traceability.register.log import register_of


def readable_orgs(
    session: Session, principal: Principal, among: Iterable[str] | None = None
) -> frozenset[str]:
    """The codes of the organisations ``principal`` may read (of ``among``; None: of all)."""
    if principal.role not in REGULATOR_ROLES:
        own = frozenset({principal.org_code})
        return own if among is None else own & frozenset(among)
    register = register_of(session, among)
    return frozenset(c for c, facts in register.items() if can_read_region(principal, facts.region))
