"""The `effects.driver` job: carry out due outside actions, each exactly once.

Each due row is claimed with a compare-and-set lease (two workers never send one row at once; a row held
by a worker that died is taken over once its lease has expired), the Core port is called with the row's
key as Idempotency-Key OUTSIDE any database transaction, and the answer is recorded: done → the row's
`done_event` (or `action.completed`) through ingest under the event id `act:<key>`; retry → backoff (the
other side's Retry-After honoured) until the attempts run out; refused or out of attempts →
`action.failed` (`actfail:<key>`), an `action_failed` exception and an ops alert."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from deliveryhub.contracts.events import DATA_MODELS
from deliveryhub.contracts.ids import FORBIDDEN_ID_CHARS
from deliveryhub.effects import ledger
from deliveryhub.effects.backoff import Backoff
from deliveryhub.effects.contacts import order_contact
from deliveryhub.kernel.korean import attach
from deliveryhub.kernel.labels import label_pair
from deliveryhub.service_layer.ports import (
    ExceptionRequest,
    OpsAlert,
    OutsideResult,
    PickupRequest,
    RefundRequest,
    RewardRequest,
)
from deliveryhub.service_layer.scheduler import stop_requested

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

JOB_NAME = "effects.driver"
EVERY_S = 3.0
BATCH = 20
# Longer than any action takes alive (an address goes to the WMS and the TMS, a Naver return to the carrier
# and Naver, each ≤ 60 s): a live sender always records before another may take the row over.
LEASE = timedelta(minutes=5)
SOURCE = "hub"  # the source of the events the hub records about its own actions


class MissingAddress(LookupError):
    """The action needs the customer's address and the hub has none (never given, or erased)."""


def event_id(prefix: str, key: str) -> str:
    """`<prefix>:<key>`, deterministic; a key too long for an event id is replaced by its digest."""
    out = f"{prefix}:{key}"
    if len(out) <= 128:
        return out
    return f"{prefix}:h:{hashlib.sha256(key.encode()).hexdigest()[:48]}"


def safe_ref(value: Any) -> str | None:
    """An outside system's reference as an id the hub stores (no control characters, ≤ 200)."""
    if value is None:
        return None
    text = FORBIDDEN_ID_CHARS.sub("", str(value)).strip()[:200]
    return text or None


