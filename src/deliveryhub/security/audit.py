"""Append-only, hash-chained audit log.

Entry n stores HMAC(audit key, n | time | actor | action | target | details | ip | hash of entry n-1).
The audit key is derived from the master key, so someone with database access alone cannot rewrite a
row and recompute the chain. A MACed head row names the first and the last sequence number, so
deleting entries anywhere (also at the end) is detected. Pruning past the retention period moves the
anchor forward and is itself an audit entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database, insert_ignore
from deliveryhub.pii import dlp
from deliveryhub.security.tables import audit_head, audit_log, audit_reviews
from deliveryhub.service_layer.hub import Core

GENESIS = "0" * 64
# Where the current request came from; set by the security middleware, read when ip=None.
request_ip: ContextVar[str | None] = ContextVar("deliveryhub_request_ip", default=None)


def principal_label(principal: object) -> str:
    """The actor string for a principal (kind:id:name) or a plain string."""
    if isinstance(principal, str):
        return principal[:200]
    kind, id_, name = (getattr(principal, a, "?") for a in ("kind", "id", "name"))
    return f"{kind}:{id_}:{name}"[:200]


def cli_actor() -> str:
    """The actor of a command-line action: `cli:<operating-system user>` (who ran it, for the audit log)."""
    import getpass

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers; the action is still audited
        user = "unknown"
    return f"cli:{user}"[:200]


def _canonical(details: Mapping[str, Any]) -> str:
    clean = _mask_values(details)
    return json.dumps(clean, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _mask_values(value: Any) -> Any:
    # Details describe what happened; they must never become a second copy of personal data.
    if isinstance(value, str):
        return dlp.mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): _mask_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_mask_values(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(
    key: bytes,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    details: str,
    ip: str | None,
    prev_hash: str,
) -> str:
    """The chained HMAC of one entry."""
    material = "\x1f".join([str(seq), _ts(at), actor, action, target or "", details, ip or "", prev_hash])
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def _head_mac(key: bytes, first_seq: int, anchor: str, last_seq: int, last_hash: str) -> str:
    material = f"head|{first_seq}|{anchor}|{last_seq}|{last_hash}".encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


class AuditLog:
    """Writes and verifies the chain of one database; it is the hub's `AuditTrail` port (core.audit)."""

    def __init__(self, db: Database, key: bytes, now: Any = None) -> None:
        self.db = db
        self.key = key
        self.now = now or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------------ writing
    def record(
        self,
        actor: object,
        action: str,
        target: str | None,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        """Append one entry in its own transaction."""
        with self.db.write() as conn:
            self.record_in(conn, actor, action, target, details, ip)

    def pii_read(self, principal: object, customer_id: str | None, fields: Iterable[str], why: str) -> None:
        """Record that `principal` saw `fields` of a customer's personal data, and why."""
        self.record(
            principal,
            "pii.read",
            f"customer:{customer_id}",
            {"fields": sorted(str(f) for f in fields), "why": why, "role": getattr(principal, "role", None)},
        )

    def record_in(
        self,
        conn: Connection,
        actor: object,
        action: str,
        target: str | None,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
    ) -> int:
        """Append one entry inside the caller's transaction (commits or rolls back with it)."""
        head = self._lock_head(conn)
        seq = head.last_seq + 1
        at = self.now().astimezone(UTC)
        label = principal_label(actor)
        body = _canonical(details or {})
        ip = ip if ip is not None else request_ip.get()
        ip = ip[:64] if ip else None
        target = target[:200] if target else None
        digest = entry_hash(self.key, seq, at, label, action[:64], target, body, ip, head.last_hash)
        conn.execute(
            audit_log.insert().values(
                seq=seq,
                at=at,
                actor=label,
                action=action[:64],
                target=target,
                details=body,
                ip=ip,
                prev_hash=head.last_hash,
                hash=digest,
            )
        )
        conn.execute(
            audit_head.update()
            .where(audit_head.c.id == 1)
            .values(
                last_seq=seq,
                last_hash=digest,
                mac=_head_mac(self.key, head.first_seq, head.anchor_hash, seq, digest),
            )
        )
        return seq

    def _lock_head(self, conn: Connection) -> Any:
        insert_ignore(
            conn,
            audit_head,
            [
                {
                    "id": 1,
                    "first_seq": 1,
                    "anchor_hash": GENESIS,
                    "last_seq": 0,
                    "last_hash": GENESIS,
                    "mac": _head_mac(self.key, 1, GENESIS, 0, GENESIS),
                }
            ],
            ["id"],
        )
        # FOR UPDATE serializes writers on PostgreSQL; SQLite writers are serialized by BEGIN IMMEDIATE.
        return conn.execute(sa.select(audit_head).where(audit_head.c.id == 1).with_for_update()).one()

    # ------------------------------------------------------------------ verifying
    def verify(self) -> VerifyResult:
        """Walk the chain; the first broken entry (edited, deleted, reordered) is reported."""
        with self.db.read() as conn:
            head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
            if head is None:
                any_row = conn.execute(sa.select(audit_log.c.seq).order_by(audit_log.c.seq).limit(1)).first()
                if any_row is None:
                    return VerifyResult(True, 0)
                return VerifyResult(False, 0, any_row.seq, "the chain head is missing")
            if not hmac.compare_digest(
                head.mac, _head_mac(self.key, head.first_seq, head.anchor_hash, head.last_seq, head.last_hash)
            ):
                return VerifyResult(False, 0, head.last_seq, "the chain head was altered")
            expected, prev, checked = head.first_seq, head.anchor_hash, 0
            for row in _rows(conn, head.first_seq):
                if row.seq > head.last_seq:
                    return VerifyResult(False, checked, row.seq, "entry beyond the chain head (inserted)")
                if row.seq != expected:
                    return VerifyResult(False, checked, expected, "entry is missing (deleted)")
                digest = entry_hash(
                    self.key,
                    row.seq,
                    row.at,
                    row.actor,
                    row.action,
                    row.target,
                    row.details,
                    row.ip,
                    row.prev_hash,
                )
                if not hmac.compare_digest(digest, row.hash):
                    return VerifyResult(
                        False, checked, row.seq, "entry content does not match its hash (edited)"
                    )
                if not hmac.compare_digest(row.prev_hash, prev):
                    return VerifyResult(False, checked, row.seq, "entry does not follow the previous one")
                prev, expected, checked = row.hash, expected + 1, checked + 1
            if expected - 1 != head.last_seq:
                return VerifyResult(False, checked, expected, "entry is missing (deleted)")
            if not hmac.compare_digest(prev, head.last_hash):
                return VerifyResult(False, checked, head.last_seq, "last entry does not match the chain head")
            return VerifyResult(True, checked)

    # ------------------------------------------------------------------ retention
    def prune(self, before: datetime) -> int:
        """Delete entries older than `before` (a prefix of the chain), move the anchor, audit it."""
        with self.db.write() as conn:
            head = self._lock_head(conn)
            last_old = conn.execute(
                sa.select(audit_log.c.seq, audit_log.c.hash)
                .where(audit_log.c.at < before)
                .order_by(audit_log.c.seq.desc())
                .limit(1)
            ).first()
            if last_old is None:
                return 0
            deleted = conn.execute(audit_log.delete().where(audit_log.c.seq <= last_old.seq)).rowcount
            first = last_old.seq + 1
            conn.execute(
                audit_head.update()
                .where(audit_head.c.id == 1)
                .values(
                    first_seq=first,
                    anchor_hash=last_old.hash,
                    mac=_head_mac(self.key, first, last_old.hash, head.last_seq, head.last_hash),
                )
            )
            self.record_in(
                conn,
                "system:retention",
                "audit.pruned",
                None,
                {"before": before.isoformat(), "deleted": deleted, "anchor_seq": last_old.seq},
            )
        return int(deleted)

    def entries(
        self,
        limit: int = 100,
        before_seq: int | None = None,
        action: str | None = None,
        actor: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest entries first, optionally filtered."""
        q = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        if before_seq is not None:
            q = q.where(audit_log.c.seq < before_seq)
        if action:
            q = q.where(audit_log.c.action == action)
        if actor:
            q = q.where(audit_log.c.actor == actor)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
        return [
            {
                "seq": r.seq,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "details": json.loads(r.details),
                "ip": r.ip,
            }
            for r in rows
        ]


def _rows(conn: Connection, start: int, chunk: int = 5000) -> Iterator[Any]:
    # Keyset pagination keeps memory flat on long chains.
    after = start - 1
    while True:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(chunk)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq


@dataclass
class VerifyResult:
    """Outcome of a chain verification."""

    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


def audit_key(core: Core) -> bytes:
    """The audit chain key of a hub (derived from its master key)."""
    key: bytes = core.keyring.master.derive("deliveryhub audit chain v1")
    return key


def audit_log_of(core: Core) -> AuditLog:
    """The hub's AuditLog: core.audit once security is wired, else one built on the fly (CLI, tests)."""
    if isinstance(core.audit, AuditLog):
        return core.audit
    return AuditLog(core.db, audit_key(core), core.clock.now)


# ---------------------------------------------------------------------- monthly access-log review
def access_review(core: Core, month: str, *, tz: str | None = None, floor: int = 50) -> dict[str, Any]:
    """Personal-data reads per actor in `month` (YYYY-MM, local time), unusual volumes flagged.

    An actor is flagged when their reads exceed 3x the median of all actors (and `floor`), exceed
    3x their own average of the previous three months (and `floor`), or when more than a quarter of
    their reads (at least 20) happened at night (22:00-07:00 local).
    """
    zone = ZoneInfo(tz or core.settings.tz)
    try:
        start_local = datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=zone)
    except ValueError as exc:
        raise ValueError("month: use YYYY-MM") from exc
    end_local = (start_local + timedelta(days=32)).replace(day=1)
    hist_local = (start_local - timedelta(days=85)).replace(day=1)
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"reads": 0, "customers": set(), "night": 0})
    history: dict[str, int] = defaultdict(int)
    with core.db.read() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.at, audit_log.c.target).where(
                audit_log.c.action == "pii.read",
                audit_log.c.at >= hist_local.astimezone(UTC),
                audit_log.c.at < end_local.astimezone(UTC),
            )
        )
        for r in rows:
            local = r.at.astimezone(zone)
            if local < start_local:
                history[r.actor] += 1
                continue
            p = per[r.actor]
            p["reads"] += 1
            p["customers"].add(r.target)
            if local.hour >= 22 or local.hour < 7:
                p["night"] += 1
    median = statistics.median([p["reads"] for p in per.values()]) if per else 0
    actors = []
    for actor, p in sorted(per.items(), key=lambda kv: -kv[1]["reads"]):
        reasons = []
        if p["reads"] > max(3 * median, floor):
            reasons.append(f"reads {p['reads']} > 3x median {median:g}")
        own = history.get(actor, 0) / 3
        if own and p["reads"] > max(3 * own, floor):
            reasons.append(f"reads {p['reads']} > 3x own 3-month average {own:.0f}")
        if p["night"] >= 20 and p["night"] > p["reads"] / 4:
            reasons.append(f"{p['night']} reads at night (22-07)")
        actors.append(
            {
                "actor": actor,
                "reads": p["reads"],
                "distinct_customers": len(p["customers"]),
                "night_reads": p["night"],
                "flagged": bool(reasons),
                "reasons": reasons,
            }
        )
    return {
        "month": month,
        "tz": str(zone),
        "median_reads": median,
        "actors": actors,
        "flagged": [a["actor"] for a in actors if a["flagged"]],
    }


def store_review(core: Core, month: str) -> dict[str, Any]:
    """Compute and keep the review of `month` (idempotent), audited."""
    report = access_review(core, month)
    with core.db.write() as conn:
        row = {"month": month, "created_at": core.clock.now(), "report": report}
        insert_ignore(conn, audit_reviews, [row], ["month"])
    audit_log_of(core).record(
        "system:review",
        "audit.reviewed",
        f"month:{month}",
        {"flagged": report["flagged"], "actors": len(report["actors"])},
    )
    return report
