"""Queries the KPI report needs over other features' tables that those features do not offer yet.

Each function names the feature that owns the table and should adopt it into its own public query
module; until then it lives here, so no other KPI module reads a peer's table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.types import UTCDateTime

EXCEPTIONS_TABLE = "monitor_exceptions"  # owned by monitors (monitors/tables.py)


def exceptions_recorded(conn: Connection) -> bool:
    """Whether this database has the monitors' exception table. Owner: monitors."""
    return bool(sa.inspect(conn).has_table(EXCEPTIONS_TABLE))


def exceptions_opened(conn: Connection, lo: datetime, hi: datetime) -> dict[str, list[tuple[Any, ...]]]:
    """Exceptions opened in [lo, hi): counts by type, and by (carrier, type), largest first.

    Owner: monitors (read.py would be its home: `exception_counts(conn, lo, hi)`)."""
    bind = UTCDateTime().process_bind_param
    params = {"lo": bind(lo, conn.dialect), "hi": bind(hi, conn.dialect)}
    by_type = conn.execute(
        sa.text(
            f"SELECT type, count(*) FROM {EXCEPTIONS_TABLE} WHERE opened_at >= :lo AND "
            "opened_at < :hi GROUP BY type ORDER BY count(*) DESC"
        ),
        params,
    ).all()
    by_carrier = conn.execute(
        sa.text(
            f"SELECT coalesce(carrier, '—'), type, count(*) FROM {EXCEPTIONS_TABLE} "
            "WHERE opened_at >= :lo AND opened_at < :hi GROUP BY 1, 2 ORDER BY 3 DESC"
        ),
        params,
    ).all()
    return {"by_type": [tuple(r) for r in by_type], "by_carrier": [tuple(r) for r in by_carrier]}
