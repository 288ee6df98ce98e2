"""register: the organisation register as a log (SPEC §2.8)

Events get a fourth kind of subject, ``organisation``. Every organisation
already in the database gets its ``org_registered`` event, recorded now by
the system admin with the facts its row holds today (``occurred_at``: when the
row was created), so old deployments have a register the anchoring worker
anchors like every other event.

Revision ID: d15f8a0e0001
Revises: c0a1e7a10011
"""

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import traceability.db
from ledger.canonical import digest_hex, event_content

revision: str = "d15f8a0e0001"
down_revision: str | None = "c0a1e7a10011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, not imported: a migration must mean the same thing forever.
_FACTS = ("kind", "name", "region", "license_no", "capacity_units")
_SYSTEM = "system"  # the system admin, as actor and organisation (never a real org code)


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_event_organisation"), ["organisation"], unique=False)

    stamp = traceability.db.UTCDateTime(timezone=True)
    org = sa.table(
        "organisation",
        sa.column("id", sa.Integer()),
        sa.column("code", sa.String()),
        *(sa.column(f) for f in _FACTS),
        sa.column("created_at", stamp),
    )
    event = sa.table(
        "event",
        *(sa.column(c) for c in ("id", "type", "organisation", "org", "actor", "prev", "digest")),
        sa.column("payload", sa.JSON()),
        sa.column("occurred_at", stamp),
        sa.column("recorded_at", stamp),
    )
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    for row in bind.execute(sa.select(org).order_by(org.c.id)).all():
        payload = {f: getattr(row, f) for f in _FACTS if getattr(row, f) is not None}
        event_id = str(uuid.uuid4())
        content = event_content(
            id=event_id,
            type="org_registered",
            org=_SYSTEM,
            actor=_SYSTEM,
            occurred_at=traceability.db.iso(row.created_at),
            recorded_at=traceability.db.iso(now),
            payload=payload,
            prev=None,
            organisation=row.code,
        )
        bind.execute(
            event.insert().values(
                id=event_id,
                type="org_registered",
                organisation=row.code,
                org=_SYSTEM,
                actor=_SYSTEM,
                occurred_at=row.created_at,
                recorded_at=now,
                payload=payload,
                prev=None,
                digest=digest_hex(content),
            )
        )


def downgrade() -> None:
    # Removing anchored events would leave their batches short (a finding of its own).
    anchored = op.get_bind().execute(
        sa.text(
            "SELECT count(*) FROM event JOIN anchor_leaf ON anchor_leaf.event_seq = event.seq "
            "WHERE event.organisation IS NOT NULL"
        )
    )
    if anchored.scalar():
        raise RuntimeError("the register's events are anchored: they cannot be removed")
    op.execute(sa.text("DELETE FROM event WHERE organisation IS NOT NULL"))
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_organisation"))
        batch_op.drop_column("organisation")
