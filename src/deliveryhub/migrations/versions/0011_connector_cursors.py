"""Connector cursors (issue 15): where each polling marketplace connector left off.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create connector_cursors."""
    op.create_table(
        "connector_cursors",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("cursor", sa.String(length=500), nullable=True),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_connector_cursors")),
    )


def downgrade() -> None:
    """Drop connector_cursors."""
    op.drop_table("connector_cursors")
