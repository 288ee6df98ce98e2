"""The demo's organisations (registered as events), users and handheld tokens (SPEC §2.8)."""

from __future__ import annotations

import datetime as dt
import sys

from sqlmodel import Session
from tqdm import tqdm

from traceability.accounts import services as accounts
from traceability.accounts.models import Role
from traceability.demo.clock import CST
from traceability.demo.figures import Figures
from traceability.register.services import register_org

PASSWORD = "demo-pass-2026"
TOKEN_USER = "sz.intake"  # the one handheld token the summary shows
# The demo's handheld tokens live as long as a deployment's default (TRACE_TOKEN_TTL_DAYS).
DEMO_TOKEN_TTL_DAYS = 365


def create_people(
    session: Session, figures: Figures, *, token_ttl_days: int = DEMO_TOKEN_TTL_DAYS
) -> tuple[dict[str, accounts.Principal], str]:
    """Every organisation and user; returns each operator's principal and one token."""
    # The register is recorded before the quarter's first shift, as a plant's would be.
    registered = dt.datetime.combine(figures.quarter.first_day, dt.time(7, 0), CST)
    for org in figures.orgs:
        register_org(
            session=session,
            code=org.code,
            kind=org.kind,
            name=org.name,
            region=org.region,
            license_no=org.license_no,
            capacity_units=org.capacity,
            now=registered,
        )
    tokens = {}
    password_hash: str | None = None
    users = [(org, username, role) for org in figures.orgs for username, role in org.accounts]
    for org, username, role in tqdm(
        users, desc="demo users", unit="user", file=sys.stderr, disable=not sys.stderr.isatty()
    ):
        user = accounts.add_user(session=session, username=username, org_code=org.code, role=role)
        # One password for every demo user: hashed once (scrypt costs ~0.2 s a hash).
        user.password_hash = password_hash = password_hash or accounts.generate_password_hash(
            PASSWORD
        )
        if role == Role.operator:  # each handheld user gets its scanner token
            tokens[username] = accounts.create_token(
                session=session,
                username=username,
                ttl_days=token_ttl_days,
                label=f"demo handheld {username}",
            ).token
    session.commit()
    principals = {
        username: accounts.authenticate_token(session=session, token=token)
        for username, token in tokens.items()
    }
    session.commit()
    return principals, tokens[TOKEN_USER]


def logins(figures: Figures) -> list[str]:
    lines = [
        f"Demo logins (password {PASSWORD} for every user):",
        f"  {'username':<14} {'role':<9} {'org':<9} organisation",
    ]
    for org in figures.orgs:
        for username, role in org.accounts:
            lines.append(f"  {username:<14} {role:<9} {org.code:<9} {org.name}")
    return lines
