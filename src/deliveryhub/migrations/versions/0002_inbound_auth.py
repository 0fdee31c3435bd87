"""Issue 13, inbound authentication: webhook receipts (replay and Shopify topic binding) and pushed orders.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create connector_webhook_receipts and connector_pushed_orders."""
    op.create_table(
        "connector_webhook_receipts",
        sa.Column("connector", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("delivery_id", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "connector", "account", "delivery_id", name=op.f("pk_connector_webhook_receipts")
        ),
    )
    op.create_index(
        "ix_connector_webhook_receipts_body",
        "connector_webhook_receipts",
        ["connector", "body_sha256"],
        unique=False,
    )
    op.create_index(
        op.f("ix_connector_webhook_receipts_received_at"),
        "connector_webhook_receipts",
        ["received_at"],
        unique=False,
    )
    op.create_table(
        "connector_pushed_orders",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=72), nullable=False),
        sa.Column("first_pushed_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("last_pushed_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "source", name=op.f("pk_connector_pushed_orders")),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("connector_pushed_orders")
    op.drop_index(op.f("ix_connector_webhook_receipts_received_at"), table_name="connector_webhook_receipts")
    op.drop_index("ix_connector_webhook_receipts_body", table_name="connector_webhook_receipts")
    op.drop_table("connector_webhook_receipts")
