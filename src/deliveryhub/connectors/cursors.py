"""Where each polling connector left off, and who polls next: one `connector_cursors` row per key.

A row holds the cursor (an ISO time or date the connector understands) and `updated_at`, which is also the
lease: a worker claims a cycle with a conditional UPDATE (`updated_at` older than the interval), so two
workers of one hub never poll one account at once, and holding the row (after a 429's Retry-After or a
failure) keeps every worker away until then. Naver, Coupang and the Cafe24 catch-up all use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.persistence.dialect import insert_or_ignore, upsert

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

KEY_LENGTH = 72  # connector_cursors.source


def _key(key: str) -> str:
    return key[:KEY_LENGTH]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite gives back naive UTC datetimes.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def read(core: Core, key: str) -> tuple[str | None, datetime | None]:
    """The saved cursor of `key` and when its row last moved (None, None before the first cycle)."""
    cur = ct.connector_cursors
    with core.db.read() as conn:
        row = conn.execute(sa.select(cur.c.cursor, cur.c.updated_at).where(cur.c.source == _key(key))).first()
    if row is None:
        return None, None
    return (row.cursor or None), _aware(row.updated_at)


def read_time(core: Core, key: str) -> datetime | None:
    """The cursor of `key` as a time (None before the first cycle or when it is not one)."""
    value, _ = read(core, key)
    if not value:
        return None
    try:
        return _aware(datetime.fromisoformat(value))
    except ValueError:
        return None


def claim(core: Core, key: str, now: datetime, interval_s: float, *, force: bool = False) -> bool:
    """Claim the next cycle of `key` (none ran within `interval_s`; `force`: now); False when not due."""
    cur = ct.connector_cursors
    with core.db.write() as conn:
        insert_or_ignore(conn, cur, [{"source": _key(key), "cursor": None, "updated_at": None}], ["source"])
        update = cur.update().where(cur.c.source == _key(key))
        if not force:
            cutoff = now - timedelta(seconds=interval_s)
            update = update.where(sa.or_(cur.c.updated_at.is_(None), cur.c.updated_at <= cutoff))
        return bool(conn.execute(update.values(updated_at=now)).rowcount == 1)


def hold(core: Core, key: str, until: datetime, interval_s: float) -> None:
    """No worker claims a cycle of `key` before `until` (after a 429 or a failure)."""
    cur = ct.connector_cursors
    with core.db.write() as conn:
        conn.execute(
            cur.update()
            .where(cur.c.source == _key(key))
            .values(updated_at=until - timedelta(seconds=interval_s))
        )


def write(core: Core, key: str, cursor: str, now: datetime) -> None:
    """Move the cursor of `key` (and mark the row as moved at `now`)."""
    with core.db.write() as conn:
        upsert(
            conn,
            ct.connector_cursors,
            [{"source": _key(key), "cursor": cursor, "updated_at": now}],
            ["source"],
        )


def write_keeping_lease(core: Core, key: str, cursor: str) -> None:
    """Move the cursor of `key` without touching its lease (the claim set `updated_at` already)."""
    cur = ct.connector_cursors
    with core.db.write() as conn:
        conn.execute(cur.update().where(cur.c.source == _key(key)).values(cursor=cursor))
