"""The demo's believable past: the customer notices the shop's notifier sent for the back-filled history,
at the times it would have sent them (a minute or two after each stage change, a delay notice on the
afternoon of the promised date of an order still on its way), as `x-notification.sent` events from the
CRM. The hub never notifies history it learns of late; without these the past would read as "nobody was
told". Deterministic for a seed: a resumed demo writes the same events (idempotent ids)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES
from deliveryhub.simulator.model import ShopConfig, stamp
from deliveryhub.simulator.shop import KST

# The template the shop's notifier used for each stage (the hub's default rules use the same names).
TEMPLATES = {
    "received": "order_received",
    "waybill_created": "waybill_created",
    "handed_over": "handed_over",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "delivery_failed": "delivery_failed",
    "cancelled": "order_cancelled",
}
DELAY_NOTICE_AT = time(14, 0)  # the afternoon the parcel is not out for delivery on its promised date


def _notice(order_id: str, key: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"notice:{order_id}:{key}",
        "source": "crm",
        "type": "x-notification.sent",
        "occurred_at": stamp(at),
        "order_id": order_id,
        "data": {"automatic": True, **data},
    }


def _channel(rng: random.Random, failed: bool) -> dict[str, Any]:
    """알림톡 first; a few customers without KakaoTalk get an SMS; a failure stays failed."""
    channel = "kakao" if rng.random() < 0.92 else "sms"
    return {"channel": channel, "status": "failed" if failed else "delivered"}


def history_notices(
    conn: Connection, window: tuple[datetime | None, datetime], seed: int, config: ShopConfig | None = None
) -> Iterator[dict[str, Any]]:
    """The notices of every customer-facing stage change in `window` = [since, until), and the delay
    notices of the orders late by then; a share `notice_failure_rate` failed (알림 누락), a share
    `delay_unnotified_rate` of late orders were never warned. `since` (None: from the start) is where a
    resumed demo's back-fill started (the hub told what came before live)."""
    since, until = window
    cfg = config or ShopConfig()
    stages = conn.execute(
        sa.select(t.order_stages.c.order_id, t.order_stages.c.stage, t.order_stages.c.occurred_at)
        .where(
            t.order_stages.c.stage.in_(sorted(CUSTOMER_FACING_STAGES)),
            t.order_stages.c.occurred_at < until,
            *([t.order_stages.c.occurred_at >= since] if since is not None else []),
        )
        .order_by(t.order_stages.c.occurred_at)
    ).all()
    for oid, stage, at in stages:
        rng = random.Random(f"{seed}:{oid}:{stage}")
        sent = at + timedelta(seconds=rng.uniform(15, 150))
        if sent >= until or stage not in TEMPLATES:
            continue
        failed = rng.random() < cfg.notice_failure_rate
        yield _notice(
            oid, stage, sent, {"stage": stage, "template": TEMPLATES[stage], **_channel(rng, failed)}
        )
    late = conn.execute(
        sa.select(t.orders.c.order_id, t.orders.c.promised_date, t.orders.c.delivered_at).where(
            t.orders.c.promised_date.is_not(None),
            t.orders.c.cancelled_at.is_(None),
            t.orders.c.created_at < until,
        )
    ).all()
    for oid, promised, delivered in late:
        moment = datetime.combine(promised, DELAY_NOTICE_AT, KST)
        if moment >= until or (since is not None and moment < since):
            continue
        if delivered is not None and delivered <= moment:
            continue
        if delivered is not None and delivered.astimezone(KST).date() <= promised:
            continue  # delivered that evening: on time after all, nobody was warned
        rng = random.Random(f"{seed}:{oid}:delay")
        if rng.random() < cfg.delay_unnotified_rate:
            continue
        sent = moment + timedelta(minutes=rng.uniform(1, 20))
        yield _notice(
            oid, "delay", sent, {"kind": "delay", "template": "delivery_delayed", **_channel(rng, False)}
        )
