"""audit: snapshots of the findings and portal figures per period

Revision ID: c0a1e7a10008
Revises: c0a1e7a10007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "c0a1e7a10008"
down_revision: str | None = "c0a1e7a10007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_snapshot",
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("since", traceability.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("as_of", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_state", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("computed_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.Column("ruleset", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_index(op.f("ix_audit_snapshot_computed_at"), "audit_snapshot", ["computed_at"])


def downgrade() -> None:
    op.drop_table("audit_snapshot")
