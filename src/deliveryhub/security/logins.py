"""Failed-login throttling per (account, address) with backoff, and the TOTP replay guard.

Why not lock the account: a lock after N failures lets anyone who knows an e-mail address lock its
owner out, and answering "locked" only for real accounts tells a stranger which addresses exist. Here
failures are counted per account *and* address: after FREE_FAILURES each further failure doubles the
wait for that pair (capped at MAX_WAIT), and the pair is forgotten after FORGET. Unknown accounts are
throttled exactly like real ones, with the same answer, so the behaviour reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import insert_ignore
from deliveryhub.security.tables import login_throttle, users
from deliveryhub.service_layer.hub import Core

FREE_FAILURES = 5
BASE_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)
FORGET = timedelta(hours=24)


def throttle_key(core: Core, email: str, ip: str | None) -> str:
    """HMAC of account and address (the table names neither)."""
    key: bytes = core.keyring.master.derive("deliveryhub login throttle v1")
    return hmac.new(key, f"{email.strip().lower()}\x1f{ip or '-'}".encode(), hashlib.sha256).hexdigest()


def blocked_until(conn: Connection, key: str, now: datetime) -> datetime | None:
    """When the pair may try again, or None when it may now."""
    query = sa.select(login_throttle.c.blocked_until).where(login_throttle.c.key == key)
    until = conn.execute(query).scalar()
    return until if until is not None and until > now else None


def wait_after(failures: int) -> timedelta | None:
    """The backoff after `failures` consecutive failures (None while still free)."""
    if failures < FREE_FAILURES:
        return None
    return min(MAX_WAIT, BASE_WAIT * (2 ** (failures - FREE_FAILURES)))


def record_failure(conn: Connection, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count one failure of the pair; returns (consecutive failures, blocked until)."""
    insert_ignore(conn, login_throttle, [{"key": key, "failures": 0, "last_failure_at": now}], ["key"])
    row = conn.execute(sa.select(login_throttle).where(login_throttle.c.key == key).with_for_update()).one()
    failures = 1 if now - row.last_failure_at > FORGET else int(row.failures) + 1
    wait = wait_after(failures)
    until = now + wait if wait is not None else None
    conn.execute(
        login_throttle.update()
        .where(login_throttle.c.key == key)
        .values(failures=failures, last_failure_at=now, blocked_until=until)
    )
    return failures, until


def clear(conn: Connection, key: str) -> None:
    """A successful login forgets the pair's failures."""
    conn.execute(login_throttle.delete().where(login_throttle.c.key == key))


def purge(conn: Connection, now: datetime) -> int:
    """Forget pairs idle longer than FORGET."""
    res = conn.execute(login_throttle.delete().where(login_throttle.c.last_failure_at < now - FORGET))
    return int(res.rowcount or 0)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (±1 for clock drift) whose code equals `code`, or None."""
    code = code.strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def claim_totp_step(conn: Connection, user_id: int, step: int) -> bool:
    """Atomically mark `step` used; False when it (or a later step) was used already (a replay)."""
    res = conn.execute(
        users.update()
        .where(
            users.c.id == user_id,
            sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return bool(res.rowcount)
