"""Staff accounts: argon2id password hashes, login throttling, expiring sessions, TOTP without replay."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from deliveryhub.pii.cipher import open_, seal
from deliveryhub.security import logins
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import audit_log_of
from deliveryhub.security.passwords import PasswordRejected, check_password
from deliveryhub.security.rbac import ROLES
from deliveryhub.security.tables import sessions, users
from deliveryhub.security.tenancy import DEFAULT_SHOP, PLATFORM_ROLE, token_shop_part
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert

SESSION_HOURS = 12  # absolute lifetime
IDLE_MINUTES = 30  # a session unused this long expires (ISMS-P 2.5.x: session timeout)
SESSION_PREFIX = "dhs_"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$")
WRONG = (
    "이메일 또는 비밀번호가 올바르지 않거나 시도가 너무 많습니다. 잠시 후 다시 시도하세요 / "
    "e-mail or password is wrong, or too many attempts; try again in a moment"
)
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults
# A real hash to verify against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthError(Exception):
    """A login or account operation that failed, with a stable code and a user-facing message."""

    def __init__(self, code: str, message: str, status: int = 401, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Session:
    """A session token (shown once) and when it expires."""

    token: str
    expires_at: datetime
    user_id: int
    role: str


def normalize_email(email: str) -> str:
    """Lower-cased, trimmed e-mail, validated."""
    value = (email or "").strip().lower()
    if not _EMAIL.match(value):
        raise AuthError("invalid_field", "email: not a valid e-mail address", 422, "email")
    return value


def check_password_policy(password: str, email: str = "", min_length: int = 12) -> None:
    """The password policy of passwords.py, as an AuthError (422 naming the password field)."""
    try:
        check_password(password, min_length, email)
    except PasswordRejected as exc:
        raise AuthError("weak_password", str(exc), 422, "password") from None


def _totp_key(core: Core) -> bytes:
    key: bytes = core.keyring.master.derive("deliveryhub totp v1")
    return key


def _check_role(core: Core, role: str) -> None:
    if role not in ROLES:
        raise AuthError("invalid_field", f"role: one of {', '.join(ROLES)}", 422, "role")
    if role == PLATFORM_ROLE and core.settings.shop_slug != DEFAULT_SHOP:
        raise AuthError("invalid_field", "role: the platform role exists only outside any shop", 422, "role")


def create_user(core: Core, email: str, role: str, password: str, actor: Any = "cli") -> int:
    """Create an account; returns its id. Raises AuthError on bad input or a duplicate e-mail."""
    email = normalize_email(email)
    _check_role(core, role)
    check_password_policy(password, email, int(core.settings.password_min_length))
    now = core.clock.now()
    with core.db.write() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.email == email)).first() is not None:
            raise AuthError("duplicate", f"email: an account for {email} already exists", 409, "email")
        inserted = conn.execute(
            users.insert().values(
                email=email,
                role=role,
                password_hash=_hasher.hash(password),
                failed_attempts=0,
                created_at=now,
                password_changed_at=now,
            )
        ).inserted_primary_key
        assert inserted is not None  # noqa: S101 - an INSERT always has a primary key
        user_id = inserted[0]
        audit_log_of(core).record_in(
            conn, actor, "user.created", f"user:{user_id}", {"email": email, "role": role}
        )
    return int(user_id)


def set_role(core: Core, user_id: int, role: str, actor: Any) -> None:
    """Change a user's role (audited); their sessions end so the new role applies at once."""
    _check_role(core, role)
    with core.db.write() as conn:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise AuthError("not_found", f"no user {user_id}", 404)
        conn.execute(users.update().where(users.c.id == user_id).values(role=role))
        conn.execute(
            sessions.update()
            .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=core.clock.now())
        )
        audit_log_of(core).record_in(
            conn, actor, "user.role_changed", f"user:{user_id}", {"from": row.role, "to": role}
        )
    _session_cache.clear()


