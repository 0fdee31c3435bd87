"""Baseline schema of deliveryhub 0.1: backbone and feature tables.

Revision ID: 0001
Revises:
"""

from alembic import op

from deliveryhub.adapters.persistence.tables import all_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0.1 is the first release: the baseline creates the schema as declared; later revisions are
    # explicit op.* migrations generated against it.
    all_tables().create_all(bind=op.get_bind())


def downgrade() -> None:
    all_tables().drop_all(bind=op.get_bind())
