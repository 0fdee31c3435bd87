"""What other features may ask the connectors (their public query module; never read our tables)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors.tables import connector_pushed_orders


def push_sources(conn: Connection, order_id: str) -> list[str]:
    """Which webhook pushes spoke about ``order_id`` (e.g. ``webhook:cj``), sorted; money those facts would
    trigger waits for a human (the compensation approval policy reads this)."""
    table = connector_pushed_orders
    rows = conn.execute(
        sa.select(table.c.source).where(table.c.order_id == order_id).order_by(table.c.source)
    )
    return [r.source for r in rows]
