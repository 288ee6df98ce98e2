"""Factories for organisations, users and their API tokens (the actors of a test)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import Session

from traceability.accounts import services as accounts
from traceability.app import trace_of
from traceability.register.services import register_org


@dataclass
class Actor:
    username: str
    org: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_actor(
    app: Flask,
    org: str,
    kind: str,
    role: str = "operator",
    region: str = "320500",
    username: str | None = None,
    password: str | None = None,
) -> Actor:
    """Create (or reuse) an organisation and a user in it, and give the user a token.

    With ``password`` the user can also sign in to the browser pages.
    """
    from traceability.accounts.models import Organisation

    with Session(trace_of(app).engine) as session:
        if session.scalars(select(Organisation).where(Organisation.code == org)).first() is None:
            register_org(  # the register's event, as `traceability orgs add` records it
                session=session,
                code=org,
                kind=kind,
                name=f"{org} Co.",
                region=region,
                license_no="LIC-" + org if kind == "dismantler" else None,
                capacity_units=200_000 if kind == "dismantler" else None,
                now=trace_of(app).now(),  # the time the test's app lives in
            )
        name = username or f"{org.lower()}-{role}-{uuid.uuid4().hex[:6]}"
        accounts.add_user(
            session=session, username=name, org_code=org, role=role, password=password
        )
        token = accounts.create_token(session=session, username=name, ttl_days=30).token
        session.commit()
    return Actor(username=name, org=org, token=token)


PASSWORD = "correct horse battery"


def manager_headers(client: FlaskClient, actor: Actor) -> dict[str, str]:
    """A manager of ``actor``'s organisation (created once): only managers anchor on demand."""
    app = client.application
    cache: dict[str, dict[str, str]] = app.extensions.setdefault("tests.managers", {})
    if actor.org not in cache:
        name = f"{actor.org.lower()}-manager-{uuid.uuid4().hex[:6]}"
        with Session(trace_of(app).engine) as session:
            accounts.add_user(session=session, username=name, org_code=actor.org, role="manager")
            token = accounts.create_token(session=session, username=name, ttl_days=30).token
            session.commit()
        cache[actor.org] = {"Authorization": f"Bearer {token}"}
    return cache[actor.org]
