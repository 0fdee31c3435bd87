"""API keys per integration: printed once, stored as a SHA-256 hash (keys are 256-bit random).

A key may expire (`expires_at`; an expired key is a 401) and may be limited to scopes: scope names are
the permission names of rbac.PERMISSIONS (e.g. `events:write`), each one the key's role holds; a key
with scopes may call only routes whose permission is among them. `last_used_at` is written at most once
a minute per key (LAST_USED_EVERY), not on every request."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.security.rbac import PERMISSIONS, ROLES, allowed
from deliveryhub.security.tenancy import DEFAULT_SHOP, PLATFORM_ROLE, token_shop_part

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

KEY_PREFIX = "dhk_"
# Principals of recently seen keys: the API-key check runs on every request, so a hit skips the
# database for CACHE_SECONDS. Revocation in this process clears the cache at once; other processes
# notice within CACHE_SECONDS.
CACHE_SECONDS = 5.0
LAST_USED_EVERY = 60.0  # seconds between last_used_at writes for one key (per process)
_cache: dict[str, tuple[float, Principal, datetime | None]] = {}
_cache_lock = threading.Lock()
_last_written: dict[str, float] = {}


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key or a user session."""

    kind: str  # api_key | user
    id: str
    name: str
    role: str
    scopes: tuple[str, ...] = ()


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(role: str, scopes: list[str] | None) -> list[str]:
    """The scopes, validated: known permission names that `role` holds (ValueError naming the bad one)."""
    out: list[str] = []
    for scope in scopes or []:
        scope = scope.strip()
        if not scope:
            continue
        if scope not in PERMISSIONS:
            raise ValueError(f"unknown scope {scope!r}; scopes are permission names such as events:write")
        if not allowed(role, scope):
            raise ValueError(f"scope {scope!r} is not a permission of role {role}")
        if scope not in out:
            out.append(scope)
    return out


def create_api_key(
    db: Database,
    name: str,
    role: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
    shop: str = DEFAULT_SHOP,
) -> str:
    """Create a key of `shop` and return it (the only time it is visible)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == PLATFORM_ROLE and shop != DEFAULT_SHOP:
        raise ValueError("the platform role belongs to the hub's operator: create it without --shop")
    if not name.strip():
        raise ValueError("a key needs a name")
    checked = check_scopes(role, scopes)
    now = now or datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise ValueError("expires_at must be in the future")
    key = KEY_PREFIX + token_shop_part(shop) + secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(
            t.api_keys.insert().values(
                name=name.strip(),
                role=role,
                prefix=key[: min(16, len(KEY_PREFIX + token_shop_part(shop)) + 6)],
                key_hash=hash_key(key),
                scopes=checked,
                created_at=now,
                expires_at=expires_at,
            )
        )
    return key


def authenticate_key(db: Database, key: str, now: datetime | None = None) -> Principal | None:
    """The principal behind a presented key, or None (unknown, revoked or expired; lookup by hash)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    now = now or datetime.now(UTC)
    digest = hash_key(key)
    cache_key = f"{id(db)}:{digest}"
    mono = time.monotonic()
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] > mono:
        if hit[2] is not None and hit[2] <= now:
            return None
        _touch(db, hit[1].id, cache_key, mono, now)
        return hit[1]
    with db.read() as conn:
        row = conn.execute(sa.select(t.api_keys).where(t.api_keys.c.key_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    principal = Principal("api_key", str(row.id), row.name, row.role, tuple(row.scopes or ()))
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[cache_key] = (mono + CACHE_SECONDS, principal, row.expires_at)
    if row.last_used_at is None or now - row.last_used_at > timedelta(seconds=LAST_USED_EVERY):
        _touch(db, principal.id, cache_key, mono, now)
    return principal


def _touch(db: Database, key_id: str, cache_key: str, mono: float, now: datetime) -> None:
    # At most one write per key per LAST_USED_EVERY in this process: keys sit on the ingest hot path.
    with _cache_lock:
        last = _last_written.get(cache_key)
        if last is not None and mono - last < LAST_USED_EVERY:
            return
        if len(_last_written) > 10_000:
            _last_written.clear()
        _last_written[cache_key] = mono
    with db.write() as conn:
        conn.execute(t.api_keys.update().where(t.api_keys.c.id == int(key_id)).values(last_used_at=now))


def clear_cache() -> None:
    """Forget cached principals (after a revocation or a role change)."""
    with _cache_lock:
        _cache.clear()


def revoke_api_key(db: Database, key_id: int) -> bool:
    """Revoke a key by id."""
    with db.write() as conn:
        res = conn.execute(
            t.api_keys.update().where(t.api_keys.c.id == key_id).values(revoked_at=datetime.now(UTC))
        )
    clear_cache()
    return res.rowcount > 0


def list_api_keys(db: Database) -> list[dict[str, object]]:
    """Every key without its secret (prefix only)."""
    with db.read() as conn:
        rows = conn.execute(sa.select(t.api_keys).order_by(t.api_keys.c.id)).all()
    return [
        {
            "id": r.id,
            "name": r.name,
            "role": r.role,
            "prefix": r.prefix,
            "scopes": list(r.scopes or []),
            "created_at": r.created_at.isoformat(),
            "expires_at": r.expires_at.isoformat() if r.expires_at else None,
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def create_key_cli(
    core: Core, name: str, role: str, scopes: str = "", expires_days: int | None = None
) -> str:
    """`deliveryhub keys create`: create the key and audit it (name, role, scopes, expiry, who ran it)."""
    from deliveryhub.security.audit import audit_log_of, cli_actor

    now = core.clock.now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    wanted = [s for s in scopes.split(",") if s.strip()]
    key = create_api_key(core.db, name, role, wanted, expires, now, shop=core.settings.shop_slug)
    audit_log_of(core).record(
        cli_actor(),
        "api_key.created",
        f"api_key:{key[:10]}",
        {
            "name": name.strip(),
            "role": role,
            "scopes": check_scopes(role, wanted),
            "expires_at": expires.isoformat() if expires else None,
            "via": "cli",
        },
    )
    return key


def revoke_key_cli(core: Core, key_id: int) -> bool:
    """`deliveryhub keys revoke`: revoke by id and audit it."""
    from deliveryhub.security.audit import audit_log_of, cli_actor

    ok = revoke_api_key(core.db, key_id)
    if ok:
        audit_log_of(core).record(cli_actor(), "api_key.revoked", f"api_key:{key_id}", {"via": "cli"})
    return ok
