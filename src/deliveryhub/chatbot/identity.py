"""Identity checks that cannot be guessed: durable counters of failed phone-digit checks per order, per
customer and per client address, shared by every session and worker. Past the limit the scope is locked
(backoff: each further lock lasts twice as long); while locked even the right digits are refused, and a
success does not clear a lock. Every lock is audited (as soon as it is committed) and alerts ops.

The check, the comparison and the count happen in ONE write transaction holding the counter rows, so
concurrent guesses from many sessions cannot slip past the limit together."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.chatbot import tables as ct
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert

log = structlog.get_logger(__name__)

WINDOW = timedelta(hours=24)  # failures count within this window
LOCKS_FORGOTTEN_AFTER = timedelta(days=7)  # backoff starts over after a quiet week
MAX_LOCK = timedelta(hours=24)
ACTOR = "system:chatbot"

OK, WRONG, LOCKED, THROTTLED = "ok", "wrong", "locked", "throttled"


@dataclass(frozen=True)
class Limits:
    """Failures allowed per scope within WINDOW, and the first lock's length."""

    per_order: int = 5
    per_customer: int = 5
    per_ip: int = 20
    lock_minutes: int = 30

    @classmethod
    def of(cls, core: Core, per_ip: int | None = None) -> Limits:
        """The hub's limits (settings chat_verify_failures_per_order / chat_verify_lock_minutes)."""
        per_order = max(1, int(getattr(core.settings, "chat_verify_failures_per_order", 5) or 5))
        minutes = max(1, int(getattr(core.settings, "chat_verify_lock_minutes", 30) or 30))
        return cls(per_order, per_order, per_ip or max(20, 2 * per_order), minutes)


@dataclass(frozen=True)
class Outcome:
    """Result of one check: ok | wrong | locked (order/customer) | throttled (client address)."""

    result: str
    until: datetime | None = None
    scope: str | None = None


def ip_key(core: Core, ip: str | None) -> str:
    """A keyed hash of the client address (the counter table holds no address in clear)."""
    return str(core.keyring.blind.token("chat-verify-ip", ip or "unknown", 32))


def lock_length(limits: Limits, locks: int) -> timedelta:
    """Length of the `locks`-th lock: lock_minutes, doubling each time, at most MAX_LOCK."""
    return min(timedelta(minutes=limits.lock_minutes) * (2 ** max(0, min(locks - 1, 16))), MAX_LOCK)


