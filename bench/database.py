"""Fresh, migrated databases for one benchmark, and the organisations that use them.

SQLite by default (a new file under the run's temp dir); with ``--db`` a
PostgreSQL URL, each database is a dedicated schema selected through
``options=-csearch_path=...`` and dropped afterwards (the test suite makes its
throwaway schemas the same way; bench/ imports nothing from tests/).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session

from traceability import migrate
from traceability.accounts import services as accounts
from traceability.db import make_engine

COLLECTOR, PLANT = "BENCH-COL", "BENCH-DIS"


@contextmanager
def fresh_database(base_url: str | None, tmp: Path, name: str) -> Iterator[str]:
    """The URL of a new database with the schema migrated to head (Alembic)."""
    if not base_url or base_url.startswith("sqlite"):
        url = f"sqlite:///{tmp / f'{name}.db'}"
        _migrate(url)
        yield url
        return
    with postgres_schema(base_url, prefix=f"bench_{name}") as url:
        _migrate(url)
        yield url


@contextmanager
def postgres_schema(base_url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in ``base_url``'s database, dropped afterwards; yields its URL.

    Every connection of the URL it yields has its search_path set to the schema.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"  # unique across concurrent runs
    admin = create_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
        try:
            sep = "&" if "?" in base_url else "?"
            yield f"{base_url}{sep}options=-csearch_path%3D{name}"
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
    finally:
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        if "%" in engine.url.render_as_string(hide_password=False):
            _upgrade_escaped(engine)
        else:
            migrate.upgrade(engine)
    finally:
        engine.dispose()


def _upgrade_escaped(engine: Engine) -> None:
    """``migrate.upgrade`` for URLs holding ``%`` (``options=-csearch_path%3D...``).

    traceability.migrate.alembic_config puts the URL into Alembic's
    ConfigParser, whose interpolation rejects ``%3D``; migrations/env.py
    only uses the connection, so the URL is left out here.
    """
    from alembic import command
    from alembic.config import Config

    with engine.begin() as connection:
        cfg = Config()
        cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


@dataclass(frozen=True)
class Actor:
    username: str
    org: str
    token: str


def add_actor(engine: Engine, *, org: str, kind: str, username: str) -> Actor:
    """An organisation (created on first use), an operator in it, and their API token."""
    from sqlmodel import select

    from traceability.accounts.models import Organisation

    with Session(engine) as session:
        if session.exec(select(Organisation).where(Organisation.code == org)).first() is None:
            accounts.add_org(
                session=session,
                code=org,
                kind=kind,
                name=f"{org} Co.",
                region="320500",
                license_no=f"LIC-{org}" if kind == "dismantler" else None,
                capacity_units=1_000_000 if kind == "dismantler" else None,
            )
        accounts.add_user(session=session, username=username, org_code=org, role="operator")
        token = accounts.create_token(
            session=session, username=username, label="bench", ttl_days=30
        ).token
        session.commit()
    return Actor(username=username, org=org, token=token)
