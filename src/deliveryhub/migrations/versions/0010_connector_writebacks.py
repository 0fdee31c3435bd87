"""Connector write-backs (issue 15): a waybill written back to the marketplace once.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create connector_writebacks."""
    op.create_table(
        "connector_writebacks",
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("tracking_no", sa.String(length=64), nullable=False),
        sa.Column("shipment_id", sa.String(length=128), nullable=True),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("source", "order_id", "tracking_no", name=op.f("pk_connector_writebacks")),
    )
    op.create_index(op.f("ix_connector_writebacks_status"), "connector_writebacks", ["status"], unique=False)


def downgrade() -> None:
    """Drop connector_writebacks."""
    op.drop_index(op.f("ix_connector_writebacks_status"), table_name="connector_writebacks")
    op.drop_table("connector_writebacks")
