"""labels: the label sheet PDFs each user had made, for their hourly share (issue 15, finding 10)

Revision ID: c0a1e7a10010
Revises: c0a1e7a10009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import traceability.db

revision: str = "c0a1e7a10010"
down_revision: str | None = "c0a1e7a10009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_render",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("started_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", traceability.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_label_render_user_id"), "label_render", ["user_id"])
    op.create_index(op.f("ix_label_render_started_at"), "label_render", ["started_at"])


def downgrade() -> None:
    op.drop_table("label_render")
