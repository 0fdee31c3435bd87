"""Drop connector_source_seen (issue 14): the connectors counted each source's traffic a second time;
they now read the backbone's source_stats, and nothing writes this table any more.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Remove the unused per-source counter table."""
    op.drop_table("connector_source_seen")


def downgrade() -> None:
    """Recreate it empty (it is derived data)."""
    op.create_table(
        "connector_source_seen",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("last_received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_event_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_connector_source_seen")),
    )
