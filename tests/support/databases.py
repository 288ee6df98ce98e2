"""Throwaway databases: one per test, or a copy of a module's template.

SQLite files by default; with ``TRACE_TEST_DATABASE_URL`` PostgreSQL schemas
(empty) or databases (copied from a template), unique across xdist workers."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@contextmanager
def postgres_database(base_url: str, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database beside ``base_url``'s (a copy of ``template`` if given), dropped afterwards.

    Copying a template database is PostgreSQL's own way to clone a whole
    database; it needs the template to have no open connection.
    """
    name = unique_name(prefix)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            copy = f" TEMPLATE {template}" if template else ""
            conn.execute(text(f"CREATE DATABASE {name}{copy}"))
        try:
            yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    finally:
        admin.dispose()


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
