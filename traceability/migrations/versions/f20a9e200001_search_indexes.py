"""device, batch: case-insensitive indexes for the trace search (issue 20 item 9)

The trace search compares lower(serial), lower(model), lower(brand || ' ' || model) and
lower(batch code): indexed, a search is an index lookup however many devices there are.

Revision ID: f20a9e200001
Revises: b19a7c100001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f20a9e200001"
down_revision: str | None = "b19a7c100001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_device_serial_lower", "device", "lower(serial)"),
    ("ix_device_model_lower", "device", "lower(model)"),
    ("ix_device_brand_model_lower", "device", "lower((brand || ' ') || model)"),
    ("ix_batch_code_lower", "batch", "lower(code)"),
)


def upgrade() -> None:
    for name, table, expression in INDEXES:
        op.create_index(name, table, [sa.text(expression)])


def downgrade() -> None:
    for name, table, _expression in INDEXES:
        op.drop_index(name, table_name=table)
