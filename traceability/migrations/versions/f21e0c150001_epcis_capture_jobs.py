"""epcis: capture jobs (issue 21, SPEC §4.2)

What each ``POST /api/v1/epcis/capture`` did with each event of its
document, read back by ``GET /api/v1/epcis/capture/{id}``. The events it
recorded are in the event log like every other.

Revision ID: f21e0c150001
Revises: f18c1a100001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db

revision: str = "f21e0c150001"
down_revision: str | None = "f18c1a100001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "epcis_capture",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("org", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", traceability.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("behaviour", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_epcis_capture_org"), "epcis_capture", ["org"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_epcis_capture_org"), table_name="epcis_capture")
    op.drop_table("epcis_capture")
