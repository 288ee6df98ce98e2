"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from traceability import create_app, migrate
from traceability.app import trace_of
from traceability.models import metadata


# SQLite cannot reflect an expression index (the trace search's lower(...) ones): it is
# skipped on both sides of the comparison, and created by its migration.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_to_head_matches_the_models(settings: dict) -> None:
    app: Flask = create_app(settings)  # a fresh database: no create_all here
    engine = trace_of(app).engine
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    assert diff == [], f"models changed without a migration: {diff}"
    assert set(inspect(engine).get_table_names()) >= {t.name for t in metadata.sorted_tables}
    engine.dispose()


def test_upgrade_is_idempotent(settings: dict) -> None:
    app = create_app(settings)
    engine = trace_of(app).engine
    migrate.upgrade(engine)
    migrate.upgrade(engine)  # a second `traceability init` must be harmless
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
    engine.dispose()
