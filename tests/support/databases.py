"""Throwaway databases: one per test, or a copy of a module's template.

SQLite files by default; with ``TRACE_TEST_DATABASE_URL`` PostgreSQL schemas
(empty) or databases (copied from a template), unique across xdist workers."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from flask import Flask
from sqlalchemy import Engine, create_engine, func, make_url, select, text, update

from traceability.app import trace_of
from traceability.devices.models import Device
from traceability.models import metadata

PG_URL = os.environ.get("TRACE_TEST_DATABASE_URL", "")


def postgres_schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path set to ``schema``."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options=-csearch_path%3D{schema}"


def unique_name(prefix: str) -> str:
    """A schema or database name no other test, xdist worker or benchmark uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def postgres_schema(base_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty schema in ``base_url``'s database, dropped afterwards; yields its URL."""
    schema = unique_name(prefix)
    admin = create_engine(base_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            yield postgres_schema_url(base_url, schema)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


def create_postgres_database(base_url: str, prefix: str, template: str | None = None) -> str:
    """A new database beside ``base_url``'s (a copy of ``template`` if given); its URL.

    Copying a template database is PostgreSQL's own way to clone a whole
    database; it needs the template to have no open connection.
    """
    name = unique_name(prefix)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f" TEMPLATE {template}" if template else ""
            conn.execute(text(f"CREATE DATABASE {name}{copy}"))
    finally:
        admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(base_url: str, url: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
    finally:
        admin.dispose()


@contextmanager
def postgres_database(base_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database beside ``base_url``'s (a copy of ``template``), dropped afterwards."""
    url = create_postgres_database(base_url, prefix, template)
    try:
        yield url
    finally:
        drop_postgres_database(base_url, url)


@dataclass(frozen=True)
class DatabaseTemplate:
    """A database built once (by a module-scoped fixture) that tests start from a copy of."""

    url: str

    @property
    def postgres_name(self) -> str:
        name = make_url(self.url).database
        assert name, self.url
        return name


@contextmanager
def template_database(directory: Path) -> Iterator[DatabaseTemplate]:
    """An empty database to build a template in: a SQLite file, or a PostgreSQL database."""
    if not PG_URL:
        yield DatabaseTemplate(f"sqlite:///{directory / 'template.db'}")
        return
    with postgres_database(PG_URL, "tpl") as url:
        yield DatabaseTemplate(url)


@contextmanager
def shared_template(
    factory: pytest.TempPathFactory, name: str, build: Callable[[DatabaseTemplate, Path], str]
) -> Iterator[tuple[DatabaseTemplate, str]]:
    """A template database built once per test run, by whichever xdist worker asks first.

    ``build(template, directory)`` fills the empty template and returns a text
    to keep with it. The workers share the run's base temporary directory: a
    file lock there makes the others wait for the first build and reuse it; the
    last worker to let go removes it.
    """
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above each worker's own
    directory = root / f"shared-{name}"
    state_file = root / f"shared-{name}.json"
    lock = FileLock(root / f"shared-{name}.lock")
    with lock:
        if state_file.exists():
            state = json.loads(state_file.read_text())
        else:
            directory.mkdir(exist_ok=True)
            url = (
                create_postgres_database(PG_URL, "tpl")
                if PG_URL
                else (f"sqlite:///{directory / 'template.db'}")
            )
            try:
                kept = build(DatabaseTemplate(url), directory)
            except BaseException:
                _remove_template(url)
                raise
            state = {"url": url, "kept": kept, "users": 0}
        state["users"] += 1
        state_file.write_text(json.dumps(state))
    try:
        yield DatabaseTemplate(state["url"]), state["kept"]
    finally:
        with lock:
            state = json.loads(state_file.read_text())
            state["users"] -= 1
            if state["users"]:
                state_file.write_text(json.dumps(state))
            else:
                _remove_template(state["url"])
                state_file.unlink()


def _remove_template(url: str) -> None:
    path = sqlite_path(url)
    if path is None:
        drop_postgres_database(PG_URL, url)
    else:
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)


@contextmanager
def fresh_database(directory: Path, template: DatabaseTemplate | None = None) -> Iterator[str]:
    """The URL of a database of one test's own: empty, or a copy of ``template``.

    SQLite by default (a file in ``directory``); with TRACE_TEST_DATABASE_URL a
    PostgreSQL schema (empty) or database (copied), unique across xdist workers.
    """
    if not PG_URL:
        path = directory / "trace.db"
        if template is not None:
            # The backup API copies a consistent image, WAL content included.
            source, copy = (
                sqlite3.connect(make_url(template.url).database or ""),
                sqlite3.connect(path),
            )
            try:
                source.backup(copy)
            finally:
                source.close()
                copy.close()
        yield f"sqlite:///{path}"
        return
    if template is None:
        with postgres_schema(PG_URL) as url:
            yield url
    else:
        with postgres_database(PG_URL, "t", template=template.postgres_name) as url:
            yield url


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for another database)."""
    url = make_url(database_url)
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


@contextmanager
def empty_schema(directory: Path) -> Iterator[Path | None]:
    """A SQLite file holding every table and nothing else, for tests to copy (None on PostgreSQL).

    Creating the 22 tables costs a test about 80 ms (mostly fsyncs); copying
    the closed file costs well under one.
    """
    if PG_URL:
        yield None
        return
    from sqlmodel import SQLModel

    from traceability.db import make_engine

    path = directory / "schema.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()  # the last connection closed: WAL checkpointed into the file
    assert not Path(f"{path}-wal").exists(), "the schema's WAL was not checkpointed"
    yield path


def start_from_schema(database_url: str, schema: Path | None) -> None:
    """Give a new SQLite database every table by copying ``schema`` (PostgreSQL: nothing)."""
    target = sqlite_path(database_url)
    if schema is not None and target is not None and not target.exists():
        shutil.copyfile(schema, target)


def default_settings(database_url: str, data_dir: Path) -> dict[str, Any]:
    """The settings every test app starts from."""
    return {
        "env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "ledger_mode": "off",
        "public_url": "https://trace.example.cn",
        # One deployment's secret: apps sharing a database (a template's and its
        # copies', a plant's and its regulator's view) seal audit snapshots alike.
        "secret_key": "tests-only-secret-key-0123456789abcdef",
        # Claims of past quarters (2025Q4, 2026Q3) stay within the window whatever the
        # date; the claim-window tests set their own window and a fixed clock.
        "claim_window_days": 36_500,
    }


def snapshot(engine: Engine) -> dict[str, Any]:
    """Row counts of every table and the full content of the event log and devices."""
    with engine.connect() as conn:
        state: dict[str, Any] = {
            f"count:{t.name}": conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
        for table in (metadata.tables["event"], metadata.tables["device"]):
            state[table.name] = [
                tuple(row)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
    return state


def edit_row(app: Flask, qr_id: str, **values: Any) -> None:
    """What a DB admin can do: change a projection row behind the application's back."""
    with trace_of(app).engine.begin() as conn:
        conn.execute(update(Device).where(Device.qr_id == qr_id).values(**values))  # type: ignore[arg-type]
