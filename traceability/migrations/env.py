"""Alembic environment: the engine comes from the caller (see traceability.migrate)."""

from __future__ import annotations

from alembic import context

from traceability.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through traceability.migrate
    raise RuntimeError("run migrations through `traceability init`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
