"""Issue 16: outside_actions, the once-only ledger of actions in outside systems (effects feature).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create outside_actions."""
    op.create_table(
        "outside_actions",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("done_event", sa.String(length=64), nullable=True),
        sa.Column("done_data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("claimed_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("done_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_outside_actions")),
    )
    op.create_index(op.f("ix_outside_actions_order_id"), "outside_actions", ["order_id"], unique=False)
    op.create_index(
        "ix_outside_actions_status_due", "outside_actions", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    """Drop outside_actions."""
    op.drop_index("ix_outside_actions_status_due", table_name="outside_actions")
    op.drop_index(op.f("ix_outside_actions_order_id"), table_name="outside_actions")
    op.drop_table("outside_actions")
