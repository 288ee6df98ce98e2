"""claims: a device's approval is unique across all claims (issue 15, finding 5)

Revision ID: c0a1e7a10009
Revises: c0a1e7a10008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0a1e7a10009"
down_revision: str | None = "c0a1e7a10008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPROVED = sa.text("review = 'approved'")


def upgrade() -> None:
    # Fails on a database where a device is already approved in two claims:
    # that double payment is for a person to resolve, not for a migration to hide.
    op.create_index(
        "uq_claim_item_approved_device",
        "claim_item",
        ["qr_id"],
        unique=True,
        sqlite_where=APPROVED,
        postgresql_where=APPROVED,
    )


def downgrade() -> None:
    op.drop_index("uq_claim_item_approved_device", table_name="claim_item")
