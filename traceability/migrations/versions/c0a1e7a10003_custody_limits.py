"""custody: field limits

Revision ID: c0a1e7a10003
Revises: c0a1e7a10002
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "c0a1e7a10003"
down_revision: str | None = "c0a1e7a10002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
