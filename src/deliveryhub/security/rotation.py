"""Key rotation without downtime: a new key-encryption key, customer data keys re-wrapped in batches
while the hub keeps serving, the old key retired only when nothing refers to it any more.

States of a key-encryption key (table data_keys): active → retiring → retired. Every process reloads
the key table (KeyRing.refresher) at least every `refresh_interval` seconds and whenever it meets a
key id it does not know, so data keys re-wrapped by another process stay readable, and new data
keys are wrapped with the new key shortly after rotation starts. Retired keys keep their wrapped
form in the table and are loaded on demand, so a straggler can never become unreadable.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.pii.cipher import KeyError_, KeyRing
from deliveryhub.security.audit import audit_log_of
from deliveryhub.service_layer.hub import Core

_running = threading.Lock()


def reload_keys(db: Database, keyring: KeyRing, want: str | None = None) -> None:
    """Load new key-encryption keys from the table and follow the active one; retired keys only on demand."""
    with db.read() as conn:
        rows = conn.execute(sa.select(t.data_keys)).all()
    active = None
    for r in rows:
        if r.status == "retired" and r.key_id != want:
            if r.key_id != keyring.active_kek_id:
                keyring.forget(r.key_id)
            continue
        if not keyring.has_kek(r.key_id):
            keyring.load_kek(r.key_id, r.wrapped, active=False)
        if r.status == "active":
            active = r.key_id
    if active is not None:
        keyring.activate(active)


def install_refresher(core: Core) -> None:
    """Make the hub's key ring follow rotations done by other processes."""
    core.keyring.refresher = lambda want: reload_keys(core.db, core.keyring, want)


def _start(core: Core) -> str:
    """Create and activate a new key; the previous active key becomes `retiring`."""
    now = datetime.now(UTC)
    with core.db.write() as conn:
        key_id, wrapped = core.keyring.new_kek()
        old = [
            r.key_id
            for r in conn.execute(sa.select(t.data_keys.c.key_id).where(t.data_keys.c.status == "active"))
        ]
        conn.execute(t.data_keys.update().where(t.data_keys.c.status == "active").values(status="retiring"))
        conn.execute(
            t.data_keys.insert().values(key_id=key_id, wrapped=wrapped, status="active", created_at=now)
        )
        audit_log_of(core).record_in(
            conn, "system:crypto", "key.rotation_started", f"kek:{key_id}", {"new": key_id, "retiring": old}
        )
    return key_id


def sweep(core: Core, batch: int = 200, pause: float = 0.02) -> dict[str, int]:
    """Re-wrap every customer data key not under the active key, in batches (each its own transaction)."""
    keyring: KeyRing = core.keyring
    keyring.maybe_refresh(force=True)
    active = keyring.active_kek_id
    if active is None:
        raise KeyError_("no active key-encryption key")
    done = failed = batches = 0
    skip: set[str] = set()
    while True:
        with core.db.read() as conn:
            q = (
                sa.select(t.customers.c.customer_id, t.customers.c.kek_id, t.customers.c.dek_wrapped)
                .where(t.customers.c.kek_id != active, t.customers.c.dek_wrapped.is_not(None))
                .order_by(t.customers.c.customer_id)
                .limit(batch + len(skip))
            )
            rows = [r for r in conn.execute(q) if r.customer_id not in skip][:batch]
        if not rows:
            break
        updates = []
        for r in rows:
            try:
                new_kek, new_wrapped = keyring.rewrap_dek(r.customer_id, r.kek_id, r.dek_wrapped)
            except KeyError_:
                failed += 1
                skip.add(r.customer_id)  # left under its old key (still readable); reported, never dropped
                continue
            updates.append((r, new_kek, new_wrapped))
        with core.db.write() as conn:
            for r, new_kek, new_wrapped in updates:
                # Optimistic: a concurrent ingest or erasure that changed the row wins; the next pass retries.
                res = conn.execute(
                    t.customers.update()
                    .where(
                        t.customers.c.customer_id == r.customer_id,
                        t.customers.c.kek_id == r.kek_id,
                        t.customers.c.dek_wrapped == r.dek_wrapped,
                    )
                    .values(kek_id=new_kek, dek_wrapped=new_wrapped)
                )
                done += res.rowcount or 0
        batches += 1
        if pause:
            time.sleep(pause)  # let request traffic take the write lock between batches
    return {"rewrapped": done, "failed": failed, "batches": batches}


