"""The automation service: the `monitors` consumer (arms/cancels timers, opens/resolves exceptions on
events), the `timers` job (fires due timers once), sweeps (`run_all_monitors`), ETA revisions,
orchestration steps and compensation issuing."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES, STAGE_RANK
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors import eta as eta_mod
from deliveryhub.monitors import rules
from deliveryhub.monitors import timers as tm
from deliveryhub.monitors.config import EXCEPTION_TYPES, AutomationConfig
from deliveryhub.monitors.ledger import lock_stock, stock_keys
from deliveryhub.monitors.orchestration import HttpPorts, PortResult, tms_events, wms_events
from deliveryhub.monitors.tables import compensations, exceptions, oms_updates, stock, timers
from deliveryhub.service_layer.ingest import partition_of
from deliveryhub.service_layer.messaging import Message
from deliveryhub.service_layer.scheduler import stop_requested

log = structlog.get_logger(__name__)

LABELS: dict[str, tuple[str, str]] = {
    "stock_shortage": ("재고 부족", "Stock shortage"),
    "inventory_mismatch": ("재고 불일치", "Inventory mismatch"),
    "dispatch_delay": ("출고 지연", "Dispatch delay"),
    "waybill_missing": ("송장 미발행", "Waybill missing"),
    "handover_missing": ("택배사 미집하", "Handover missing (forgotten parcel)"),
    "tracking_stale": ("배송 추적 정체", "Tracking stale"),
    "delay_risk": ("배송 지연 예상", "Delay risk"),
    "delivery_delay": ("배송 지연", "Delivery delay"),
    "delivery_failed": ("배송 실패", "Delivery failed"),
    "pick_error": ("피킹 오류", "Pick error"),
    "duplicate_order": ("중복 주문 의심", "Duplicate order"),
    "notice_missing": ("고객 안내 누락", "Notice missing"),
}
assert set(LABELS) == set(EXCEPTION_TYPES)

# Timer kinds evaluated by a rule inside the firing transaction.
RULE_TIMERS: dict[str, str] = {
    "dispatch_pack": "dispatch_delay",
    "dispatch_ship": "dispatch_delay",
    "waybill_missing": "waybill_missing",
    "handover_missing": "handover_missing",
    "tracking_stale": "tracking_stale",
    "delivery_delay": "delivery_delay",
}
ORDER_TIMER_KINDS = (*RULE_TIMERS, "eta", "notice_missing", "wms_reserve", "tms_waybill")
TOPICS = ("order.", "inventory.", "fulfillment.", "shipment.", "claim.", "notification.")


@dataclass
class Outcome:
    """What an out-of-transaction timer handler wants done with its timer."""

    result: str
    retry_at: datetime | None = None
    failed: rules.Finding | None = None
    counts_attempt: bool = True  # False: only waiting for something else, not a failed try


InTxHandler = Callable[[Connection, Row[Any], datetime], str]
ExternalHandler = Callable[[Row[Any], datetime], Outcome]


def _iso(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def _dt(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    if isinstance(v, str):
        try:
            return datetime.fromisoformat(v)
        except ValueError:
            return None
    return None


def _insert_returning_id(conn: Connection, table: sa.Table, values: dict[str, Any]) -> int | None:
    """Insert unless a unique constraint/index says it exists; the new id or None."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing()  # type: ignore[assignment]
    row = conn.execute(stmt.returning(table.c.id)).first()
    return int(row[0]) if row else None


_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
# Built once: coercing a fresh IN list per call costs more than the query on SQLite.
_ORDERS_Q = sa.select(t.orders).where(t.orders.c.order_id.in_(_IDS))
_STAGES_Q = sa.select(t.order_stages).where(t.order_stages.c.order_id.in_(_IDS))
_PARCELS_Q = sa.select(t.parcels).where(t.parcels.c.order_id.in_(_IDS)).order_by(t.parcels.c.shipment_id)


def load_facts(conn: Connection, order_ids: Sequence[str]) -> dict[str, rules.OrderFacts]:
    """Read models → OrderFacts for the given orders."""
    out: dict[str, rules.OrderFacts] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for r in conn.execute(_ORDERS_Q, {"ids": chunk}):
            out[r.order_id] = rules.OrderFacts(
                order_id=r.order_id,
                stage=r.stage,
                stage_rank=r.stage_rank,
                side_state=r.side_state,
                channel=r.channel,
                warehouse=r.warehouse,
                region=r.region,
                promised_date=r.promised_date,
                created_at=r.created_at,
                paid_at=r.paid_at,
                cancelled_at=r.cancelled_at,
                delivered_at=r.delivered_at,
            )
        for r in conn.execute(_STAGES_Q, {"ids": chunk}):
            if r.order_id in out:
                out[r.order_id].stages[r.stage] = r.occurred_at
        for r in conn.execute(_PARCELS_Q, {"ids": chunk}):
            if r.order_id in out:
                out[r.order_id].parcels.append(
                    rules.ParcelFacts(
                        shipment_id=r.shipment_id,
                        carrier=r.carrier,
                        tracking_no=r.tracking_no,
                        status=r.status,
                        status_at=r.status_at,
                        handed_over_at=r.handed_over_at,
                        delivered_at=r.delivered_at,
                        last_event_at=r.last_event_at,
                        eta_min=r.eta_min,
                        eta_max=r.eta_max,
                    )
                )
    return out


def exception_dict(row: Any, lang: str = "ko") -> dict[str, Any]:
    """JSON shape of an exception record."""
    ko, en = LABELS.get(row.type, (row.type, row.type))
    return {
        "id": row.id,
        "type": row.type,
        "label": en if lang == "en" else ko,
        "order_id": row.order_id,
        "shipment_id": row.shipment_id,
        "carrier": row.carrier,
        "warehouse": row.warehouse,
        "channel": row.channel,
        "status": row.status,
        "evidence": row.evidence,
        "threshold": row.threshold,
        "due_at": _iso(row.due_at),
        "opened_at": _iso(row.opened_at),
        "acknowledged_at": _iso(row.acknowledged_at),
        "resolved_at": _iso(row.resolved_at),
        "resolution": row.resolution,
        "assignee": row.assignee,
    }


