"""Fixtures shared by the whole suite.

Each test gets its own app and its own empty database: a fresh SQLite file,
or — when ``TRACE_TEST_DATABASE_URL`` points at PostgreSQL — a fresh schema
in that database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

from traceability import create_app
from traceability.accounts import services as accounts
from traceability.db import Database
from traceability.models import metadata

pytest_plugins = ["tests.ledger_fixtures"]

PG_URL = os.environ.get("TRACE_TEST_DATABASE_URL", "")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (SQLite by default, PostgreSQL when configured)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'trace.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "env": "test",
        "database_url": database_url,
        "data_dir": tmp_path,
        "ledger_mode": "off",
        "public_url": "https://trace.example.cn",
    }


@pytest.fixture
def app(settings: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(settings)
    engine = Database.engine(app)
    SQLModel.metadata.create_all(engine)  # unit tests only; see test_migrations
    assert metadata is SQLModel.metadata
    yield app
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with Session(Database.engine(app), expire_on_commit=False) as session:
        yield session


@dataclass
class Actor:
    username: str
    org: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_actor(app: Flask) -> Callable[..., Actor]:
    """Create (or reuse) an organisation and a user in it, and give the user a token."""

    def make(
        org: str,
        kind: str,
        role: str = "operator",
        region: str = "320500",
        username: str | None = None,
    ) -> Actor:
        with Session(Database.engine(app)) as session:
            from sqlmodel import select

            from traceability.accounts.models import Organisation

            if session.exec(select(Organisation).where(Organisation.code == org)).first() is None:
                accounts.add_org(
                    session=session,
                    code=org,
                    kind=kind,
                    name=f"{org} Co.",
                    region=region,
                    license_no="LIC-" + org if kind == "dismantler" else None,
                    capacity_units=200_000 if kind == "dismantler" else None,
                )
            name = username or f"{org.lower()}-{role}-{uuid.uuid4().hex[:6]}"
            accounts.add_user(session=session, username=name, org_code=org, role=role)
            token = accounts.create_token(session=session, username=name, ttl_days=30).token
            session.commit()
        return Actor(username=name, org=org, token=token)

    return make


@pytest.fixture
def collector(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("COL-SZ", "collector")


@pytest.fixture
def plant(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("DIS-SZ", "dismantler")


@pytest.fixture
def processor(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("PRO-SZ", "processor")


def new_id() -> str:
    return str(uuid.uuid4())


def manager_headers(client: FlaskClient, actor: Actor) -> dict[str, str]:
    """A manager of ``actor``'s organisation (created once): only managers anchor on demand."""
    app = client.application
    cache: dict[str, dict[str, str]] = app.extensions.setdefault("tests.managers", {})
    if actor.org not in cache:
        name = f"{actor.org.lower()}-manager-{uuid.uuid4().hex[:6]}"
        with Session(Database.engine(app)) as session:
            accounts.add_user(session=session, username=name, org_code=actor.org, role="manager")
            token = accounts.create_token(session=session, username=name, ttl_days=30).token
            session.commit()
        cache[actor.org] = {"Authorization": f"Bearer {token}"}
    return cache[actor.org]
