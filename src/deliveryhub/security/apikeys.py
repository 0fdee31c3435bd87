"""API keys per integration: printed once, stored as a SHA-256 hash (keys are 256-bit random)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import Database
from deliveryhub.security.rbac import ROLES

KEY_PREFIX = "dhk_"
# Principals of recently seen keys: the API-key check runs on every request, so a hit skips the
# database for CACHE_SECONDS. Revocation in this process clears the cache at once; other processes
# notice within CACHE_SECONDS.
CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, Principal]] = {}
_cache_lock = threading.Lock()


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


def create_api_key(db: Database, name: str, role: str, scopes: list[str] | None = None) -> str:
    """Create a key and return it (the only time it is visible)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("a key needs a name")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(
            t.api_keys.insert().values(
                name=name.strip(),
                role=role,
                prefix=key[:10],
                key_hash=hash_key(key),
                scopes=scopes or [],
                created_at=datetime.now(UTC),
            )
        )
    return key


def authenticate_key(db: Database, key: str) -> Principal | None:
    """The principal behind a presented key, or None (lookup by hash: constant-time in the key)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    digest = hash_key(key)
    cache_key = f"{id(db)}:{digest}"
    now = time.monotonic()
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] > now:
        return hit[1]
    with db.read() as conn:
        row = conn.execute(sa.select(t.api_keys).where(t.api_keys.c.key_hash == digest)).first()
    if row is None or row.revoked_at is not None:
        return None
    principal = Principal("api_key", str(row.id), row.name, row.role, tuple(row.scopes or ()))
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[cache_key] = (now + CACHE_SECONDS, principal)
    return principal


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
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]
