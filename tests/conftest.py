"""Fixtures shared by the whole suite.

Each test gets its own app and its own database: a fresh SQLite file, or —
when ``TRACE_TEST_DATABASE_URL`` points at PostgreSQL — a fresh schema in
that database, dropped afterwards. A module may make its tests start from a
copy of a template instead (``database_template``, see tests/api/conftest.py).
Helpers to import live in tests/support/ (one module per concern).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, SQLModel
from werkzeug.security import generate_password_hash

from tests.support.accounts import Actor, add_actor
from tests.support.databases import (
    DatabaseTemplate,
    default_settings,
    empty_schema,
    fresh_database,
    start_from_schema,
)
from traceability import create_app
from traceability.app import trace_of
from traceability.clock import Clock
from traceability.models import metadata

pytest_plugins = ["tests.ledger_fixtures"]


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Passwords hashed with one PBKDF2 round instead of werkzeug's scrypt (0.1 s each).

    The suite hashes and checks hundreds of passwords and no test is about
    the hash's cost; the scheme a stored hash names is still the one checked.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "traceability.accounts.services.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        yield


@pytest.fixture
def database_template() -> DatabaseTemplate | None:
    """What this test's database starts as a copy of: nothing (an empty database)."""
    return None


@pytest.fixture
def database_url(tmp_path: Path, database_template: DatabaseTemplate | None) -> Iterator[str]:
    """A database of this test's own (SQLite by default, PostgreSQL when configured)."""
    with fresh_database(tmp_path, database_template) as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return default_settings(database_url, tmp_path)


@pytest.fixture
def clock() -> Clock | None:
    """The time the app lives in: the machine's, unless a test module fixes it."""
    return None


@pytest.fixture(scope="session")
def schema_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """Every table, created once per xdist worker (SQLite; None on PostgreSQL)."""
    with empty_schema(tmp_path_factory.mktemp("schema")) as path:
        yield path


@pytest.fixture
def app(settings: dict[str, Any], clock: Clock | None, schema_file: Path | None) -> Iterator[Flask]:
    start_from_schema(settings["database_url"], schema_file)  # unless it is a template's copy
    app = create_app(settings, clock=clock)
    engine = trace_of(app).engine
    SQLModel.metadata.create_all(engine)  # unit tests only; see test_migrations
    assert metadata is SQLModel.metadata
    yield app
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with Session(trace_of(app).engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_actor(app: Flask) -> Callable[..., Actor]:
    """Create (or reuse) an organisation and a user in it, and give the user a token."""
    return partial(add_actor, app)


@pytest.fixture
def collector(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("COL-SZ", "collector")


@pytest.fixture
def plant(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("DIS-SZ", "dismantler")


@pytest.fixture
def processor(make_actor: Callable[..., Actor]) -> Actor:
    return make_actor("PRO-SZ", "processor")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with two xdist workers, a 40-second test handed out last would
    end the run alone on one worker while the other sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
