"""Delivery of notifications, always from the outbox through workers (never inside a request).

1. The `notifications` consumer turns outbox messages into jobs, in the consumer's transaction, with
   the UNIQUE idempotency key (order, rule, stage): replays and second workers are no-ops.
2. The `notifications.send` job claims due jobs (FOR UPDATE SKIP LOCKED on PostgreSQL, a lease that
   expires if a worker dies), resolves the recipient at send time (decrypted, never stored), applies
   the policy (quiet hours, consent, opt-out), sends through the channel plugins with 알림톡 → SMS
   fallback, records every provider receipt, retries with exponential backoff and jitter, and
   dead-letters after the retry budget.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.channels.base import Notifier, OutgoingMessage, SendResult
from deliveryhub.adapters.channels.console import ConsoleChannel
from deliveryhub.adapters.channels.email import SmtpEmail
from deliveryhub.adapters.channels.kakao import NhnAlimtalk
from deliveryhub.adapters.channels.sms import GenericJsonSms, NhnSms
from deliveryhub.adapters.channels.webhook import WebhookSender
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.database import insert_ignore
from deliveryhub.notifications import policy
from deliveryhub.notifications.links import issue_link, revoke_in
from deliveryhub.notifications.preferences import contact, get_preferences, mask_contact
from deliveryhub.notifications.render import render, variables_for
from deliveryhub.notifications.rules import Rule, Trigger, trigger_of
from deliveryhub.notifications.settings import NotificationSettings
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.notifications.tables import notification_receipts as receipts_t
from deliveryhub.pii import dlp
from deliveryhub.service_layer.messaging import Message

log = structlog.get_logger(__name__)

TOPICS = ("order.", "shipment.", "return.", "exchange.", "claim.", "compensation.", "exception.")
FINAL = ("sent", "delivered", "failed", "dead", "suppressed")
OPEN = ("pending", "retry", "sending")
PHONE_CHANNELS = ("kakao", "sms")
KIND_ORDER = {"stage": 0, "event": 1, "exception": 2}


@dataclass
class Channels:
    """The configured channel plugins, per audience."""

    customer: dict[str, Notifier]
    ops: dict[str, Notifier]
    webhook: Notifier | None
    console: Notifier | None

    def for_audience(self, audience: str) -> dict[str, Notifier]:
        """Channel name → plugin usable for `audience`."""
        if audience == "ops":
            return self.ops
        if audience == "webhook":
            return {"webhook": self.webhook} if self.webhook else {}
        return self.customer


def build_channels(hub_settings: Any, ns: NotificationSettings) -> Channels:
    """Channel plugins from the settings (only what is configured)."""
    customer: dict[str, Notifier] = {}
    if ns.kakao_url and ns.kakao_appkey:
        customer["kakao"] = NhnAlimtalk(
            ns.kakao_url, ns.kakao_appkey, ns.kakao_secret_key, ns.kakao_sender_key
        )
    if ns.sms_url:
        if ns.sms_provider == "generic":
            customer["sms"] = GenericJsonSms(ns.sms_url, ns.sms_token)
        elif ns.sms_appkey:
            customer["sms"] = NhnSms(ns.sms_url, ns.sms_appkey, ns.sms_secret_key, ns.sms_sender_no)
        else:
            raise ValueError(
                "DELIVERYHUB_SMS_APPKEY is required for the nhn SMS provider "
                "(or set DELIVERYHUB_SMS_PROVIDER=generic)"
            )
    email = SmtpEmail(hub_settings.smtp_url, ns.mail_from) if hub_settings.smtp_url else None
    if email is not None:
        customer["email"] = email
    console_path = Path(hub_settings.data_dir) / "notifications-console.jsonl"
    console_on = ns.console_notifications
    if console_on is None:
        console_on = hub_settings.env == "dev" and not customer
    console = ConsoleChannel(console_path) if console_on else None
    if console is not None:
        customer["console"] = console
    ops: dict[str, Notifier] = {}
    if email is not None and ns.ops_email:
        ops["email"] = email
    if ns.ops_webhook_url:
        if not ns.webhook_secret:
            raise ValueError("DELIVERYHUB_WEBHOOK_SECRET is required when DELIVERYHUB_OPS_WEBHOOK_URL is set")
        ops["webhook"] = WebhookSender(ns.ops_webhook_url, ns.webhook_secret)
    # Ops alerts are never lost for lack of configuration: the console/file channel takes them.
    ops["console"] = console or ConsoleChannel(console_path)
    webhook = None
    if ns.notify_webhook_url:
        if not ns.webhook_secret:
            raise ValueError(
                "DELIVERYHUB_WEBHOOK_SECRET is required when DELIVERYHUB_NOTIFY_WEBHOOK_URL is set"
            )
        webhook = WebhookSender(ns.notify_webhook_url, ns.webhook_secret)
    return Channels(customer=customer, ops=ops, webhook=webhook, console=console)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _parse_dt(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


class Dispatcher:
    """Creates jobs from outbox messages and sends due jobs."""

    def __init__(
        self, hub: Any, rules: Sequence[Rule], channels: Channels, settings: NotificationSettings
    ) -> None:
        self.hub = hub
        self.rules = list(rules)
        self.channels = channels
        self.settings = settings
        self.rand = random.Random()

    # ------------------------------------------------------------------ jobs from the outbox
    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Consumer handler: one job per matching rule, idempotent on (order, rule, stage)."""
        now = self.hub.clock.now()
        horizon = now - timedelta(hours=self.settings.max_event_age_hours)
        found: list[tuple[datetime, int, int, Trigger]] = []
        for i, m in enumerate(messages):
            trig = trigger_of(m.topic, m.payload, m.order_id)
            if trig is None:
                continue
            at = _parse_dt(trig.at)
            if at is not None and at < horizon:
                continue  # history (an import, a back-fill): nobody is told about last month
            found.append((at or now, KIND_ORDER.get(trig.kind, 9), i, trig))
        # One ingest batch puts its events before its stage changes in the outbox; customers are told in
        # the order things happened (a stage change first when it happened at the same moment).
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        for _at, _rank, _i, trig in found:
            if trig.kind == "stage" and trig.name == "cancelled" and trig.order_id:
                # A cancelled order's tracking links die for good (links.py), in this transaction.
                revoke_in(conn, self.hub, trig.order_id, "cancelled", "system:cancel", close=True)
            for rule in self.rules:
                if rule.matches(trig):
                    self._create_job(conn, rule, trig, now)

    def _context(self, conn: Connection, rule: Rule, trig: Trigger) -> tuple[dict[str, Any], str | None]:
        order = None
        if trig.order_id:
            order = conn.execute(sa.select(t.orders).where(t.orders.c.order_id == trig.order_id)).first()
        ctx: dict[str, Any] = {
            "order_id": trig.order_id,
            "trigger": trig.kind,
            "event": trig.name,
            "at": trig.at,
        }
        ctx["stage"] = trig.name if trig.kind == "stage" else (order.stage if order is not None else None)
        if trig.order_id:
            parcels = conn.execute(
                sa.select(t.parcels)
                .where(t.parcels.c.order_id == trig.order_id)
                .order_by(t.parcels.c.shipment_id)
            ).all()
            for p in parcels:
                if p.tracking_no and "tracking_no" not in ctx:
                    ctx["carrier"], ctx["tracking_no"] = p.carrier, p.tracking_no
                if p.eta_min and p.eta_max:
                    ctx["eta_min"], ctx["eta_max"] = _iso(p.eta_min), _iso(p.eta_max)
        d = trig.data
        if trig.kind == "stage" and trig.name == "delivery_failed" and trig.order_id and not d.get("reason"):
            # The stage change carries no reason; the carrier's failed-attempt event does.
            last = (
                conn.execute(
                    sa.select(t.inbox.c.data)
                    .where(
                        t.inbox.c.order_id == trig.order_id,
                        t.inbox.c.type.in_(("shipment.delivery_failed", "shipment.tracking")),
                    )
                    .order_by(t.inbox.c.occurred_at.desc(), t.inbox.c.id.desc())
                    .limit(5)
                )
                .scalars()
                .all()
            )
            reason = next((x.get("reason") for x in last if isinstance(x, dict) and x.get("reason")), None)
            d = {**d, "reason": reason} if reason else d
        if d.get("eta_min") and d.get("eta_max"):
            ctx["eta_min"], ctx["eta_max"] = str(d["eta_min"]), str(d["eta_max"])
        if d.get("reason"):
            ctx["reason"] = dlp.mask_text(str(d["reason"]))
        if d.get("amount") is not None:
            ctx["amount"] = d.get("amount")
        if trig.name == "claim.opened":
            ctx["claim_kind"] = d.get("kind")
        if trig.name == "compensation.issued":
            ctx["compensation_kind"] = d.get("kind")
        if trig.kind == "exception":
            ctx["exception_type"] = trig.name
        return ctx, (order.customer_id if order is not None else None)

    def _create_job(self, conn: Connection, rule: Rule, trig: Trigger, now: datetime) -> None:
        available = self.channels.for_audience(rule.audience)
        if rule.audience != "customer" and not any(c in available for c in rule.channels):
            return  # nothing configured to reach ops / the shop's systems with this rule
        ctx, customer_id = self._context(conn, rule, trig)
        if rule.audience == "customer" and not trig.order_id:
            return
        status, error = "pending", None
        scheduled = now
        if rule.audience == "customer":
            prefs = get_preferences(conn, customer_id) if customer_id else None
            if rule.advertising and not (prefs and prefs.ad_consent):
                status, error = "suppressed", "no_ad_consent"
            scheduled = policy.next_allowed(
                now,
                advertising=rule.advertising,
                quiet=prefs.quiet if prefs else None,
                tz=self.hub.settings.tz,
            )
        deadline = (
            scheduled + timedelta(minutes=self.settings.notice_deadline_minutes) if rule.required else None
        )
        key = f"{trig.order_id or '-'}|{rule.id}|{rule.stage_key(trig)}"[:300]
        insert_ignore(
            conn,
            jobs_t,
            [
                {
                    "idem_key": key,
                    "order_id": trig.order_id,
                    "customer_id": customer_id,
                    "rule_id": rule.id,
                    "stage": rule.stage_key(trig)[:128],
                    "template": rule.template,
                    "audience": rule.audience,
                    "channels": list(rule.channels),
                    "advertising": rule.advertising,
                    "required": rule.required and rule.audience == "customer",
                    "delay_notice": rule.delay_notice,
                    "manual": False,
                    "context": ctx,
                    "status": status,
                    "attempts": 0,
                    "trigger_at": _parse_dt(trig.at),
                    "created_at": now,
                    "scheduled_at": scheduled,
                    "next_attempt_at": scheduled,
                    "deadline_at": deadline,
                    "last_error": error,
                    "fallback": False,
                }
            ],
            ["idem_key"],
        )

    # ------------------------------------------------------------------ ops alerts
    def notify_ops(
        self,
        kind: str,
        key: str,
        subject: str,
        body: str,
        data: dict[str, Any] | None = None,
        *,
        conn: Connection | None = None,
    ) -> None:
        """Queue ONE ops alert per (kind, key); pass `conn` when already inside a write transaction."""
        now = self.hub.clock.now()
        row = {
            "idem_key": f"ops|{kind}|{key}"[:300],
            "order_id": (data or {}).get("order_id"),
            "customer_id": None,
            "rule_id": f"ops:{kind}"[:64],
            "stage": str(key)[:128],
            "template": "ops_alert",
            "audience": "ops",
            "channels": ["email", "webhook", "console"],
            "advertising": False,
            "required": False,
            "delay_notice": False,
            "manual": False,
            "context": {
                "subject": dlp.mask_text(subject),
                "body": dlp.mask_text(body),
                "data": data or {},
                "kind": kind,
                "key": key,
            },
            "status": "pending",
            "attempts": 0,
            "trigger_at": now,
            "created_at": now,
            "scheduled_at": now,
            "next_attempt_at": now,
            "deadline_at": None,
            "last_error": None,
            "fallback": False,
        }
        if conn is not None:
            insert_ignore(conn, jobs_t, [row], ["idem_key"])
            return
        with self.hub.db.write() as c:
            insert_ignore(c, jobs_t, [row], ["idem_key"])

    # ------------------------------------------------------------------ sending
    def _claim(self, now: datetime) -> list[Any]:
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        with self.hub.db.write() as conn:
            due = sa.or_(
                sa.and_(jobs_t.c.status.in_(("pending", "retry")), jobs_t.c.next_attempt_at <= now),
                sa.and_(jobs_t.c.status == "sending", jobs_t.c.lease_until < now),  # a worker died mid-send
            )
            q = sa.select(jobs_t).where(due).order_by(jobs_t.c.id).limit(self.settings.send_batch)
            if conn.dialect.name == "postgresql":
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
        now = now or self.hub.clock.now()
        jobs = self._claim(now)
        blocked_orders: set[str] = set()
        for job in jobs:
            if job.audience == "customer" and job.order_id in blocked_orders:
                self._release(job)
                continue
            try:
                ok = self._deliver(job, now)
            except Exception as exc:  # one broken job must not stop the batch
                log.exception("notification_send_error", job_id=job.id)
                ok = False
                self._failed(job, now, f"internal: {type(exc).__name__}", retryable=True, channel=None)
            if not ok and job.audience == "customer" and job.order_id:
                blocked_orders.add(job.order_id)
        return len(jobs)

    def due_backlog(self, now: datetime | None = None) -> int:
        """Jobs due to be sent now and not sent yet (what the `notifications.send` job still has to do)."""
        now = now or self.hub.clock.now()
        with self.hub.db.read() as conn:
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

    def _release(self, job: Any) -> None:
        with self.hub.db.write() as conn:
            conn.execute(
                jobs_t.update()
                .where(jobs_t.c.id == job.id, jobs_t.c.status == "sending")
                .values(status="retry" if job.attempts else "pending", lease_until=None)
            )

    def _finish(self, job: Any, **values: Any) -> None:
        with self.hub.db.write() as conn:
            conn.execute(jobs_t.update().where(jobs_t.c.id == job.id).values(lease_until=None, **values))

    def _receipt(self, job: Any, attempt: int, channel: str, result: SendResult, now: datetime) -> None:
        with self.hub.db.write() as conn:
            conn.execute(
                receipts_t.insert().values(
                    job_id=job.id,
                    attempt=attempt,
                    channel=channel,
                    provider=result.provider,
                    status=result.status,
                    provider_message_id=result.message_id,
                    error=result.error,
                    at=now,
                )
            )

    def _plan(self, job: Any) -> tuple[list[tuple[str, str | None]], dict[str, str | None], str, str | None]:
        """(channel, address) candidates in order, the contact, the language, and a reason if none."""
        available = self.channels.for_audience(job.audience)
        if job.audience == "ops":
            ops_chain = [
                (c, self.settings.ops_email if c == "email" else None) for c in job.channels if c in available
            ]
            return ops_chain[:1], {}, "ko", None if ops_chain else "no_channel"
        if job.audience == "webhook":
            return ([("webhook", None)] if available else []), {}, "ko", None if available else "no_channel"
        with self.hub.db.read() as conn:
            prefs = get_preferences(conn, job.customer_id) if job.customer_id else None
            who = contact(conn, self.hub.keyring, job.customer_id)
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
        ctx["link"] = issue_link(self.hub, job.order_id) if job.order_id and customer_facing else None
        variables = variables_for(
            ctx,
            lang,
            self.hub.settings.tz,
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

    def _deliver(self, job: Any, now: datetime) -> bool:
        """Send one claimed job; True when it is done (sent, suppressed, or finally failed)."""
        if job.audience == "customer":
            with self.hub.db.read() as conn:
                prefs = get_preferences(conn, job.customer_id) if job.customer_id else None
            if job.advertising and not (prefs and prefs.ad_consent):
                self._finish(job, status="suppressed", last_error="no_ad_consent")
                return True
            allowed_at = policy.next_allowed(
                now,
                advertising=bool(job.advertising),
                quiet=prefs.quiet if prefs else None,
                tz=self.hub.settings.tz,
            )
            if allowed_at > now:
                # Quiet hours started since the job was queued: wait, without spending an attempt.
                deadline = job.deadline_at
                if job.required and deadline is not None and deadline < allowed_at:
                    deadline = allowed_at + timedelta(minutes=self.settings.notice_deadline_minutes)
                self._finish(
                    job,
                    status="pending" if not job.attempts else "retry",
                    next_attempt_at=allowed_at,
                    scheduled_at=allowed_at,
                    deadline_at=deadline,
                )
                return True
        chain, who, lang, reason = self._plan(job)
        if not chain:
            status = "suppressed" if reason == "opted_out" else "failed"
            self._finish(job, status=status, last_error=reason)
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
            self._receipt(job, attempt, channel, result, now)
            if result.ok:
                self._finish(
                    job,
                    status="delivered" if result.status == "delivered" else "sent",
                    attempts=attempt,
                    sent_at=now,
                    delivered_at=now if result.status == "delivered" else None,
                    channel=channel,
                    provider=result.provider,
                    provider_message_id=result.message_id,
                    recipient_masked=mask_contact(channel, addr),
                    fallback=i > 0,
                    last_error=None,
                )
                log.info(
                    "notification_sent", job_id=job.id, rule=job.rule_id, channel=channel, fallback=i > 0
                )
                return True
            errors.append(f"{channel}: {result.error}")
            retryable = retryable or result.retryable
        self._failed(job, now, "; ".join(errors), retryable=retryable, channel=primary, attempt=attempt)
        return False

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
        if retryable and attempt < self.settings.retry_budget:
            delay = policy.backoff_seconds(
                attempt, self.settings.retry_base_seconds, self.settings.retry_cap_seconds, self.rand.random()
            )
            self._finish(
                job,
                status="retry",
                attempts=attempt,
                last_error=error[:500],
                channel=channel,
                next_attempt_at=now + timedelta(seconds=delay),
            )
            log.warning("notification_retry", job_id=job.id, attempt=attempt, delay=round(delay, 1))
            return
        self._finish(
            job, status="dead", attempts=attempt, last_error=error[:500], channel=channel, dead_at=now
        )
        log.error("notification_dead_letter", job_id=job.id, rule=job.rule_id, attempts=attempt)
        if job.audience != "ops":
            hour = now.strftime("%Y-%m-%dT%H")
            self.notify_ops(
                "dead_letter",
                hour,
                "알림 발송 실패(dead letter)",
                f"재시도 한도를 넘은 알림이 있습니다. GET /v1/notifications/dead-letters 에서 확인 후 "
                f"재발송하세요. (job {job.id}, rule {job.rule_id})",
                {"job_id": job.id},
            )

    # ------------------------------------------------------------------ delivery receipts
    def poll_receipts(self, now: datetime | None = None) -> int:
        """Job `notifications.receipts`: ask the 알림톡 provider for the final receipt of sent messages."""
        now = now or self.hub.clock.now()
        kakao = self.channels.customer.get("kakao")
        query = getattr(kakao, "delivery_status", None)
        if query is None:
            return 0
        with self.hub.db.read() as conn:
            rows = conn.execute(
                sa.select(jobs_t)
                .where(
                    jobs_t.c.status == "sent",
                    jobs_t.c.channel == "kakao",
                    jobs_t.c.provider_message_id.is_not(None),
                    jobs_t.c.sent_at > now - timedelta(hours=24),
                )
                .order_by(jobs_t.c.id)
                .limit(self.settings.send_batch)
            ).all()
        done = 0
        for job in rows:
            status = query(job.provider_message_id)
            if status is None:
                continue
            result = SendResult(
                ok=status == "delivered",
                provider="nhn-alimtalk",
                status=status,
                message_id=job.provider_message_id,
                error=None if status == "delivered" else "provider reported failure",
            )
            self._receipt(job, job.attempts, "kakao", result, now)
            # A provider-side failure after acceptance stays visible as `failed` (counts as not delivered).
            self._finish(
                job,
                status=status,
                delivered_at=now if status == "delivered" else None,
                last_error=result.error,
            )
            done += 1
        return done

    # ------------------------------------------------------------------ notice-missing monitor
    def check_missing(self, now: datetime | None = None) -> int:
        """Job `notifications.notice_missing`: flag required notices not sent before their deadline."""
        from deliveryhub.notifications.tables import notice_missing as missing_t

        now = now or self.hub.clock.now()
        flagged: list[dict[str, Any]] = []
        with self.hub.db.write() as conn:
            late = sa.or_(
                jobs_t.c.status.notin_(("sent", "delivered", "suppressed")),
                jobs_t.c.sent_at > jobs_t.c.deadline_at,
            )
            rows = conn.execute(
                sa.select(
                    jobs_t.c.id, jobs_t.c.order_id, jobs_t.c.stage, jobs_t.c.deadline_at, jobs_t.c.status
                )
                .where(
                    jobs_t.c.required.is_(True),
                    jobs_t.c.deadline_at < now,
                    late,
                    jobs_t.c.id.notin_(sa.select(missing_t.c.job_id)),
                )
                .order_by(jobs_t.c.id)
                .limit(1000)
            ).all()
            for r in rows:
                flagged.append(
                    {
                        "job_id": r.id,
                        "order_id": r.order_id,
                        "stage": r.stage,
                        "deadline_at": r.deadline_at,
                        "detected_at": now,
                        "status": "open",
                    }
                )
            insert_ignore(conn, missing_t, flagged, ["job_id"])
            # A late notice that finally went out resolves its finding (the miss still counts in KPIs).
            conn.execute(
                missing_t.update()
                .where(
                    missing_t.c.status == "open",
                    missing_t.c.job_id.in_(
                        sa.select(jobs_t.c.id).where(jobs_t.c.status.in_(("sent", "delivered")))
                    ),
                )
                .values(status="resolved", resolved_at=now)
            )
        opener = self.hub.services.get("open_exception")
        for f in flagged:
            if opener is None:
                break
            try:
                opener(
                    exception_type="notice_missing",
                    order_id=f["order_id"],
                    key=f"notice_missing:{f['job_id']}",
                    evidence={
                        "stage": f["stage"],
                        "deadline_at": f["deadline_at"].isoformat(),
                        "job_id": f["job_id"],
                    },
                )
            except Exception:  # the finding is kept in notice_missing either way
                log.exception("notice_missing_exception_failed", job_id=f["job_id"])
        return len(flagged)
