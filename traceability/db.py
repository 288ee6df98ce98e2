"""Engine, sessions and the column types every model shares.

The engine is built once per deployment context (``traceability.context.Trace``);
a web request gets one session from the edge (``traceability.app.get_session``),
closed at teardown. Services receive the session explicitly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, event, types
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

UTC = dt.UTC


def utcnow() -> dt.datetime:
    """Now, timezone-aware, truncated to microseconds (what every database keeps)."""
    return dt.datetime.now(UTC)


def to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not accepted; give a UTC offset")
    return value.astimezone(UTC)


def iso(value: dt.datetime) -> str:
    """The one textual form of a timestamp used in digests and the API."""
    if value.tzinfo is not UTC:
        value = to_utc(value)
    # Same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), several times faster.
    return value.isoformat(timespec="microseconds")[:-6] + "Z"


class UTCDateTime(types.TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on every backend (SQLite keeps no offset)."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = to_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Unreadable(str):
    """A stored value its column type cannot decode (text an administrator wrote by hand
    into a JSON column): kept as the raw text so the row can be named, not crash the read."""


class LogDateTime(UTCDateTime):
    """``UTCDateTime`` for the event log: a value SQLite cannot parse reads as None (the
    row is then malformed, hence tampered) instead of failing the whole query."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        inner = super().result_processor(dialect, coltype)

        def process(value: Any) -> dt.datetime | None:
            try:
                return inner(value) if inner is not None else value
            except (ValueError, TypeError, AttributeError):
                return None

        return process


class LogJSON(types.TypeDecorator[Any]):
    """JSON for the event log: undecodable text reads as ``Unreadable`` (a malformed row,
    hence tampered) instead of failing every query that reads the row (SPEC §3)."""

    impl = types.JSON
    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        inner = super().result_processor(dialect, coltype)
        if inner is None:  # the driver decodes (PostgreSQL, which refuses invalid JSON)
            return None

        def process(value: Any) -> Any:
            try:
                return inner(value)
            except (ValueError, TypeError):
                return Unreadable(value)

        return process


def _json_dumps(value: Any) -> str:
    """JSON columns: orjson, or the standard library for what orjson refuses
    (integers beyond 64 bits, non-string keys), so nothing storable today fails."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)


#: How long a SQLite writer waits for another's write lock before giving up (seconds).
BUSY_TIMEOUT_S = 30.0


def make_engine(url: str, *, busy_timeout_s: float = BUSY_TIMEOUT_S, **kwargs: Any) -> Engine:
    """An engine with the pragmas durability and concurrency need."""
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s}, **kwargs)
        _configure_sqlite(engine, busy_timeout_s)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_busy(exc: OperationalError) -> bool:
    """Whether a failed statement waited out another writer's lock (nothing was written)."""
    text = str(exc.orig).lower()
    return "database is locked" in text or "lock timeout" in text


def _configure_sqlite(engine: Engine, busy_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control so writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged commit survives power loss, not only kill -9.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front; two deferred transactions that
        # both read then write would otherwise fail with SQLITE_BUSY.
        if conn.get_execution_options().get("write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer (BEGIN IMMEDIATE on SQLite).

    A read-only transaction already open (e.g. the token lookup) is ended first.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"write": True})


def open_engine(url: str, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Engine:
    """The deployment's engine for ``url`` (a SQLite file's directory is created first)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url, busy_timeout_s=busy_timeout_s)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for CLI commands and workers: commit on success, rollback on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
