"""custody: a processing batch's closing is an event of its own subject (SPEC §2.4)

``event.batch`` names the batch (``{org}/{code}``) of a ``batch_closed`` event; unique,
as a batch closes once.

Revision ID: b19a7c100001
Revises: f18e0f180001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b19a7c100001"
down_revision: str | None = "f18e0f180001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("batch", sqlmodel.sql.sqltypes.AutoString(length=97), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_event_batch"), ["batch"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_batch"))
        batch_op.drop_column("batch")
