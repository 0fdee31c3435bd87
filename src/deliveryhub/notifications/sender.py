"""Sending: the `notifications.send` job claims due jobs (FOR UPDATE SKIP LOCKED on PostgreSQL, a lease
that expires if a worker dies), resolves the recipient at send time (decrypted, never stored), applies
the policy (quiet hours, consent, opt-out), sends through the channel plugins with 알림톡 → SMS
fallback, records every provider receipt, retries with backoff and jitter (kernel.retry), and
dead-letters after the retry budget (telling ops once an hour)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.channels.base import OutgoingMessage
from deliveryhub.adapters.persistence.dialect import is_postgres
from deliveryhub.kernel.retry import backoff_delay
from deliveryhub.notifications import policy
from deliveryhub.notifications.channels import PHONE_CHANNELS
from deliveryhub.notifications.jobrows import Receipt, finish, finish_sent, record_receipt, release
from deliveryhub.notifications.preferences import Preferences, contact, mask_contact, preferences_of
from deliveryhub.notifications.render import render, variables_for
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.service_layer.ports import OpsAlert

if TYPE_CHECKING:
    from deliveryhub.notifications.dispatcher import Dispatcher

log = structlog.get_logger(__name__)

OPEN = ("pending", "retry", "sending")


class Sender:
    """Claims due jobs and sends them once each."""

    def __init__(self, parts: Dispatcher) -> None:
        """Works with the dispatcher's core, channels, settings, tracking links and ops alerts."""
        self.core, self.channels, self.settings = parts.core, parts.channels, parts.settings
        self.links, self.ops = parts.links, parts.ops
        self.rand = random.Random()
        self._contacts: dict[str, dict[str, str | None]] = {}  # this batch's decrypted contacts

    def claim(self, now: datetime) -> list[Any]:
        """Lease the due jobs this worker sends now (a dead worker's lease runs out; others skip them)."""
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        with self.core.db.write() as conn:
            due = sa.or_(
                sa.and_(jobs_t.c.status.in_(("pending", "retry")), jobs_t.c.next_attempt_at <= now),
                sa.and_(jobs_t.c.status == "sending", jobs_t.c.lease_until < now),  # a worker died mid-send
            )
            q = sa.select(jobs_t).where(due).order_by(jobs_t.c.id).limit(self.settings.send_batch)
            if is_postgres(conn):
                q = q.with_for_update(skip_locked=True)
            rows = conn.execute(q).all()
            if not rows:
                return []
            # Per order, messages go out in the order they were created: an earlier message that is
            # waiting for a retry holds back the later ones (deliberately deferred ones do not).
            orders = {r.order_id for r in rows if r.audience == "customer" and r.order_id}
            first_open: dict[str, int] = {}
            if orders:
                for oid, jid in conn.execute(
                    sa.select(jobs_t.c.order_id, sa.func.min(jobs_t.c.id))
                    .where(
                        jobs_t.c.order_id.in_(orders),
                        jobs_t.c.audience == "customer",
                        jobs_t.c.status.in_(OPEN),
                        jobs_t.c.scheduled_at <= now,
                    )
                    .group_by(jobs_t.c.order_id)
                ):
                    first_open[oid] = jid
            claimed = []
            ids = {r.id for r in rows}
            for r in rows:
                head = first_open.get(r.order_id) if r.audience == "customer" else None
                if head is not None and head < r.id and head not in ids:
                    continue
                claimed.append(r)
            if claimed:
                conn.execute(
                    jobs_t.update()
                    .where(jobs_t.c.id.in_([r.id for r in claimed]))
                    .values(status="sending", lease_until=lease)
                )
        return claimed

    def send_due(self, now: datetime | None = None) -> int:
        """Job `notifications.send`: send every due job once; returns how many were attempted."""
        now = now or self.core.clock.now()
        jobs = self.claim(now)
        if not jobs:
            return 0
        # The batch's customers' preferences in one read, not two per job; each contact decrypted once.
        with self.core.db.read() as conn:
            prefs = preferences_of(conn, {j.customer_id for j in jobs if j.customer_id})
        self._contacts = {}
        try:
            return self._send_batch(jobs, now, prefs)
        finally:
            self._contacts = {}  # decrypted personal data lives no longer than its batch

    def _send_batch(self, jobs: list[Any], now: datetime, prefs: dict[str, Preferences]) -> int:
        blocked_orders: set[str] = set()
        for job in jobs:
            if job.audience == "customer" and job.order_id in blocked_orders:
                release(self.core.db, job)
                continue
            try:
                ok = self._deliver(job, now, prefs.get(job.customer_id) if job.customer_id else None)
            except Exception as exc:  # one broken job must not stop the batch
                log.exception("notification_send_error", job_id=job.id)
                ok = False
                self._failed(job, now, f"internal: {type(exc).__name__}", retryable=True, channel=None)
            if not ok and job.audience == "customer" and job.order_id:
                blocked_orders.add(job.order_id)
        return len(jobs)

    def due_backlog(self, now: datetime | None = None) -> int:
        """Jobs due to be sent now and not sent yet (what the `notifications.send` job still has to do)."""
        now = now or self.core.clock.now()
        with self.core.db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(jobs_t)
                    .where(
                        sa.or_(
                            sa.and_(
                                jobs_t.c.status.in_(("pending", "retry")), jobs_t.c.next_attempt_at <= now
                            ),
                            jobs_t.c.status == "sending",
                        )
                    )
                ).scalar_one()
            )

    def _contact(self, customer_id: str | None) -> dict[str, str | None]:
        """The customer's decrypted contact, once per claimed batch (a customer often has several jobs)."""
        key = customer_id or ""
        who = self._contacts.get(key)
        if who is None:
            with self.core.db.read() as conn:
                who = self._contacts[key] = contact(conn, self.core.keyring, customer_id)
        return who

    def _plan(
        self, job: Any, prefs: Preferences | None
    ) -> tuple[list[tuple[str, str | None]], dict[str, str | None], str, str | None]:
        """(channel, address) candidates in order, the contact, the language, and a reason if none."""
        available = self.channels.for_audience(job.audience)
        if job.audience == "ops":
            ops_chain = [
                (c, self.settings.ops_email if c == "email" else None) for c in job.channels if c in available
            ]
            return ops_chain[:1], {}, "ko", None if ops_chain else "no_channel"
        if job.audience == "webhook":
            return ([("webhook", None)] if available else []), {}, "ko", None if available else "no_channel"
        who = self._contact(job.customer_id)
        order = list(job.channels)
        if prefs is not None:
            order = [c for c in prefs.channels if c in job.channels] + [
                c for c in job.channels if c not in prefs.channels
            ]
        opt_out = prefs.opt_out if prefs else set()
        allowed = policy.allowed_channels(order, advertising=bool(job.advertising), opt_out=opt_out)
        lang = prefs.lang if prefs else "ko"
        if not allowed:
            return [], who, lang, "opted_out"
        chain: list[tuple[str, str | None]] = []
        for c in allowed:
            if c not in available:
                continue
            address = who.get("phone") if c in PHONE_CHANNELS else who.get("email") if c == "email" else None
            if address:
                chain.append((c, address))
        if not chain and "console" in available:
            chain.append(("console", ""))
        return chain, who, lang, None if chain else "no_channel"

    def _message(
        self, job: Any, channel: str, address: str, who: dict[str, str | None], lang: str
    ) -> OutgoingMessage:
        ctx = dict(job.context or {})
        # The tracking link is a credential: made now for this send, never stored with the job, and only
        # for the customer (and the shop's own systems), never in staff alerts.
        customer_facing = job.audience != "ops"
        ctx["link"] = self.links.issue(job.order_id) if job.order_id and customer_facing else None
        variables = variables_for(
            ctx,
            lang,
            self.core.settings.tz,
            self.settings.shop_name,
            who.get("name") if job.audience == "customer" else None,
        )
        link = ctx.get("link")
        parts = render(
            job.template,
            lang,
            variables,
            advertising=bool(job.advertising),
            opt_out_line=self.settings.ad_opt_out_line,
            link=link,
        )
        is_email = channel == "email"
        data: dict[str, Any] = {}
        if channel == "webhook":
            data = {
                "event": ctx.get("event"),
                "trigger": ctx.get("trigger"),
                "order_id": job.order_id,
                "stage": ctx.get("stage"),
                "occurred_at": ctx.get("at"),
                "tracking_url": link,
                "exception_type": ctx.get("exception_type"),
                "rule": job.rule_id,
                "subject": ctx.get("subject"),
                "data": ctx.get("data"),
            }
        elif channel in ("slack", "kakaowork"):
            data = {"kind": ctx.get("kind"), "key": ctx.get("key")}
        # 알림톡 template codes are registered per language ("delivered", "delivered_en").
        code = job.template if lang == "ko" else f"{job.template}_{lang}"
        return OutgoingMessage(
            to=address,
            text=parts["email_text"] if is_email else parts["text"],
            subject=parts["subject"],
            html=parts["html"] if is_email else None,
            template_code=code,
            variables=variables,
            advertising=bool(job.advertising),
            idempotency_key=job.idem_key,
            link=link,
            data=data,
            personal=tuple(v for v in (who.get("name"), who.get("phone"), who.get("email")) if v),
        )

    def _deliver(self, job: Any, now: datetime, prefs: Preferences | None) -> bool:
        """Send one claimed job; True when it is done (sent, suppressed, or finally failed)."""
        if job.audience == "customer":
            if job.advertising and not (prefs and prefs.ad_consent):
                finish(self.core.db, job, status="suppressed", last_error="no_ad_consent")
                self._count("none", "suppressed")
                return True
            allowed_at = policy.next_allowed(
                now,
                advertising=bool(job.advertising),
                quiet=prefs.quiet if prefs else None,
                tz=self.core.settings.tz,
            )
            if allowed_at > now:
                # Quiet hours started since the job was queued: wait, without spending an attempt.
                deadline = job.deadline_at
                if job.required and deadline is not None and deadline < allowed_at:
                    deadline = allowed_at + timedelta(minutes=self.settings.notice_deadline_minutes)
                finish(
                    self.core.db,
                    job,
                    status="pending" if not job.attempts else "retry",
                    next_attempt_at=allowed_at,
                    scheduled_at=allowed_at,
                    deadline_at=deadline,
                )
                return True
        chain, who, lang, reason = self._plan(job, prefs)
        if not chain:
            status = "suppressed" if reason == "opted_out" else "failed"
            finish(self.core.db, job, status=status, last_error=reason)
            self._count("none", status)
            return True
        attempt = job.attempts + 1
        primary, address = chain[0]
        tries = [(primary, address)]
        if primary == "kakao":
            tries += [(c, a) for c, a in chain[1:] if c == "sms"]
        errors: list[str] = []
        retryable = False
        for i, (channel, addr) in enumerate(tries):
            notifier = self.channels.for_audience(job.audience)[channel]
            result = notifier.send(self._message(job, channel, addr or "", who, lang))
            if result.ok:
                finish_sent(
                    self.core.db,
                    job,
                    self.core.settings.bus_partitions,
                    Receipt(attempt, channel, result, now),
                    status="delivered" if result.status == "delivered" else "sent",
                    attempts=attempt,
                    sent_at=now,
                    delivered_at=now if result.status == "delivered" else None,
                    channel=channel,
                    provider=result.provider,
                    provider_message_id=result.message_id,
                    recipient_masked=mask_contact(channel, addr),
                    fallback=i > 0 or bool(job.fallback),  # also: re-sent after a failed 알림톡 receipt
                    last_error=None,
                )
                log.info(
                    "notification_sent", job_id=job.id, rule=job.rule_id, channel=channel, fallback=i > 0
                )
                self._count(channel, "delivered" if result.status == "delivered" else "sent")
                if job.scheduled_at is not None:
                    latency = max(0.0, (now - job.scheduled_at).total_seconds())
                    self.core.metrics.notification_latency.labels(channel).observe(latency)
                return True
            record_receipt(self.core.db, job, attempt, channel, result, now)
            errors.append(f"{channel}: {result.error}")
            retryable = retryable or result.retryable
        self._failed(job, now, "; ".join(errors), retryable=retryable, channel=primary, attempt=attempt)
        return False

    def _count(self, channel: str, outcome: str) -> None:
        self.core.metrics.notifications.labels(channel, outcome).inc()

    def _failed(
        self,
        job: Any,
        now: datetime,
        error: str,
        *,
        retryable: bool,
        channel: str | None,
        attempt: int | None = None,
    ) -> None:
        attempt = attempt if attempt is not None else job.attempts + 1
        failure = {"attempts": attempt, "last_error": error[:500], "channel": channel}
        if retryable and attempt < self.settings.retry_budget:
            delay = backoff_delay(
                attempt,
                self.settings.retry_base_seconds,
                self.settings.retry_cap_seconds,
                jitter="equal",
                rand=self.rand.random(),
            )
            finish(
                self.core.db, job, status="retry", next_attempt_at=now + timedelta(seconds=delay), **failure
            )
            log.warning("notification_retry", job_id=job.id, attempt=attempt, delay=round(delay, 1))
            self._count(channel or "none", "retry")
            return
        finish(self.core.db, job, status="dead", dead_at=now, **failure)
        self._count(channel or "none", "dead")
        log.error("notification_dead_letter", job_id=job.id, rule=job.rule_id, attempts=attempt)
        if job.audience != "ops":
            hour = now.strftime("%Y-%m-%dT%H")
            self.ops.notify_ops(
                OpsAlert(
                    "dead_letter",
                    hour,
                    "알림 발송 실패(dead letter)",
                    f"재시도 한도를 넘은 알림이 있습니다. GET /v1/notifications/dead-letters 에서 확인 후 "
                    f"재발송하세요. (job {job.id}, rule {job.rule_id})",
                    {"job_id": job.id},
                )
            )
