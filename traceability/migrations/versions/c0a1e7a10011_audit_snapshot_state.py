"""audit: snapshots name the log state they were computed from, and are sealed

Revision ID: c0a1e7a10011
Revises: c0a1e7a10010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c0a1e7a10011"
down_revision: str | None = "c0a1e7a10010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows name no state and carry no seal: they are recomputed, never trusted.
    with op.batch_alter_table("audit_snapshot") as batch:
        batch.add_column(sa.Column("events", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("roots", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("anchors_upto", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "roots_digest",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column(
                "seal",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_snapshot") as batch:
        for name in ("seal", "roots_digest", "anchors_upto", "roots", "events"):
            batch.drop_column(name)