class VerifyGuard:
    """Lockout for the chatbot's phone-digit check."""

    def __init__(self, core: Core, limits: Limits | None = None) -> None:
        self.core = core
        self._limits = limits

    @property
    def limits(self) -> Limits:
        """Limits from the hub's settings unless given."""
        return self._limits or Limits.of(self.core)

    def attempt(
        self,
        order_id: str | None,
        customer_id: str | None,
        ip: str | None,
        expected: str | None,
        given: str,
        session_id: str | None = None,
    ) -> Outcome:
        """Check `given` against `expected` (last four digits) under the lockout; count a failure."""
        now = self.core.clock.now()
        limits = self.limits
        keys = self._keys(order_id, customer_id, ip)
        alerts: list[tuple[str, str, int, datetime, int]] = []
        audits: list[tuple[str, dict[str, Any]]] = []
        with self.core.db.write(urgent=True) as conn:
            insert_or_ignore(
                conn,
                ct.chat_verify_guard,
                [{"scope": s, "key": k, "failures": 0, "locks": 0} for s, k in keys],
                ["scope", "key"],
            )
            rows = {
                (r.scope, r.key): r
                for r in conn.execute(
                    sa.select(ct.chat_verify_guard)
                    .where(sa.tuple_(ct.chat_verify_guard.c.scope, ct.chat_verify_guard.c.key).in_(keys))
                    .order_by(ct.chat_verify_guard.c.scope, ct.chat_verify_guard.c.key)
                    .with_for_update()
                )
            }
            lock = _first_lock(rows.values(), now)
            if lock is not None:
                return lock
            ok = bool(expected) and len(given) == 4 and hmac.compare_digest(str(expected)[-4:], given[-4:])
            if ok:
                # Only the failures of this order and customer are forgiven; the address keeps its count.
                for s, k in keys:
                    if s != "ip":
                        self._set(conn, s, k, failures=0, window_start=None)
                return Outcome(OK)
            for s, k in keys:
                r = rows[(s, k)]
                fresh = r.window_start is None or now - r.window_start > WINDOW
                failures = 1 if fresh else int(r.failures) + 1
                locks = int(r.locks)
                if r.last_failure_at is not None and now - r.last_failure_at > LOCKS_FORGOTTEN_AFTER:
                    locks = 0
                values: dict[str, Any] = {
                    "failures": failures,
                    "window_start": now if fresh else r.window_start,
                    "last_failure_at": now,
                    "locks": locks,
                }
                limit = {"order": limits.per_order, "customer": limits.per_customer, "ip": limits.per_ip}[s]
                if failures >= limit:
                    locks += 1
                    until = now + lock_length(limits, locks)
                    values.update(failures=0, window_start=None, locks=locks, locked_until=until)
                    target = f"{s}:{k}" if s != "ip" else f"ip:{k[:12]}"
                    details = {
                        "scope": s,
                        "failures": failures,
                        "lock": locks,
                        "until": until.isoformat(),
                        "order_id": order_id,
                        "session_id": (session_id or "")[:12] or None,
                    }
                    audits.append((target, details))
                    alerts.append((s, k, failures, until, locks))
                self._set(conn, s, k, **values)
        # Recorded once the lock is committed (the audit log takes its own write transaction).
        for target, details in audits:
            self.core.audit.record(ACTOR, "chat.verify_locked", target, details, ip)
        for s, k, failures, until, locks in alerts:
            self._alert(s, k, failures, until, locks, order_id, ip)
        if any(s == "ip" for s, *_ in alerts):
            return Outcome(THROTTLED, next(u for s, _k, _f, u, _l in alerts if s == "ip"), "ip")
        return Outcome(WRONG)

    # ------------------------------------------------------------ internals
    def _keys(self, order_id: str | None, customer_id: str | None, ip: str | None) -> list[tuple[str, str]]:
        keys = [("ip", ip_key(self.core, ip))]
        if order_id:
            keys.append(("order", str(order_id)[:128]))
        if customer_id:
            keys.append(("customer", str(customer_id)[:128]))
        return sorted(keys)  # a fixed key order: no deadlock between two checks on PostgreSQL

    @staticmethod
    def _set(conn: Any, scope: str, key: str, **values: Any) -> None:
        conn.execute(
            ct.chat_verify_guard.update()
            .where(ct.chat_verify_guard.c.scope == scope, ct.chat_verify_guard.c.key == key)
            .values(**values)
        )

    def _alert(
        self,
        scope: str,
        key: str,
        failures: int,
        until: datetime,
        locks: int,
        order_id: str | None,
        ip: str | None,
    ) -> None:
        log.warning("chat_verify_locked", scope=scope, lock=locks, until=until.isoformat())
        what = {
            "order": f"주문 {key}",
            "customer": f"고객 {key}",
            "ip": f"접속 주소 {ip or '-'}",
        }[scope]
        try:
            self.core.ops_alerts.notify_ops(
                OpsAlert(
                    "chat_verify_lock",
                    f"{scope}:{key}:{locks}:{until:%Y%m%d%H%M}",  # once per lock, also after backoff restarts
                    f"[보안] 챗봇 본인 확인 잠금: {what} / chat identity check locked ({scope})",
                    f"{what}에 대해 본인 확인(휴대폰 뒷자리)이 {failures}회 연속 실패해 "
                    f"{until.isoformat()}까지 잠갔어요({locks}번째 잠금). "
                    "추측 공격일 수 있으니 확인해 주세요. "
                    f"The chatbot identity check for {scope} failed {failures} times and is locked until "
                    f"{until.isoformat()} (lock #{locks}).",
                    {"order_id": order_id, "scope": scope, "lock": locks},
                )
            )
        except Exception as exc:  # the lock itself already holds; a failed alert must not undo it
            log.warning("chat_verify_alert_failed", error=str(exc)[:200])


