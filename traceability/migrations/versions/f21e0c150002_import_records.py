"""verification: the regulator's import records (issue 21 item 4, SPEC §3)

What ``traceability import PLANT`` found of each anchored record of a plant:
imported, late, refused with its reason, accounted for, or missing.

Revision ID: f21e0c150002
Revises: f21e0c150001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "f21e0c150002"
down_revision: str | None = "f21e0c150001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "import_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", text(length=200), nullable=False),
        sa.Column("plant", text(length=32), nullable=False),
        sa.Column("status", text(length=16), nullable=False),
        sa.Column("event_id", text(length=64), nullable=True),
        sa.Column("subject", text(length=64), nullable=True),
        sa.Column("digest", text(length=64), nullable=True),
        sa.Column("root", text(length=64), nullable=True),
        sa.Column("leaf_index", sa.Integer(), nullable=True),
        sa.Column("reason", text(length=1000), nullable=True),
        sa.Column("at", traceability.db.UTCDateTime(), nullable=False),
        sa.Column("first_seen", traceability.db.UTCDateTime(), nullable=False),
        sa.Column("last_seen", traceability.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    for column in ("plant", "status", "root"):
        op.create_index(op.f(f"ix_import_record_{column}"), "import_record", [column])


def downgrade() -> None:
    for column in ("plant", "status", "root"):
        op.drop_index(op.f(f"ix_import_record_{column}"), table_name="import_record")
    op.drop_table("import_record")