class Driver:
    """Sends due outside actions through the Core ports and records what they answered."""

    def __init__(self, core: Core, backoff: Backoff | None = None, worker: str | None = None) -> None:
        self.core = core
        self.backoff = backoff or Backoff()
        self.worker = worker or f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        # (system, action) -> the sender of an action a feature module carries out (not a Core port).
        self.senders: dict[tuple[str, str], Callable[[Row[Any]], OutsideResult]] = {}

    def run(self, now: datetime) -> int:
        """Carry out every due action (up to BATCH per run); returns how many were tried."""
        with self.core.db.read() as conn:
            keys = ledger.due_keys(conn, now, BATCH)
        tried = 0
        for key in keys:
            if stop_requested():
                break  # a held row not yet sent is taken over once its lease expires
            # The time now, not the run's start: a long batch must not hand out leases already running out.
            at = max(now, self.core.clock.now())
            with self.core.db.write() as conn:
                row = ledger.claim(conn, key, self.worker, at, LEASE)
            if row is None:
                continue  # another driver holds it, or it is done
            tried += 1
            self.carry_out(row, at)
        return tried

    def carry_out(self, row: Row[Any], now: datetime) -> OutsideResult:
        """Send one claimed action (no transaction open) and record its outcome."""
        try:
            result = self.call(row)
        except MissingAddress as exc:
            result = OutsideResult("refused", message=str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken adapter is a retry, never a lost action
            log.exception("outside_action_error", key=row.key, system=row.system, action=row.action)
            result = OutsideResult("retry", message=f"{type(exc).__name__}: {str(exc)[:200]}")
        log.info(
            "outside_action",
            key=row.key,
            system=row.system,
            action=row.action,
            outcome=result.outcome,
            attempt=row.attempts,
        )
        now = max(now, self.core.clock.now())  # after the call: the outcome's own time
        if result.outcome == "done":
            self._done(row, result, now)
        elif result.outcome == "retry" and not self.backoff.exhausted(row.attempts):
            delay = self.backoff.delay(row.attempts, result.retry_after)
            with self.core.db.write() as conn:
                ledger.postpone(
                    conn, row.key, self.worker, now + timedelta(seconds=delay), result.message or "retry"
                )
        else:
            self._failed(row, result, now)
        return result

    # ------------------------------------------------------------ the ports
    def call(self, row: Row[Any]) -> OutsideResult:
        """Call the Core port for the row's (system, action) with its key as the Idempotency-Key."""
        core, key = self.core, row.key
        p: dict[str, Any] = dict(row.payload or {})
        order_id = str(p.get("order_id") or row.order_id or "")
        items = list(p.get("items") or [])
        match (row.system, row.action):
            case ("payments", "refund"):
                request = RefundRequest(order_id, str(p["payment_key"]), int(p["amount"]), str(p["reason"]))
                return core.payments.refund(request, key)
            case ("pickup", "book_pickup"):
                pickup = PickupRequest(
                    return_id=str(p["return_id"]),
                    order_id=order_id,
                    kind=p.get("kind") or "return",
                    items=items,
                    address=self._address(p, order_id),
                    reason_code=str(p.get("reason_code") or "other"),
                    source=p.get("source"),
                    marketplace_ref=p.get("marketplace_ref"),
                )
                return core.pickups.book_pickup(pickup, key)
            case ("fulfilment", "release_reservation"):
                return core.fulfilment.release_reservation(order_id, items, key)
            case ("fulfilment", "push_address"):
                return core.fulfilment.push_address(order_id, self._address(p, order_id), key)
            case ("fulfilment", "reship"):
                address = self._address(p, order_id)
                return core.fulfilment.reship(order_id, str(p.get("return_id") or ""), items, address, key)
            case ("rewards", "grant"):
                reward = RewardRequest(
                    order_id, p.get("customer_ref"), p["kind"], int(p["amount"]), str(p.get("reason") or "")
                )
                return core.rewards.grant(reward, key)
        sender = self.senders.get((row.system, row.action))
        if sender is not None:
            return sender(row)
        return OutsideResult("refused", message=f"unknown action {row.system}/{row.action}")

    def _address(self, payload: Mapping[str, Any], order_id: str) -> dict[str, Any]:
        """The payload's address, else the order's current one (decrypted now, never stored)."""
        given = payload.get("address")
        if isinstance(given, Mapping) and given:
            return dict(given)
        with self.core.db.read() as conn:
            found = order_contact(conn, self.core.keyring, order_id) if order_id else None
        if found is None:
            raise MissingAddress(f"주소 정보가 없어요 / no delivery address on file for order {order_id}")
        return found

    # ------------------------------------------------------------ outcomes
    def _ingest(self, raw: dict[str, Any]) -> tuple[str, str]:
        res = self.core.ingest.ingest([raw])[0]
        return res.status, str((res.error or {}).get("message") or "")

    def _done(self, row: Row[Any], result: OutsideResult, now: datetime) -> None:
        ref = safe_ref(result.ref)
        base = {
            "event_id": event_id("act", row.key),
            "source": SOURCE,
            "occurred_at": now.isoformat(),
            "order_id": row.order_id,
        }
        outcome = {"system": row.system, "action": row.action, "key": row.key, "ref": ref}
        status, error = "", ""
        if row.done_event and row.done_event in DATA_MODELS:
            known = DATA_MODELS[row.done_event].model_fields
            extra = {k: v for k, v in result.data.items() if k in known and isinstance(v, str | int | float)}
            data = {**extra, **dict(row.done_data or {}), "ref": ref}
            for name in ("pickup_ref", "refund_id"):  # the event's own name for the reference
                if name in known and not data.get(name) and ref:
                    data[name] = ref
            status, error = self._ingest({**base, "type": row.done_event, "data": data})
            if status == "rejected":
                log.error("outside_done_event_rejected", key=row.key, type=row.done_event, error=error)
        if status in ("", "rejected"):  # no done event, or it could not be recorded: the plain outcome
            message = f"{row.done_event} rejected: {error}"[:500] if status else None
            self._ingest({**base, "type": "action.completed", "data": {**outcome, "message": message}})
        with self.core.db.write() as conn:
            ledger.finish(conn, row.key, self.worker, now, "done", ref=ref, error=error or None)

    def _failed(self, row: Row[Any], result: OutsideResult, now: datetime) -> None:
        why = result.message or result.outcome
        if result.outcome == "retry":
            why = f"{row.attempts}번 시도했지만 실패 / gave up after {row.attempts} attempts: {why}"
        why = why[:500]
        data = {"system": row.system, "action": row.action, "key": row.key, "ref": None, "message": why}
        # A row an operator sent again after it failed (ledger.retry_failed) fails under a new id.
        round_ = f":{int(row.done_at.timestamp())}" if row.done_at is not None else ""
        self._ingest(
            {
                "event_id": event_id("actfail", row.key + round_),
                "source": SOURCE,
                "type": "action.failed",
                "occurred_at": now.isoformat(),
                "order_id": row.order_id,
                "data": data,
            }
        )
        with self.core.db.write() as conn:
            held = ledger.finish(conn, row.key, self.worker, now, "failed", error=why)
        if not held:
            return  # another driver recorded this action meanwhile: it told the operators
        # `system` is taken in the evidence labels (system stock): the outside system has its own name.
        evidence = {
            "outside_system": row.system,
            "action": row.action,
            "key": row.key,
            "message": why,
            "order_id": row.order_id,
            "attempts": row.attempts,
        }
        try:
            self.core.exceptions.open_exception(
                ExceptionRequest("action_failed", row.order_id, key=row.key, evidence=evidence)
            )
        except Exception:  # noqa: BLE001 - the alert below still goes out
            log.exception("action_failed_exception_unopened", key=row.key)
        ko, en = label_pair("outside_action", row.action)
        subject = f"{ko} 실패 / {en} failed: {row.order_id or row.key}"
        body = f"{attach(ko, '이/가')} 처리되지 않았어요. 직접 처리해 주세요. / Please do it by hand. {why}"
        alert = OpsAlert("action_failed", row.key + round_, subject, body, evidence)
        self.core.ops_alerts.notify_ops(alert)
