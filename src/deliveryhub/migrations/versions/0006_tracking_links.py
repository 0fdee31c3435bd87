"""Tracking links with a life (issue 13): per-order link generations; stored links removed from notices.

Notices used to keep the tracking link (a bearer credential) in clear in notification_jobs.context;
links are now made at send time, so the stored ones are dropped here.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create tracking_links; strip `link` from every stored notice context."""
    op.create_table(
        "tracking_links",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("closed_reason", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("changed_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_tracking_links")),
    )
    conn = op.get_bind()
    jobs = sa.table("notification_jobs", sa.column("id", sa.BigInteger()), sa.column("context", sa.JSON()))
    last = 0
    while True:  # in batches by id: a big notices table is never loaded at once
        rows = conn.execute(
            sa.select(jobs.c.id, jobs.c.context).where(jobs.c.id > last).order_by(jobs.c.id).limit(1000)
        ).all()
        if not rows:
            break
        for r in rows:
            if isinstance(r.context, dict) and "link" in r.context:
                ctx = {k: v for k, v in r.context.items() if k != "link"}
                conn.execute(jobs.update().where(jobs.c.id == r.id).values(context=ctx))
        last = rows[-1].id


def downgrade() -> None:
    """Drop tracking_links (the removed links are not restored: they were credentials)."""
    op.drop_table("tracking_links")