def prune(core: Core, now: datetime) -> int:
    """Forget counters with no lock in force and no failure for LOCKS_FORGOTTEN_AFTER (retention job)."""
    g = ct.chat_verify_guard
    with core.db.write() as conn:
        result = conn.execute(
            g.delete().where(
                sa.or_(g.c.locked_until.is_(None), g.c.locked_until < now),
                sa.or_(g.c.last_failure_at.is_(None), g.c.last_failure_at < now - LOCKS_FORGOTTEN_AFTER),
            )
        )
    return int(result.rowcount or 0)


def _first_lock(rows: Any, now: datetime) -> Outcome | None:
    """The lock in force among counter rows: an address throttle first, then order/customer."""
    found: Outcome | None = None
    for r in rows:
        if r.locked_until is not None and r.locked_until > now:
            out = Outcome(THROTTLED if r.scope == "ip" else LOCKED, r.locked_until, r.scope)
            if found is None or (out.result == THROTTLED and found.result != THROTTLED):
                found = out
    return found


# ------------------------------------------------------------ what the customer is told
# None of these says whether the digits were right: a lock answers the right and the wrong digits alike.
def locked_text(lang: str) -> str:
    """A check refused by a lock (order, customer or address)."""
    if lang == "en":
        return (
            "For your security, identity checks for this order are paused for a while. Please try again "
            "later, or open the chat from the link in our order notification."
        )
    return (
        "고객님 정보 보호를 위해 이 주문의 본인 확인을 잠시 멈춰 두었어요. 잠시 후 다시 시도해 주시거나, "
        "주문 알림 메시지에 있는 링크로 들어와 주세요. 번거롭게 해 드려 죄송해요."
    )


def exhausted_text(lang: str) -> str:
    """The conversation used up its checks (no ticket is opened for it)."""
    if lang == "en":
        return (
            "I couldn't confirm your identity, so I can't check more digits in this conversation. You can "
            'open the chat from the link in our order notification, or type "agent" to talk to a person.'
        )
    return (
        "본인 확인이 여러 번 되지 않아 이 대화에서는 더 확인해 드리기 어려워요. 주문 알림 메시지의 링크로 "
        "들어오시거나, 상담원의 도움이 필요하시면 '상담원 연결'이라고 말씀해 주세요."
    )


def staff_text(lang: str) -> str:
    """A check sent with a staff login: staff cannot verify as a customer."""
    if lang == "en":
        return (
            "This browser is signed in to a staff account, so the customer identity check is not available "
            "here. Please sign out, or let the customer check in their own chat."
        )
    return (
        "직원 계정으로 로그인된 상태에서는 고객 본인 확인을 할 수 없어요. 로그아웃한 뒤 이용하시거나, "
        "고객님이 직접 본인 확인을 하시도록 안내해 주세요."
    )


def link_act_text(lang: str) -> str:
    """A link-opened (view-only) conversation asked to act: the phone digits are needed too."""
    if lang == "en":
        return (
            "The link from the notification lets me show the order's status. To change or cancel "
            "anything, please also tell me the last four digits of the phone number used for the order."
        )
    return (
        "알림 링크로는 주문 조회만 도와드릴 수 있어요. 취소·변경·접수 같은 처리를 하려면 주문하실 때 "
        "입력하신 휴대폰 번호 뒷자리 4자리를 한 번 더 알려 주세요."
    )
