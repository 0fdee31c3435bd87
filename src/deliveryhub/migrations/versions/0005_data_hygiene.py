"""Data hygiene (issue 13): personal data in free-text and unknown fields of events stored before ingest
masked them (`memo`, `gift_message`, `note`, vendor fields) is masked in place, in the inbox and in the
outbox copies. No schema change. Irreversible by design: downgrade leaves the masked text as it is.

Revision ID: 0005
Revises: 0004
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHUNK = 1000


def _rewrite(table: Any, column: str, masked: Any) -> None:
    """Walk `table` by id in chunks; write back `column` where `masked(row)` changed it."""
    bind = op.get_bind()
    col = table.c[column]
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, *([table.c.type] if "type" in table.c else []), col)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changes = []
        for row in rows:
            new = masked(row)
            if new != row._mapping[column]:
                changes.append({"b_id": row.id, "b_value": new})
        if changes:
            bind.execute(
                table.update()
                .where(table.c.id == sa.bindparam("b_id"))
                .values({column: sa.bindparam("b_value")}),
                changes,
            )


def upgrade() -> None:
    """Mask free text and unknown fields of stored events (inbox.data, outbox payload data)."""
    from deliveryhub.contracts.events import scrub_stored

    inbox = sa.table(
        "inbox", sa.column("id", sa.BigInteger), sa.column("type", sa.String), sa.column("data", sa.JSON)
    )
    _rewrite(inbox, "data", lambda row: scrub_stored(row.type, row.data))
    outbox = sa.table("outbox", sa.column("id", sa.BigInteger), sa.column("payload", sa.JSON))

    def payload(row: Any) -> Any:
        value = row.payload
        if not (isinstance(value, dict) and isinstance(value.get("data"), dict) and "type" in value):
            return value
        return {**value, "data": scrub_stored(str(value["type"]), value["data"])}

    _rewrite(outbox, "payload", payload)


def downgrade() -> None:
    """Nothing to undo: masked personal data is not restored."""
