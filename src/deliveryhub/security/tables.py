"""Security tables: user accounts, sessions, the hash-chained audit log and retention bookkeeping."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# Staff accounts (not customers). Passwords are argon2id hashes; the TOTP secret is sealed by a key
# derived from the master key, so a database dump alone cannot produce second factors.
users = sa.Table(
    "users",
    metadata,
    id_column(),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("totp_secret_enc", sa.LargeBinary()),
    sa.Column("failed_attempts", sa.Integer(), nullable=False, default=0),
    timestamp("locked_until"),
    timestamp("created_at", nullable=False),
    timestamp("password_changed_at", nullable=False),
    timestamp("last_login_at"),
    timestamp("disabled_at"),
    # The last TOTP time step accepted: a code (or an older one) cannot be used a second time.
    sa.Column("totp_last_step", sa.BigInteger()),
)

# Failed logins per (account, address), keyed by an HMAC of both so the table names neither. Backoff
# doubles per failure past the free ones and is capped: a stranger can slow their own address down, not
# lock the owner out; unknown accounts behave exactly like known ones.
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False, default=0),
    timestamp("last_failure_at", nullable=False, index=True),
    timestamp("blocked_until"),
)

# Login sessions; only the SHA-256 of the 256-bit token is stored.
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.BigInteger(), nullable=False, index=True),
    timestamp("created_at", nullable=False),
    timestamp("expires_at", nullable=False),
    timestamp("last_seen_at", nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("kind", sa.String(16), nullable=False, default="cookie"),  # cookie | bearer
    timestamp("revoked_at"),
)

# Append-only audit log: entry `seq` commits to entry `seq - 1` through `prev_hash`; `hash` is an
# HMAC keyed from the master key, so rows cannot be rewritten consistently without the key.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    timestamp("at", nullable=False, index=True),
    sa.Column("actor", sa.String(200), nullable=False, index=True),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("target", sa.String(200)),
    sa.Column("details", sa.Text(), nullable=False),  # canonical JSON (hashed byte for byte)
    sa.Column("ip", sa.String(64)),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row (id = 1): the chain's head and anchor, MACed. Pruning old entries moves the anchor; deleting
# the newest entries is detected because the head names the last sequence number.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("first_seq", sa.BigInteger(), nullable=False),
    sa.Column("anchor_hash", sa.String(64), nullable=False),
    sa.Column("last_seq", sa.BigInteger(), nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
)

# Monthly access-log reviews (ISMS-P 2.9.5): one row per month, with the flagged users.
audit_reviews = sa.Table(
    "audit_reviews",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    timestamp("created_at", nullable=False),
    sa.Column("report", sa.JSON(), nullable=False),
)

# Retention runs per data class: what was deleted, when (counts only; ids go to the audit log).
retention_runs = sa.Table(
    "retention_runs",
    metadata,
    id_column(),
    sa.Column("data_class", sa.String(32), nullable=False),
    timestamp("ran_at", nullable=False, index=True),
    timestamp("cutoff", nullable=False),
    sa.Column("deleted", sa.Integer(), nullable=False),
    sa.Column("kept_open_claim", sa.Integer(), nullable=False, default=0),
)