def _retire(core: Core) -> list[str]:
    retired = []
    with core.db.write() as conn:
        retiring = [
            r.key_id
            for r in conn.execute(sa.select(t.data_keys.c.key_id).where(t.data_keys.c.status == "retiring"))
        ]
        for key_id in retiring:
            left = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.customers)
                .where(t.customers.c.kek_id == key_id, t.customers.c.dek_wrapped.is_not(None))
            ).scalar()
            if left:
                continue
            conn.execute(
                t.data_keys.update()
                .where(t.data_keys.c.key_id == key_id)
                .values(status="retired", retired_at=datetime.now(UTC))
            )
            retired.append(key_id)
        if retired:
            audit_log_of(core).record_in(conn, "system:crypto", "key.retired", None, {"keys": retired})
    for key_id in retired:
        core.keyring.forget(key_id)
    return retired


def rotate(
    core: Core, *, batch: int = 200, pause: float = 0.02, grace: float | None = None
) -> dict[str, Any]:
    """Full rotation: new key, background re-wrap, a grace period for other processes, retire old keys."""
    if not _running.acquire(blocking=False):
        raise RuntimeError("a key rotation is already running in this process")
    try:
        started = time.monotonic()
        with core.db.read() as conn:
            resuming = (
                conn.execute(
                    sa.select(t.data_keys.c.key_id).where(t.data_keys.c.status == "retiring")
                ).first()
                is not None
            )
        # An interrupted rotation is finished, not stacked with another key.
        key_id = str(core.keyring.active_kek_id) if resuming else _start(core)
        first = sweep(core, batch=batch, pause=pause)
        # Other processes pick the new key up within their refresh interval; sweep what they wrote meanwhile.
        time.sleep(grace if grace is not None else core.keyring.refresh_interval + 0.5)
        second = sweep(core, batch=batch, pause=pause)
        retired = _retire(core)
        result = {
            "active_key": key_id,
            "resumed": resuming,
            "rewrapped": first["rewrapped"] + second["rewrapped"],
            "failed": second["failed"],
            "batches": first["batches"] + second["batches"],
            "retired": retired,
            "seconds": round(time.monotonic() - started, 3),
        }
        audit_log_of(core).record("system:crypto", "key.rotated", f"kek:{key_id}", result)
        return result
    finally:
        _running.release()


def rotation_in_progress() -> bool:
    """Whether this process is rotating right now."""
    return _running.locked()


def rotate_cli(core: Core) -> dict[str, Any]:
    """`deliveryhub crypto rotate`: rotate and return the summary (who asked is audited, like the API)."""
    from deliveryhub.security.audit import cli_actor

    audit_log_of(core).record(cli_actor(), "key.rotation_requested", None, {"via": "cli"})
    return rotate(core)


def key_status(core: Core) -> list[dict[str, Any]]:
    """Every key-encryption key with its state and how many customers it wraps."""
    with core.db.read() as conn:
        counts: dict[str | None, int] = dict(
            conn.execute(
                sa.select(t.customers.c.kek_id, sa.func.count())
                .where(t.customers.c.dek_wrapped.is_not(None))
                .group_by(t.customers.c.kek_id)
            ).all()
        )
        rows = conn.execute(sa.select(t.data_keys).order_by(t.data_keys.c.created_at)).all()
    return [
        {
            "key_id": r.key_id,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "retired_at": r.retired_at.isoformat() if r.retired_at else None,
            "customers": int(counts.get(r.key_id, 0)),
        }
        for r in rows
    ]


def resume_job(core: Core) -> Any:
    """A periodic job that finishes interrupted rotations and re-wraps stragglers under old keys."""

    def run(now: datetime) -> None:
        if rotation_in_progress():
            return
        active = core.keyring.active_kek_id
        with core.db.read() as conn:
            row = conn.execute(
                sa.select(t.data_keys.c.created_at).where(t.data_keys.c.key_id == active)
            ).first()
            straggler = conn.execute(
                sa.select(t.customers.c.customer_id)
                .where(t.customers.c.kek_id != active, t.customers.c.dek_wrapped.is_not(None))
                .limit(1)
            ).first()
            pending = conn.execute(
                sa.select(t.data_keys.c.key_id).where(t.data_keys.c.status == "retiring")
            ).first()
        # Leave a fresh rotation to the process running it (it waits out the refresh grace period).
        if row is None or (datetime.now(UTC) - row.created_at).total_seconds() < 120:
            return
        if straggler is not None:
            sweep(core)
        if pending is not None:
            _retire(core)

    return run
