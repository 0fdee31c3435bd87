"""Issue 16: returns — the returns and exchanges workflow, one row per return.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=nullable)


def upgrade() -> None:
    """Create returns."""
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("fee_payer", sa.String(length=16), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=72), nullable=True),
        sa.Column("via", sa.String(length=32), nullable=True),
        sa.Column("marketplace_ref", sa.String(length=200), nullable=True),
        _ts("requested_at", nullable=False),
        _ts("pickup_booked_at"),
        _ts("picked_up_at"),
        _ts("received_at"),
        _ts("inspected_at"),
        _ts("reshipped_at"),
        _ts("refunded_at"),
        _ts("completed_at"),
        sa.Column("carrier", sa.String(length=32), nullable=True),
        sa.Column("return_tracking_no", sa.String(length=64), nullable=True),
        sa.Column("pickup_ref", sa.String(length=200), nullable=True),
        sa.Column("inspection_result", sa.String(length=8), nullable=True),
        sa.Column("inspection_note", sa.String(length=2000), nullable=True),
        sa.Column("inspection_photo_id", sa.String(length=64), nullable=True),
        sa.Column("inspected_by", sa.String(length=128), nullable=True),
        sa.Column("refund_amount", sa.Integer(), nullable=True),
        sa.Column("refund_status", sa.String(length=32), nullable=True),
        sa.Column("reship_tracking_no", sa.String(length=64), nullable=True),
        _ts("due_at"),
        sa.Column("stalled_step", sa.String(length=32), nullable=True),
        sa.Column("problem", sa.String(length=500), nullable=True),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("return_id", name=op.f("pk_returns")),
    )
    op.create_index(op.f("ix_returns_order_id"), "returns", ["order_id"], unique=False)
    op.create_index("ix_returns_status_due", "returns", ["status", "due_at"], unique=False)


def downgrade() -> None:
    """Drop returns."""
    op.drop_index("ix_returns_status_due", table_name="returns")
    op.drop_index(op.f("ix_returns_order_id"), table_name="returns")
    op.drop_table("returns")