def set_disabled(core: Core, user_id: int, disabled: bool, actor: Any) -> None:
    """Disable (ending every session) or re-enable an account (audited)."""
    now = core.clock.now()
    with core.db.write() as conn:
        res = conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(disabled_at=now if disabled else None, failed_attempts=0, locked_until=None)
        )
        if res.rowcount == 0:
            raise AuthError("not_found", f"no user {user_id}", 404)
        if disabled:
            conn.execute(
                sessions.update()
                .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        audit_log_of(core).record_in(
            conn, actor, "user.disabled" if disabled else "user.enabled", f"user:{user_id}", {}
        )
    _session_cache.clear()


def list_users(core: Core) -> list[dict[str, Any]]:
    """Every account without secrets."""
    with core.db.read() as conn:
        rows = conn.execute(sa.select(users).order_by(users.c.id)).all()
    return [
        {
            "id": r.id,
            "email": r.email,
            "role": r.role,
            "totp": r.totp_secret_enc is not None,
            "locked": bool(r.locked_until and r.locked_until > core.clock.now()),
            "disabled": r.disabled_at is not None,
            "created_at": r.created_at.isoformat(),
            "last_login_at": r.last_login_at.isoformat() if r.last_login_at else None,
        }
        for r in rows
    ]


def enable_totp(core: Core, user_id: int, actor: Any) -> str:
    """Turn on TOTP for a user; returns the otpauth:// provisioning URI (shown once)."""
    secret = pyotp.random_base32()
    with core.db.write() as conn:
        row = conn.execute(sa.select(users.c.email).where(users.c.id == user_id)).first()
        if row is None:
            raise AuthError("not_found", f"no user {user_id}", 404)
        blob = seal(_totp_key(core), secret.encode(), f"totp:{user_id}".encode())
        conn.execute(users.update().where(users.c.id == user_id).values(totp_secret_enc=blob))
        audit_log_of(core).record_in(conn, actor, "user.totp_enabled", f"user:{user_id}", {})
    return pyotp.TOTP(secret).provisioning_uri(name=row.email, issuer_name="deliveryhub")


def totp_secret(core: Core, user_id: int) -> str | None:
    """The TOTP secret of a user (for tests and re-provisioning), or None."""
    with core.db.read() as conn:
        blob = conn.execute(sa.select(users.c.totp_secret_enc).where(users.c.id == user_id)).scalar()
    return open_(_totp_key(core), blob, f"totp:{user_id}".encode()).decode() if blob else None


def authenticate(
    core: Core, email: str, password: str, totp: str | None = None, ip: str | None = None
) -> Any:
    """The user row for valid credentials; AuthError otherwise, one answer for every kind of failure.

    Unknown account, wrong password, wrong or replayed TOTP, disabled account and a throttled
    account+address pair all answer the same 401 (logins.py explains the throttle); each is audited."""
    now = core.clock.now()
    raw = (email or "").strip().lower()[:254]
    key = logins.throttle_key(core, raw, ip)
    try:
        email = normalize_email(email)
    except AuthError:
        email = ""
    row: Any = None
    with core.db.read() as conn:
        until = logins.blocked_until(conn, key, now)
        if email and until is None:
            row = conn.execute(sa.select(users).where(users.c.email == email)).first()
    reason: str | None = None
    step: int | None = None
    if until is not None:
        _verify(_DUMMY_HASH, password)  # the same cost as a real check: timing tells nothing either
        reason = "throttled"
    elif row is None:
        _verify(_DUMMY_HASH, password)
        reason = "unknown_account"
    elif row.disabled_at is not None:
        _verify(row.password_hash, password)
        reason = "disabled"
    elif not _verify(row.password_hash, password):
        reason = "wrong_password"
    elif row.totp_secret_enc is not None:
        if not totp:
            raise AuthError(
                "totp_required", "인증 코드를 입력하세요 / a one-time code is required", 401, "totp"
            )
        secret = open_(_totp_key(core), row.totp_secret_enc, f"totp:{row.id}".encode()).decode()
        step = logins.totp_step(secret, totp, now)
        if step is None:
            reason = "wrong_totp"
    audit = audit_log_of(core)
    with core.db.write() as conn:
        if reason is None and step is not None and not logins.claim_totp_step(conn, row.id, step):
            reason = "totp_replayed"
        if reason is not None:
            details: dict[str, Any] = {"reason": reason, "email": raw}
            if reason != "throttled":  # attempts while blocked do not extend the block
                failures, blocked = logins.record_failure(conn, key, now)
                details["failures"] = failures
                if blocked is not None:
                    details["blocked_until"] = blocked.isoformat()
            if row is not None:
                conn.execute(
                    users.update()
                    .where(users.c.id == row.id)
                    .values(failed_attempts=users.c.failed_attempts + 1)
                )
            target = f"user:{row.id}" if row is not None else None
            audit.record_in(conn, "anonymous", "user.login_failed", target, details, ip)
            if row is not None and details.get("failures") == logins.FREE_FAILURES:
                # Someone is guessing a real account's password: tell ops (once per account and day).
                core.ops_alerts.notify_ops(
                    OpsAlert(
                        "login_throttled",
                        f"user:{row.id}:{now:%Y-%m-%d}",
                        f"[deliveryhub] 로그인 실패 반복: 계정 {row.id} / "
                        f"repeated failed logins, user {row.id}",
                        f"{logins.FREE_FAILURES} failed logins in a row from {ip or 'unknown'}; "
                        "that address now waits before each try. See GET /v1/audit?action=user.login_failed",
                        {"user_id": row.id, "ip": ip},
                    ),
                    conn=conn,
                )
        else:
            logins.clear(conn, key)
            values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = _hasher.hash(password)
            conn.execute(users.update().where(users.c.id == row.id).values(**values))
            audit.record_in(conn, f"user:{row.id}:{row.email}", "user.login", f"user:{row.id}", {}, ip)
    if reason is not None:
        raise AuthError("invalid_credentials", WRONG)
    return row


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------- sessions
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(core: Core, user: Any, ip: str | None = None, kind: str = "cookie") -> Session:
    """A new session for an authenticated user; the token is returned once and stored hashed."""
    token = SESSION_PREFIX + token_shop_part(core.settings.shop_slug) + secrets.token_urlsafe(32)
    now = core.clock.now()
    expires = now + timedelta(hours=SESSION_HOURS)
    with core.db.write() as conn:
        conn.execute(
            sessions.insert().values(
                token_hash=_token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=expires,
                last_seen_at=now,
                ip=(ip or "")[:64],
                kind=kind,
            )
        )
    return Session(token, expires, int(user.id), user.role)


_session_cache: dict[str, tuple[float, Principal, datetime]] = {}
_cache_lock = threading.Lock()
SESSION_CACHE_SECONDS = 5.0


def session_principal(core: Core, token: str) -> Principal | None:
    """The principal of a live session token, or None (expired, idle too long, revoked, disabled)."""
    if not token or not token.startswith(SESSION_PREFIX) or len(token) > 200:
        return None
    digest = _token_hash(token)
    key = f"{id(core.db)}:{digest}"
    mono = time.monotonic()
    hit = _session_cache.get(key)
    now = core.clock.now()
    if hit is not None and hit[0] > mono and now - hit[2] < timedelta(minutes=1):
        return hit[1]
    with core.db.read() as conn:
        row = conn.execute(
            sa.select(sessions, users.c.email, users.c.role, users.c.disabled_at)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == digest)
        ).first()
    if (
        row is None
        or row.revoked_at is not None
        or row.disabled_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > timedelta(minutes=IDLE_MINUTES)
    ):
        return None
    if now - row.last_seen_at > timedelta(minutes=1):  # idle tracking without a write per request
        with core.db.write() as conn:
            conn.execute(sessions.update().where(sessions.c.token_hash == digest).values(last_seen_at=now))
    principal = Principal("user", str(row.user_id), row.email, row.role)
    with _cache_lock:
        if len(_session_cache) > 10_000:
            _session_cache.clear()
        _session_cache[key] = (mono + SESSION_CACHE_SECONDS, principal, now)
    return principal


def revoke_session(core: Core, token: str) -> bool:
    """End a session (logout)."""
    with core.db.write() as conn:
        res = conn.execute(
            sessions.update()
            .where(sessions.c.token_hash == _token_hash(token), sessions.c.revoked_at.is_(None))
            .values(revoked_at=core.clock.now())
        )
    _session_cache.pop(f"{id(core.db)}:{_token_hash(token)}", None)
    return bool(res.rowcount)


def purge_sessions(core: Core, now: datetime) -> int:
    """Delete sessions that ended more than a day ago."""
    cutoff = now - timedelta(days=1)
    with core.db.write() as conn:
        res = conn.execute(
            sessions.delete().where(sa.or_(sessions.c.expires_at < cutoff, sessions.c.revoked_at < cutoff))
        )
        logins.purge(conn, now)
    return int(res.rowcount or 0)