class MonitorService:
    """Everything the automation feature does, bound to one hub and one config."""

    def __init__(self, hub: Any, cfg: AutomationConfig) -> None:
        self.hub = hub
        self.cfg = cfg
        self.cal = cfg.calendar()
        self.worker = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(minutes=5)
        self.ports = HttpPorts(cfg.orchestration)
        self.wms: Any = self.ports
        self.tms: Any = self.ports
        self.oms: Any = self.ports
        self._local = threading.local()
        self._model: eta_mod.TransitModel | None = None
        self._model_at: datetime | None = None
        self._model_lock = threading.Lock()
        self.in_tx: dict[str, InTxHandler] = {kind: self._fire_rule for kind in RULE_TIMERS}
        self.in_tx["notice_missing"] = self._fire_notice
        self.external: dict[str, ExternalHandler] = {
            "eta": self._fire_eta,
            "wms_reserve": self._fire_wms,
            "tms_waybill": self._fire_tms,
            "compensation": self._fire_compensation,
            "oms_update": self._fire_oms,
        }

    # ================================================================ helpers
    @property
    def now(self) -> datetime:
        """The hub's time."""
        return self.hub.clock.now()  # type: ignore[no-any-return]

    def th(
        self, type_: str, facts: rules.OrderFacts | None = None, carrier: str | None = None
    ) -> dict[str, Any]:
        """Thresholds of a monitor for an order."""
        if facts is None:
            return self.cfg.thresholds(type_, carrier=carrier)
        return self.cfg.thresholds(
            type_, carrier=carrier or facts.carrier, warehouse=facts.warehouse, channel=facts.channel
        )

    def _alerts(self) -> list[dict[str, Any]]:
        if not hasattr(self._local, "alerts"):
            self._local.alerts = []
        return self._local.alerts  # type: ignore[no-any-return]

    def send_alerts(self) -> None:
        """Tell ops about newly opened exceptions (after their transaction committed)."""
        alerts, self._local.alerts = self._alerts(), []
        notify = self.hub.services.get("notify_ops")
        if notify is None:
            return
        for a in alerts:
            try:
                notify(a["kind"], a["key"], a["subject"], a["body"], a["data"])
            except Exception:  # an alert channel failing must not undo the detection
                log.exception("notify_ops_failed", key=a["key"])

    # ================================================================ exception records
    def open_exception(
        self, conn: Connection, f: rules.Finding, facts: rules.OrderFacts | None, now: datetime
    ) -> int | None:
        """Open an exception unless one of that type is already active for the subject; the new id or None."""
        th = self.th(f.type, facts, carrier=(f.evidence.get("carrier") if facts is None else None))
        if not th.get("enabled", True):
            return None
        carrier = facts.carrier if facts is not None else f.evidence.get("carrier")
        new_id = _insert_returning_id(
            conn,
            exceptions,
            {
                "type": f.type,
                "subject": f.key,
                "order_id": f.order_id,
                "shipment_id": f.shipment_id,
                "carrier": carrier,
                "warehouse": (facts.warehouse if facts else f.evidence.get("warehouse")),
                "channel": facts.channel if facts else None,
                "status": "open",
                "evidence": f.evidence,
                "threshold": f.threshold or None,
                "due_at": f.due_at,
                "opened_at": now,
                "updated_at": now,
            },
        )
        if new_id is None:
            return None
        active = getattr(self._local, "active", None)
        if active is not None and f.key in active:
            active[f.key].add(f.type)
        payload = {
            "exception_id": new_id,
            "type": f.type,
            "order_id": f.order_id,
            "evidence": f.evidence,
            "opened_at": now.isoformat(),
            # occurred_at/source: every outbox consumer (e.g. integration health) may read them.
            "occurred_at": now.isoformat(),
            "source": "monitors",
            "shipment_id": f.shipment_id,
            "carrier": carrier,
        }
        conn.execute(
            t.outbox.insert().values(
                topic="exception.opened",
                order_id=f.order_id,
                partition=partition_of(f.order_id, self._partitions()),
                payload=payload,
                created_at=now,
            )
        )
        ko, en = LABELS[f.type]
        subject = f"[배송 예외] {ko} — {f.order_id or f.key} / [Exception] {en}"
        self._alerts().append(
            {
                "kind": "exception",
                "key": f"exception:{new_id}",
                "subject": subject,
                "body": f"{ko}: {f.order_id or f.key}\n{en}: {f.evidence}",
                "data": payload,
            }
        )
        return new_id

    def _partitions(self) -> int:
        return int(getattr(self.hub.settings, "bus_partitions", 16))

    def resolve(
        self,
        conn: Connection,
        subject: str,
        types: Sequence[str],
        now: datetime,
        resolution: str,
        note: dict[str, Any] | None = None,
    ) -> list[int]:
        """Resolve the active exceptions of these types for a subject (the awaited event arrived)."""
        active = getattr(self._local, "active", None)
        if active is not None and subject in active and not active[subject].intersection(types):
            return []
        rows = conn.execute(
            sa.select(exceptions.c.id, exceptions.c.type, exceptions.c.order_id, exceptions.c.evidence).where(
                exceptions.c.subject == subject,
                exceptions.c.type.in_(list(types)),
                exceptions.c.status != "resolved",
            )
        ).all()
        for r in rows:
            evidence = dict(r.evidence or {})
            if note:
                evidence["resolved_by_event"] = note
            conn.execute(
                exceptions.update()
                .where(exceptions.c.id == r.id, exceptions.c.status != "resolved")
                .values(
                    status="resolved",
                    resolved_at=now,
                    resolution=resolution[:200],
                    evidence=evidence,
                    updated_at=now,
                )
            )
            conn.execute(
                t.outbox.insert().values(
                    topic="exception.resolved",
                    order_id=r.order_id,
                    partition=partition_of(r.order_id, self._partitions()),
                    payload={
                        "exception_id": r.id,
                        "type": r.type,
                        "order_id": r.order_id,
                        "resolution": resolution,
                        "resolved_at": now.isoformat(),
                        "occurred_at": now.isoformat(),
                        "source": "monitors",
                    },
                    created_at=now,
                )
            )
        return [r.id for r in rows]

    # ================================================================ the consumer
    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Consumer `monitors`: react to each canonical event in the consumer's transaction."""
        self._local.alerts = []  # a retried batch starts again
        now = self.now
        # The read models are written by ingest, never by this consumer: one read serves the whole batch.
        ids = sorted({m.order_id for m in messages if m.order_id})
        batch_facts = load_facts(conn, ids) if ids else {}
        lock_stock(conn, stock_keys(messages, batch_facts))  # before any stock write, in key order
        # Most events resolve nothing: know the batch's active exceptions up front instead of asking
        # the database once per event.
        self._local.active = self._active_for(conn, ids)
        pending_token = tm.begin_batch(conn, ids)
        try:
            for m in messages:
                try:
                    self._on_message(conn, m, now, batch_facts)
                except Exception:
                    log.exception("monitors_message_failed", topic=m.topic, message_id=m.id)
                    raise
        finally:
            self._local.active = None
            tm.end_batch(pending_token)

    def _active_for(self, conn: Connection, order_ids: Sequence[str]) -> dict[str, set[str]]:
        active: dict[str, set[str]] = {oid: set() for oid in order_ids}
        for start in range(0, len(order_ids), 500):
            for r in conn.execute(
                sa.select(exceptions.c.subject, exceptions.c.type).where(
                    exceptions.c.subject.in_(list(order_ids[start : start + 500])),
                    exceptions.c.status != "resolved",
                )
            ):
                active.setdefault(r.subject, set()).add(r.type)
        return active

    def after_commit(self, _messages: Sequence[Message]) -> None:
        """Consumer hook: alerts go out only once their exceptions are committed."""
        self.send_alerts()

    def _on_message(
        self,
        conn: Connection,
        m: Message,
        now: datetime,
        batch_facts: dict[str, rules.OrderFacts] | None = None,
    ) -> None:
        p = m.payload
        topic, oid = m.topic, m.order_id
        data = p.get("data") or {}
        at = _dt(p.get("occurred_at")) or now
        sid = str(p.get("shipment_id") or oid or "")
        if topic == "order.stage_changed":
            self._on_stage_changed(conn, p, now)
            return
        if topic.startswith("notification."):
            self._on_notification(conn, p, now)
            return
        if topic == "inventory.snapshot":
            self._on_snapshot(conn, data, at, now)
            return
        if not oid:
            return
        facts = batch_facts.get(oid) if batch_facts is not None else load_facts(conn, [oid]).get(oid)
        if facts is None:
            return
        event_note = {"type": topic, "event_id": p.get("event_id"), "occurred_at": p.get("occurred_at")}
        if topic == "order.created":
            self._on_created(conn, facts, data, at, now)
        elif topic == "order.paid":
            self._on_paid(conn, facts, now)
        elif topic == "order.cancelled":
            tm.cancel(conn, kinds=ORDER_TIMER_KINDS, order_id=oid, now=now, reason="order cancelled")
            self.resolve(conn, oid, EXCEPTION_TYPES, now, "auto:order.cancelled", event_note)
        elif topic == "inventory.reserved":
            self.resolve(conn, oid, ["stock_shortage"], now, "auto:inventory.reserved", event_note)
            self._ledger_reserve(conn, facts.warehouse or data.get("warehouse"), data.get("items") or [])
        elif topic == "inventory.shortage":
            self.open_exception(
                conn,
                rules.Finding(
                    "stock_shortage",
                    oid,
                    {
                        "sku": data.get("sku"),
                        "requested": data.get("requested"),
                        "available": data.get("available"),
                        "warehouse": facts.warehouse,
                        "event_id": p.get("event_id"),
                    },
                ),
                facts,
                now,
            )
        elif topic == "fulfillment.pick_error":
            self.open_exception(
                conn,
                rules.Finding(
                    "pick_error",
                    oid,
                    {
                        "expected_sku": data.get("expected_sku"),
                        "scanned_sku": data.get("scanned_sku"),
                        "event_id": p.get("event_id"),
                    },
                ),
                facts,
                now,
            )
        elif topic == "fulfillment.packed":
            self._on_packed(conn, facts, at, now, event_note)
        elif topic == "shipment.waybill_created":
            tm.cancel(
                conn,
                kinds=["waybill_missing", "dispatch_pack", "dispatch_ship", "tms_waybill"],
                order_id=oid,
                now=now,
            )
            self.resolve(
                conn,
                oid,
                ["waybill_missing", "dispatch_delay"],
                now,
                "auto:shipment.waybill_created",
                event_note,
            )
            parcel = next((x for x in facts.parcels if x.shipment_id == sid), None)
            if parcel is not None and parcel.handed_over_at is None and parcel.delivered_at is None:
                tm.arm(
                    conn,
                    "handover_missing",
                    f"{oid}|{sid}",
                    rules.handover_deadline(at, self.th("handover_missing", facts, parcel.carrier)),
                    now,
                    order_id=oid,
                    keep_earlier=True,
                )
        elif topic in ("shipment.handed_over", "shipment.tracking"):
            self._on_scan(conn, facts, sid, data, p, now, event_note)
        elif topic == "shipment.delivered":
            self._on_delivered(conn, facts, sid, now, event_note)
        elif topic == "shipment.delivery_failed":
            self.open_exception(
                conn,
                rules.Finding(
                    "delivery_failed",
                    oid,
                    {
                        "status": "attempt_fail",
                        "reason": data.get("reason"),
                        "shipment_id": sid,
                        "occurred_at": p.get("occurred_at"),
                    },
                    shipment_id=sid,
                ),
                facts,
                now,
            )
        elif topic == "shipment.eta_updated":
            if p.get("source") != "tms":
                hint = {"eta_min": data.get("eta_min"), "eta_max": data.get("eta_max")}
                tm.arm(
                    conn,
                    "eta",
                    f"{oid}|{sid}",
                    now,
                    now,
                    order_id=oid,
                    payload={"shipment_id": sid, "trigger": p.get("event_id"), "hint": hint},
                )
            self._check_delay_risk(conn, facts, now)
        elif topic == "claim.opened":
            self._propose(
                conn, oid, now, trigger="claim", claim_kind=data.get("kind"), claim_amount=data.get("amount")
            )

    def _on_created(
        self, conn: Connection, facts: rules.OrderFacts, data: dict[str, Any], at: datetime, now: datetime
    ) -> None:
        oid = facts.order_id
        if facts.promised_date is not None:
            due = rules.promise_deadline(facts.promised_date, self.th("delivery_delay", facts), self.cal)
            tm.arm(conn, "delivery_delay", oid, due, now, order_id=oid)
        self._check_duplicate(conn, facts, data, at, now)

    def _on_paid(self, conn: Connection, facts: rules.OrderFacts, now: datetime) -> None:
        oid = facts.order_id
        if facts.paid_at is None or facts.closed:
            return
        if not facts.reached("picked_packed"):
            due = rules.pack_deadline(facts.paid_at, self.th("dispatch_delay", facts), self.cal)
            tm.arm(conn, "dispatch_pack", oid, due, now, order_id=oid)
        if not facts.reached("waybill_created"):
            tm.arm(
                conn, "dispatch_ship", oid, rules.ship_deadline(facts.paid_at, self.cal), now, order_id=oid
            )
        if self.ports.has_wms(facts.channel) and not facts.reached("stock_confirmed"):
            tm.arm(conn, "wms_reserve", oid, now, now, order_id=oid, payload={"shop": facts.channel})

    def _on_packed(
        self, conn: Connection, facts: rules.OrderFacts, at: datetime, now: datetime, note: dict[str, Any]
    ) -> None:
        oid = facts.order_id
        tm.cancel(conn, kinds=["dispatch_pack"], order_id=oid, now=now)
        self.resolve(conn, oid, ["pick_error"], now, "auto:fulfillment.packed", note)
        if facts.reached("waybill_created") or facts.closed:
            return
        packed_at = facts.stages.get("picked_packed") or at
        tm.arm(
            conn,
            "waybill_missing",
            oid,
            rules.waybill_deadline(packed_at, self.th("waybill_missing", facts)),
            now,
            order_id=oid,
        )
        if self.ports.has_tms(facts.channel):
            tm.arm(conn, "tms_waybill", oid, now, now, order_id=oid, payload={"shop": facts.channel})

    def _on_scan(
        self,
        conn: Connection,
        facts: rules.OrderFacts,
        sid: str,
        data: dict[str, Any],
        p: dict[str, Any],
        now: datetime,
        note: dict[str, Any],
    ) -> None:
        oid = facts.order_id
        status = data.get("status")
        if status in rules.FAILED_STATUSES:
            self.open_exception(
                conn,
                rules.Finding(
                    "delivery_failed",
                    oid,
                    {
                        "status": status,
                        "reason": data.get("reason"),
                        "raw_status": data.get("raw_status"),
                        "shipment_id": sid,
                        "occurred_at": p.get("occurred_at"),
                    },
                    shipment_id=sid,
                ),
                facts,
                now,
            )
        if status == "delivered":
            self._on_delivered(conn, facts, sid, now, note)
            return
        if status in (None, "pending", "info_received") and p.get("type") == "shipment.tracking":
            return  # not a carrier scan of the parcel itself
        # Any carrier scan proves the handover and refreshes tracking.
        tm.cancel(conn, kinds=["handover_missing"], subject=f"{oid}|{sid}", now=now)
        tm.cancel(conn, kinds=["dispatch_pack", "dispatch_ship", "waybill_missing"], order_id=oid, now=now)
        self.resolve(
            conn,
            oid,
            ["handover_missing", "tracking_stale", "dispatch_delay", "waybill_missing"],
            now,
            f"auto:{p.get('type')}",
            note,
        )
        parcel = next((x for x in facts.parcels if x.shipment_id == sid), None)
        if parcel is None or parcel.delivered_at is not None:
            return
        if status not in rules.FAILED_STATUSES and status != "available_for_pickup" and parcel.last_event_at:
            due = rules.stale_deadline(parcel.last_event_at, self.th("tracking_stale", facts, parcel.carrier))
            tm.arm(conn, "tracking_stale", f"{oid}|{sid}", due, now, order_id=oid)
        if self.cfg.eta.enabled:
            hint = None
            if data.get("eta_min") and data.get("eta_max"):
                hint = {"eta_min": data["eta_min"], "eta_max": data["eta_max"]}
            tm.arm(
                conn,
                "eta",
                f"{oid}|{sid}",
                now,
                now,
                order_id=oid,
                payload={"shipment_id": sid, "trigger": p.get("event_id"), "hint": hint},
            )

    def _on_delivered(
        self, conn: Connection, facts: rules.OrderFacts, sid: str, now: datetime, note: dict[str, Any]
    ) -> None:
        oid = facts.order_id
        for kind in ("tracking_stale", "handover_missing", "eta"):
            tm.cancel(conn, kinds=[kind], subject=f"{oid}|{sid}", now=now)
        self.resolve(
            conn,
            oid,
            ["tracking_stale", "handover_missing", "delivery_failed", "dispatch_delay", "waybill_missing"],
            now,
            "auto:delivered",
            note,
        )
        if facts.delivered_at is None:
            return  # other parcels of the order are still on their way
        tm.cancel(conn, kinds=ORDER_TIMER_KINDS, order_id=oid, now=now, reason="delivered")
        self.resolve(conn, oid, ["delay_risk", "delivery_delay"], now, "auto:delivered", note)
        if facts.promised_date is not None:
            late = rules.days_late(facts.promised_date, self.cal.local_date(facts.delivered_at))
            if late > 0:
                self._propose(conn, oid, now, trigger="delivery_delay", days=late)

    def _on_stage_changed(self, conn: Connection, p: dict[str, Any], now: datetime) -> None:
        oid, stage = p.get("order_id"), p.get("stage")
        if oid and stage and p.get("current"):
            self._queue_oms_update(conn, str(oid), str(stage), p, now)
        if not oid or not p.get("current") or stage not in CUSTOMER_FACING_STAGES:
            return
        if "notice_sent" not in self.hub.services or not self.cfg.thresholds("notice_missing").get(
            "enabled", True
        ):
            return  # the notifications feature reports misses itself through `open_exception`
        minutes = float(self.cfg.thresholds("notice_missing").get("minutes", 30))
        tm.arm(
            conn,
            "notice_missing",
            f"{oid}|{stage}",
            now + timedelta(minutes=minutes),
            now,
            order_id=oid,
            payload={"stage": stage, "stage_at": p.get("occurred_at")},
        )

    def _on_notification(self, conn: Connection, p: dict[str, Any], now: datetime) -> None:
        oid, stage = p.get("order_id"), p.get("stage")
        if oid and stage:
            tm.cancel(conn, kinds=["notice_missing"], subject=f"{oid}|{stage}", now=now, reason="notice sent")
            self.resolve(conn, oid, ["notice_missing"], now, "auto:notification", {"stage": stage})

    def _check_duplicate(
        self, conn: Connection, facts: rules.OrderFacts, data: dict[str, Any], at: datetime, now: datetime
    ) -> None:
        cust = data.get("customer_id")
        th = self.th("duplicate_order", facts)
        if not cust or not th.get("enabled", True):
            return
        window = timedelta(minutes=float(th.get("window_minutes", 30)))
        cands = conn.execute(
            sa.select(t.orders.c.order_id, t.orders.c.created_at, t.orders.c.total).where(
                t.orders.c.customer_id == cust,
                t.orders.c.order_id != facts.order_id,
                t.orders.c.cancelled_at.is_(None),
                t.orders.c.created_at >= at - window,
                t.orders.c.created_at <= at,
            )
        ).all()
        for c in cands:
            if c.created_at == at and c.order_id > facts.order_id:
                continue  # same instant: only the later id is the duplicate
            other = conn.execute(
                sa.select(t.inbox.c.data).where(
                    t.inbox.c.order_id == c.order_id, t.inbox.c.type == "order.created"
                )
            ).first()
            if other is None:
                continue
            if rules.is_duplicate(
                data.get("items") or [],
                data.get("total"),
                other.data.get("items") or [],
                other.data.get("total"),
            ):
                self.open_exception(
                    conn,
                    rules.Finding(
                        "duplicate_order",
                        facts.order_id,
                        {
                            "duplicate_of": c.order_id,
                            "items": data.get("items"),
                            "total": data.get("total"),
                            "minutes_apart": round((at - c.created_at).total_seconds() / 60, 1),
                        },
                        threshold={"window_minutes": th.get("window_minutes", 30)},
                    ),
                    facts,
                    now,
                )
                return

    def _ledger_reserve(self, conn: Connection, warehouse: str | None, items: list[Any]) -> None:
        if not warehouse:
            return
        for it in items:
            if isinstance(it, dict) and it.get("sku"):
                conn.execute(
                    stock.update()
                    .where(stock.c.warehouse == warehouse, stock.c.sku == str(it["sku"]))
                    .values(qty=stock.c.qty - int(it.get("qty") or 1))
                )

    def _on_snapshot(self, conn: Connection, data: dict[str, Any], at: datetime, now: datetime) -> None:
        warehouse = str(data.get("warehouse") or "")
        counts = {str(k): int(v) for k, v in (data.get("counts") or {}).items()}
        if not warehouse:
            return
        if isinstance(data.get("system_counts"), dict):
            expected = {str(k): int(v) for k, v in data["system_counts"].items()}
        else:
            expected = {
                r.sku: r.qty
                for r in conn.execute(
                    sa.select(stock.c.sku, stock.c.qty).where(stock.c.warehouse == warehouse)
                )
            }
        th = self.cfg.thresholds("inventory_mismatch", warehouse=warehouse)
        bad = rules.inventory_mismatches(
            counts, expected, int(th.get("tolerance_units", 0)), float(th.get("tolerance_pct", 0.0))
        )
        bad_skus = {b["sku"] for b in bad}
        for b in bad:
            self.open_exception(
                conn,
                rules.Finding(
                    "inventory_mismatch",
                    None,
                    {**b, "warehouse": warehouse, "counted_at": at.isoformat()},
                    subject=f"{warehouse}:{b['sku']}",
                    threshold={k: th.get(k, 0) for k in ("tolerance_units", "tolerance_pct")},
                ),
                None,
                now,
            )
        for sku in counts:
            if sku not in bad_skus:
                self.resolve(
                    conn, f"{warehouse}:{sku}", ["inventory_mismatch"], now, "auto:inventory.snapshot"
                )
        # The physical count becomes the system stock from now on.
        from deliveryhub.adapters.persistence.database import upsert

        upsert(
            conn,
            stock,
            [
                {"warehouse": warehouse, "sku": s, "qty": q, "counted_at": at}
                for s, q in sorted(counts.items())
            ],
            ["warehouse", "sku"],
        )

    def _check_delay_risk(self, conn: Connection, facts: rules.OrderFacts, now: datetime) -> None:
        f = rules.delay_risk(facts, now, self.th("delay_risk", facts), self.cal)
        if f is not None:
            self.open_exception(conn, f, facts, now)
        else:
            self.resolve(conn, facts.order_id, ["delay_risk"], now, "auto:eta_within_promise")

    def _propose(self, conn: Connection, oid: str, now: datetime, **kw: Any) -> None:
        kw.setdefault("pushed_approval_krw", float(self.hub.settings.webhook_money_approval_krw))
        for cid, status in comp.propose(conn, self.cfg.compensation, oid, now, self.cal.tz, **kw):
            if status == "pending_issue":
                tm.arm(conn, "compensation", f"comp:{cid}", now, now, order_id=oid, payload={"id": cid})
            else:
                self._alerts().append(
                    {
                        "kind": "compensation_approval",
                        "key": f"compensation:{cid}",
                        "subject": f"[보상 승인 필요] 주문 {oid} / [Approval needed] compensation for {oid}",
                        "body": f"보상 #{cid} 승인이 필요합니다. POST /v1/compensations/{cid}/approve",
                        "data": {"compensation_id": cid, "order_id": oid},
                    }
                )

    # ================================================================ timers
    def fire_due(self, now: datetime | None = None, max_rounds: int = 50) -> dict[str, int]:
        """Claim and fire every due timer; returns counts by kind and result."""
        counts: dict[str, int] = {}
        for _ in range(max_rounds):
            if stop_requested():
                break  # each claimed batch is fired whole; a stopping worker claims no more
            at = now or self.now
            with self.hub.db.write() as conn:
                batch = tm.claim(conn, self.worker, at, self.lease)
            if not batch:
                break
            for timer in batch:
                try:
                    result = self._fire(timer, at)
                except tm.ClaimLost:
                    result = "lost"
                except Exception as exc:  # one broken timer must not block the rest; lease expiry retries it
                    log.exception("timer_failed", timer=timer.id, kind=timer.kind)
                    result = f"error:{type(exc).__name__}"
                key = f"{timer.kind}:{result.split(':', 1)[0]}"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _fire(self, timer: Row[Any], now: datetime) -> str:
        self._local.alerts = []
        if timer.kind in self.in_tx:
            with self.hub.db.write() as conn:
                result = self.in_tx[timer.kind](conn, timer, now)
                tm.finish(conn, timer, self.worker, now, result)
            self.send_alerts()
            return result
        handler = self.external.get(timer.kind)
        if handler is None:
            with self.hub.db.write() as conn:
                tm.finish(conn, timer, self.worker, now, "unknown kind", status="cancelled")
            return "unknown"
        outcome = handler(timer, now)
        with self.hub.db.write() as conn:
            if outcome.retry_at is not None:
                attempts = timer.attempts + (1 if outcome.counts_attempt else 0)
                tm.reschedule(conn, timer, self.worker, outcome.retry_at, attempts, outcome.result)
            else:
                if outcome.failed is not None:
                    facts = load_facts(conn, [timer.order_id]).get(timer.order_id) if timer.order_id else None
                    self.open_exception(conn, outcome.failed, facts, now)
                tm.finish(conn, timer, self.worker, now, outcome.result)
        self.send_alerts()
        return outcome.result

    def _fire_rule(self, conn: Connection, timer: Row[Any], now: datetime) -> str:
        type_ = RULE_TIMERS[timer.kind]
        facts = load_facts(conn, [timer.order_id]).get(timer.order_id)
        if facts is None:
            return "no order"
        finding = self._evaluate(type_, facts, now)
        if finding is None:
            return "ok"
        new = self.open_exception(conn, finding, facts, now)
        return f"opened:{new}" if new else "already open"

    def _evaluate(self, type_: str, facts: rules.OrderFacts, now: datetime) -> rules.Finding | None:
        th = self.th(type_, facts)
        if not th.get("enabled", True):
            return None
        if type_ == "dispatch_delay":
            return rules.dispatch_delay(facts, now, th, self.cal)
        if type_ == "waybill_missing":
            return rules.waybill_missing(facts, now, th)
        if type_ == "handover_missing":
            return rules.handover_missing(facts, now, th)
        if type_ == "tracking_stale":
            return rules.tracking_stale(facts, now, th)
        if type_ == "delivery_delay":
            return rules.delivery_delay(facts, now, th, self.cal)
        if type_ == "delay_risk":
            return rules.delay_risk(facts, now, th, self.cal)
        return None

    def _fire_notice(self, conn: Connection, timer: Row[Any], now: datetime) -> str:
        check = self.hub.services.get("notice_sent")
        if check is None:
            return "skipped: no notification feature"
        stage = (timer.payload or {}).get("stage")
        facts = load_facts(conn, [timer.order_id]).get(timer.order_id)
        if facts is None or (facts.closed and stage != "cancelled"):
            return "no order"
        if check(conn, timer.order_id, stage):
            return "ok"
        new = self.open_exception(
            conn,
            rules.Finding(
                "notice_missing",
                timer.order_id,
                {
                    "stage": stage,
                    "stage_at": (timer.payload or {}).get("stage_at"),
                    "due_at": timer.due_at.isoformat(),
                },
                due_at=timer.due_at,
            ),
            facts,
            now,
        )
        return f"opened:{new}" if new else "already open"

    # ---------------------------------------------------------------- ETA
    def model(self, now: datetime) -> eta_mod.TransitModel:
        """The transit model, refitted from history every `refit_minutes`."""
        e = self.cfg.eta
        with self._model_lock:
            if (
                self._model is None
                or self._model_at is None
                or now - self._model_at >= timedelta(minutes=e.refit_minutes)
                or now < self._model_at
            ):
                with self.hub.db.read() as conn:
                    history = eta_mod.load_history(conn, now, e.history_days, e.origin_regions, self.cal.tz)
                self._model = eta_mod.TransitModel(
                    e.min_samples, e.lower_quantile, e.upper_quantile, self.cal.tz
                ).fit(history)
                self._model_at = now
            return self._model

    def refit(self) -> None:
        """Forget the cached model (history changed a lot, e.g. after an import)."""
        with self._model_lock:
            self._model = None

    def predict(
        self, facts: rules.OrderFacts, parcel: rules.ParcelFacts, now: datetime, hint: dict[str, Any] | None
    ) -> eta_mod.EtaWindow | None:
        """The current ETA window of a parcel."""
        window = None
        if parcel.handed_over_at is not None:
            window = self.model(now).predict(
                parcel.carrier or "?",
                eta_mod.origin_of(facts.warehouse, self.cfg.eta.origin_regions),
                facts.region or "?",
                parcel.handed_over_at,
                now,
            )
        if window is not None and parcel.status == "out_for_delivery":
            # On the delivery truck: it can arrive any minute now, whatever the transit history says.
            window = eta_mod.EtaWindow(
                now,
                max(now, window.eta_max),
                window.confidence,
                window.basis + "+out_for_delivery",
                window.samples,
            )
        hmin, hmax = _dt((hint or {}).get("eta_min")), _dt((hint or {}).get("eta_max"))
        if hmin and hmax and hmax >= now:
            window = eta_mod.apply_hint(
                window, hmin, hmax, timedelta(minutes=self.cfg.eta.hint_margin_minutes), now
            )
        return window

    def _fire_eta(self, timer: Row[Any], now: datetime) -> Outcome:
        sid = (timer.payload or {}).get("shipment_id")
        with self.hub.db.read() as conn:
            facts = load_facts(conn, [timer.order_id]).get(timer.order_id)
        parcel = next((x for x in facts.parcels if x.shipment_id == sid), None) if facts else None
        if facts is None or parcel is None or parcel.delivered_at is not None or facts.closed:
            return Outcome("skipped")
        window = self.predict(facts, parcel, now, (timer.payload or {}).get("hint"))
        if window is None:
            return Outcome("no prediction: not enough history")
        if not eta_mod.changed(
            parcel.eta_min, parcel.eta_max, window, timedelta(minutes=self.cfg.eta.min_change_minutes)
        ):
            return Outcome("unchanged")
        trigger = (timer.payload or {}).get("trigger") or now.isoformat()
        res = self.hub.ingest.ingest(
            [
                {
                    "event_id": f"eta:{timer.order_id}:{sid}:{trigger}"[:128],
                    "source": "tms",
                    "type": "shipment.eta_updated",
                    "occurred_at": now.isoformat(),
                    "order_id": timer.order_id,
                    "shipment_id": sid,
                    "data": {**window.as_data(), "carrier": parcel.carrier},
                }
            ]
        )[0]
        return Outcome(f"eta:{res.status}")

    # ---------------------------------------------------------------- orchestration
    def _retry(
        self, timer: Row[Any], now: datetime, result: PortResult, step: str, fail: rules.Finding | None
    ) -> Outcome:
        """Retry later with backoff while the error is retryable and attempts remain; else give up with
        `fail` (an ops exception carrying the last error), or with no exception when `fail` is None."""
        orch = self.cfg.orchestration
        attempts = timer.attempts + 1
        if result.retryable and attempts < orch.max_attempts:
            delay = orch.backoff_seconds[min(attempts - 1, len(orch.backoff_seconds) - 1)]
            return Outcome(f"retry {attempts}: {result.error}", retry_at=now + timedelta(seconds=delay))
        if fail is None:
            return Outcome(f"failed: {result.error}")
        fail.evidence.update(
            {
                "automation": step,
                "attempts": attempts,
                "last_error": result.error,
                "http_status": result.status,
                "ops_task": True,
            }
        )
        return Outcome(f"failed: {result.error}", failed=fail)

    def _ingest_answer(self, events: list[dict[str, Any]]) -> str | None:
        if not events:
            return None
        results = self.hub.ingest.ingest(events)
        bad = [r for r in results if r.status == "rejected"]
        return (bad[0].error or {}).get("message", "rejected") if bad else None

    def _fire_wms(self, timer: Row[Any], now: datetime) -> Outcome:
        oid = timer.order_id
        with self.hub.db.read() as conn:
            facts = load_facts(conn, [oid]).get(oid)
            created = conn.execute(
                sa.select(t.inbox.c.data).where(t.inbox.c.order_id == oid, t.inbox.c.type == "order.created")
            ).first()
        if facts is None or facts.closed or facts.reached("stock_confirmed"):
            return Outcome("skipped")
        items = list((created.data if created else {}).get("items") or [])
        res = self.wms.reserve(facts.channel, oid, items, facts.warehouse, f"wms-reserve:{oid}")
        fail = rules.Finding("dispatch_delay", oid, {"reason": "stock_reservation_failed"})
        return self._settle_call(
            timer, now, res, "wms_reserve", fail, lambda: wms_events(oid, res, now.isoformat())
        )

    def _fire_tms(self, timer: Row[Any], now: datetime) -> Outcome:
        oid = timer.order_id
        with self.hub.db.read() as conn:
            facts = load_facts(conn, [oid]).get(oid)
        if facts is None or facts.closed or facts.reached("waybill_created"):
            return Outcome("skipped")
        res = self.tms.create_waybill(
            facts.channel, oid, {"warehouse": facts.warehouse, "region": facts.region}, f"tms-waybill:{oid}"
        )
        fail = rules.Finding("waybill_missing", oid, {"reason": "waybill_creation_failed"})
        return self._settle_call(
            timer, now, res, "tms_waybill", fail, lambda: tms_events(oid, res, now.isoformat())
        )

    def _settle_call(
        self,
        timer: Row[Any],
        now: datetime,
        res: PortResult,
        kind: str,
        fail: rules.Finding,
        answer_events: Callable[[], list[dict[str, Any]]],
    ) -> Outcome:
        """After an outbound WMS/TMS call: retry on failure or an unusable answer, else record the answer."""
        if not res.ok:
            return self._retry(timer, now, res, kind, fail)
        error = self._ingest_answer(answer_events())
        if error:
            bad = PortResult(False, False, res.status, res.body, f"bad answer: {error}")
            return self._retry(timer, now, bad, kind, fail)
        return Outcome(f"done: HTTP {res.status}")

    # ---------------------------------------------------------------- OMS order updates
    def _queue_oms_update(
        self, conn: Connection, oid: str, stage: str, p: dict[str, Any], now: datetime
    ) -> None:
        """Record one push of this stage change for the shop's OMS (a replay finds it recorded) and arm its
        timer; the timer job sends it with retries. Late fill-ins of earlier stages (`current` false) are
        not pushed: they would move the shop's status backwards."""
        if not self.cfg.orchestration.has_oms():
            return
        shop = conn.execute(sa.select(t.orders.c.channel).where(t.orders.c.order_id == oid)).scalar()
        if not self.ports.has_oms(shop, stage):
            return
        facts = load_facts(conn, [oid]).get(oid)
        # Tracking number as known at the change; the body is fixed here so every retry sends the same.
        parcel = next((x for x in (facts.parcels if facts else []) if x.tracking_no), None)
        update = {
            "stage": stage,
            "previous": p.get("previous"),
            "occurred_at": p.get("occurred_at"),
            "automatic": p.get("automatic"),
            "tracking_no": parcel.tracking_no if parcel else None,
            "carrier": parcel.carrier if parcel else None,
            "shipment_id": parcel.shipment_id if parcel else None,
            "cancelled": stage == "cancelled" or bool(facts and facts.cancelled_at is not None),
        }
        key = f"oms-update:{oid}:{stage}"
        if stage not in STAGE_RANK:
            # Side states (cancelled, delivery_failed, returned) can happen more than once per order.
            key += ":" + str(p.get("occurred_at") or "")
        push_id = _insert_returning_id(
            conn,
            oms_updates,
            {
                "order_id": oid,
                "shop": shop,
                "stage": stage,
                "idempotency_key": key[:200],
                "change": dict(p),
                "update": update,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
            },
        )
        if push_id is not None:
            tm.arm(conn, "oms_update", f"oms:{push_id}", now, now, order_id=oid, payload={"id": push_id})

    def _fire_oms(self, timer: Row[Any], now: datetime) -> Outcome:
        push_id = int((timer.payload or {})["id"])
        with self.hub.db.read() as conn:
            push = conn.execute(sa.select(oms_updates).where(oms_updates.c.id == push_id)).first()
        if push is None or push.status != "pending":
            return Outcome("skipped")
        with self.hub.db.read() as conn:
            # One order's updates reach the OMS in the order they happened: a retried earlier stage must
            # not land after (and so overwrite) a later one.
            earlier = conn.execute(
                sa.select(timers.c.due_at)
                .select_from(
                    oms_updates.join(
                        timers, timers.c.subject == sa.literal("oms:") + sa.cast(oms_updates.c.id, sa.String)
                    )
                )
                .where(
                    oms_updates.c.order_id == push.order_id,
                    oms_updates.c.id < push.id,
                    oms_updates.c.status == "pending",
                    timers.c.kind == "oms_update",
                    timers.c.status == "pending",
                )
                .order_by(timers.c.due_at)
            ).first()
        if earlier is not None:
            wait_until = max(now, earlier.due_at) + timedelta(seconds=1)
            return Outcome("waiting for an earlier update", retry_at=wait_until, counts_attempt=False)
        update = dict(push.update or {})
        res = self.oms.update_order(push.shop, push.order_id, update, push.idempotency_key)
        attempts = timer.attempts + 1
        outcome: Outcome
        if res.ok:
            status, outcome = "sent", Outcome(f"done: HTTP {res.status}")
        else:
            # Not a delivery exception type: when retries are exhausted ops get an alert instead.
            outcome = self._retry(timer, now, res, "oms_update", None)
            status = "pending" if outcome.retry_at is not None else "failed"
            if status == "failed":
                self._alerts().append(
                    {
                        "kind": "oms_update_failed",
                        "key": f"oms_update:{push_id}",
                        "subject": f"[OMS 연동 실패] 주문 {push.order_id} {push.stage} / [OMS update failed]",
                        "body": f"주문 {push.order_id} 상태({push.stage})를 쇼핑몰 OMS에 보내지 못했습니다: "
                        f"{res.error}\nCould not update order {push.order_id} ({push.stage}) in the shop's "
                        f"OMS after {attempts} attempts: {res.error}",
                        "data": {"order_id": push.order_id, "stage": push.stage, "push_id": push_id},
                    }
                )
        with self.hub.db.write() as conn:
            conn.execute(
                oms_updates.update()
                .where(oms_updates.c.id == push_id, oms_updates.c.status == "pending")
                .values(
                    status=status,
                    attempts=attempts,
                    http_status=res.status,
                    last_error=(res.error or None) and str(res.error)[:300],
                    sent_at=now if res.ok else None,
                )
            )
        return outcome

    # ---------------------------------------------------------------- compensation
    def _fire_compensation(self, timer: Row[Any], now: datetime) -> Outcome:
        return Outcome(self.issue_compensation(int((timer.payload or {})["id"]), now))

    def issue_compensation(
        self, comp_id: int, now: datetime | None = None, actor: str = "system:monitors"
    ) -> str:
        """Issue an approved compensation through ingest; a second call is a no-op."""
        now = now or self.now
        with self.hub.db.read() as conn:
            row = conn.execute(sa.select(compensations).where(compensations.c.id == comp_id)).first()
        if row is None or row.status not in ("pending_issue", "issued"):
            return f"not issuable: {row.status if row else 'missing'}"
        res = self.hub.ingest.ingest(
            [
                {
                    "event_id": row.event_id,
                    "source": "monitors",
                    "type": "compensation.issued",
                    "occurred_at": now.isoformat(),
                    "order_id": row.order_id,
                    "data": {
                        "kind": row.kind,
                        "amount": row.amount,
                        "rule": row.rule,
                        "compensation_id": row.id,
                    },
                }
            ]
        )[0]
        if res.status == "rejected":
            return f"rejected: {(res.error or {}).get('message')}"
        with self.hub.db.write() as conn:
            done = conn.execute(
                compensations.update()
                .where(compensations.c.id == comp_id, compensations.c.status == "pending_issue")
                .values(status="issued", issued_at=now)
            ).rowcount
        if done and "audit" in self.hub.services:
            self.hub.services["audit"](
                actor,
                "compensation.issued",
                f"order:{row.order_id}",
                {
                    "compensation_id": row.id,
                    "rule": row.rule,
                    "kind": row.kind,
                    "amount": row.amount,
                    "event_id": row.event_id,
                },
            )
        return f"issued:{res.status}"

    # ================================================================ sweeps
    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Evaluate every time-based monitor over every open order now (catches orders without timers,
        e.g. imported before the monitors ran)."""
        now = now or self.now
        opened: dict[str, int] = {}
        with self.hub.db.read() as conn:
            ids = list(
                conn.execute(
                    sa.select(t.orders.c.order_id)
                    .where(
                        t.orders.c.delivered_at.is_(None),
                        t.orders.c.cancelled_at.is_(None),
                        sa.or_(
                            t.orders.c.side_state.is_(None),
                            t.orders.c.side_state.not_in(["cancelled", "returned"]),
                        ),
                    )
                    .order_by(t.orders.c.order_id)
                ).scalars()
            )
        types = (
            "dispatch_delay",
            "waybill_missing",
            "handover_missing",
            "tracking_stale",
            "delivery_delay",
            "delay_risk",
        )
        for start in range(0, len(ids), 500):
            if stop_requested():
                break
            self._local.alerts = []
            with self.hub.db.write() as conn:
                for oid, facts in load_facts(conn, ids[start : start + 500]).items():
                    if stop_requested():
                        break  # a stopping worker commits what it evaluated; the next sweep does the rest
                    for type_ in types:
                        f = self._evaluate(type_, facts, now)
                        if f is not None and self.open_exception(conn, f, facts, now):
                            opened[type_] = opened.get(type_, 0) + 1
                    if facts.promised_date is not None:
                        late = rules.days_late(facts.promised_date, self.cal.local_date(now))
                        if late > 0:
                            self._propose(conn, oid, now, trigger="delivery_delay", days=late)
            self.send_alerts()
        opened["orders_evaluated"] = len(ids)
        return opened

    def open_counts(self) -> dict[str, int]:
        """Active exceptions by type."""
        with self.hub.db.read() as conn:
            rows = conn.execute(
                sa.select(exceptions.c.type, sa.func.count())
                .where(exceptions.c.status != "resolved")
                .group_by(exceptions.c.type)
            ).all()
        return {r[0]: int(r[1]) for r in rows}

    def run_once(self) -> dict[str, Any]:
        """Fire due timers, then evaluate every monitor over every open order."""
        now = self.now
        fired = self.fire_due(now)
        swept = self.sweep(now)
        # Compensations proposed by the sweep are issued right away.
        fired_after = self.fire_due(now)
        for k, v in fired_after.items():
            fired[k] = fired.get(k, 0) + v
        return {"at": now.isoformat(), "timers": fired, "opened_by_sweep": swept, "open": self.open_counts()}

    # ================================================================ read side
    def open_exception_service(
        self,
        exception_type: str,
        order_id: str | None,
        key: str | None = None,
        evidence: dict[str, Any] | None = None,
        shipment_id: str | None = None,
    ) -> int | None:
        """Service `open_exception` for other features (own transaction); the new id, or None if one of
        that type is already active for the order."""
        if exception_type not in EXCEPTION_TYPES:
            raise ValueError(f"unknown exception type {exception_type!r}")
        now = self.now
        self._local.alerts = []
        ev = dict(evidence or {})
        if key:
            ev.setdefault("key", key)
        with self.hub.db.write() as conn:
            facts = load_facts(conn, [order_id]).get(order_id) if order_id else None
            new = self.open_exception(
                conn,
                rules.Finding(
                    exception_type, order_id, ev, shipment_id=shipment_id, subject=None if order_id else key
                ),
                facts,
                now,
            )
        self.send_alerts()
        return new

    def orders_with_exception(self, conn: Connection, type_: str) -> list[str]:
        """Orders that have an active exception of this type."""
        return [
            r
            for r in conn.execute(
                sa.select(exceptions.c.order_id)
                .where(
                    exceptions.c.type == type_,
                    exceptions.c.status != "resolved",
                    exceptions.c.order_id.is_not(None),
                )
                .distinct()
            ).scalars()
        ]

    def order_section(self, conn: Connection, order_id: str, _principal: Any) -> list[dict[str, Any]]:
        """The order's exceptions (newest first) for GET /v1/orders/{id}."""
        rows = conn.execute(
            sa.select(exceptions)
            .where(exceptions.c.order_id == order_id)
            .order_by(exceptions.c.opened_at.desc(), exceptions.c.id.desc())
        ).all()
        return [exception_dict(r) for r in rows]


def run_all_monitors(hub: Any) -> dict[str, Any]:
    """Evaluate every monitor now (CLI `deliveryhub monitors run-once`, tests, operators)."""
    svc: MonitorService | None = hub.services.get("monitors")
    if svc is None:
        raise RuntimeError("the monitors feature is not wired into this hub")
    return svc.run_once()


def pending_timers(hub: Any) -> int:
    """How many timers are waiting (for health pages)."""
    with hub.db.read() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(timers).where(timers.c.status == "pending")
            ).scalar_one()
        )
