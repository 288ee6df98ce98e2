"""trust: completeness checks

Revision ID: c0a1e7a10004
Revises: c0a1e7a10003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "c0a1e7a10004"
down_revision: str | None = "c0a1e7a10003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trust_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contract", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
        sa.Column("submitters", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("anchors_on_chain", sa.Integer(), nullable=False),
        sa.Column("missing_batches", sa.Integer(), nullable=False),
        sa.Column("missing_events", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("trust_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_check_checked_at"), ["checked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trust_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_check_checked_at"))
    op.drop_table("trust_check")
