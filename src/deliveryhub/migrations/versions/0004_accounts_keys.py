"""Issue 13, accounts and keys: API key expiry, TOTP replay guard, login throttling per account+address.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import deliveryhub.adapters.persistence.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """api_keys.expires_at, users.totp_last_step, login_throttle."""
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("expires_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", deliveryhub.adapters.persistence.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_last_failure_at"), "login_throttle", ["last_failure_at"], unique=False
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index(op.f("ix_login_throttle_last_failure_at"), table_name="login_throttle")
    op.drop_table("login_throttle")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
