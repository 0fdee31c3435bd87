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


def exceptions_in(conn: Connection, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Every exception opened in [lo, hi), oldest first: type, order, subject, carrier, status.

    Owner: monitors."""
    bind = UTCDateTime().process_bind_param
    rows = conn.execute(
        sa.text(
            f"SELECT type, order_id, subject, carrier, status FROM {EXCEPTIONS_TABLE} "
            "WHERE opened_at >= :lo AND opened_at < :hi ORDER BY opened_at, id"
        ),
        {"lo": bind(lo, conn.dialect), "hi": bind(hi, conn.dialect)},
    ).all()
    return [{"type": r[0], "order_id": r[1], "subject": r[2], "carrier": r[3], "status": r[4]} for r in rows]


NOTICE_JOBS_TABLE = "notification_jobs"  # owned by notifications (notifications/tables.py)


def delay_notices_sent(conn: Connection, lo: datetime, hi: datetime) -> int | None:
    """Customer delay notices (rules with `delay_notice`) sent in [lo, hi); None without the
    notifications feature's table. Owner: notifications."""
    if not sa.inspect(conn).has_table(NOTICE_JOBS_TABLE):
        return None
    bind = UTCDateTime().process_bind_param
    return int(
        conn.execute(
            sa.text(
                f"SELECT count(*) FROM {NOTICE_JOBS_TABLE} WHERE delay_notice AND audience = 'customer' "
                "AND status IN ('sent', 'delivered') AND sent_at >= :lo AND sent_at < :hi"
            ),
            {"lo": bind(lo, conn.dialect), "hi": bind(hi, conn.dialect)},
        ).scalar_one()
    )
