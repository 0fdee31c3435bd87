"""Issue 16: payments (what each order's customer paid) and refunds (each asked once, capped by it).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create payments and refunds."""
    op.create_table(
        "payments",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("payment_key", sa.String(length=200), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=True),
        sa.Column("paid_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("cancelled", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_payment_key"), "payments", ["payment_key"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("return_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refund_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"], unique=False)
    op.create_index(op.f("ix_refunds_refund_id"), "refunds", ["refund_id"], unique=False)


def downgrade() -> None:
    """Drop refunds and payments."""
    op.drop_index(op.f("ix_refunds_refund_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_order_id"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_payments_payment_key"), table_name="payments")
    op.drop_table("payments")
