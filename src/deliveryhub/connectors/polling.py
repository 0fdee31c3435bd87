"""The ``connectors.poll`` job: poll in-flight parcels of carriers without push, through their proxies.

Per carrier API (state in ``connector_carrier_state``, shared by every worker):
    * rate limit: one request slot per carrier, claimed with a conditional UPDATE of ``next_slot_at`` so every
      worker process shares it: one request in flight per carrier, the next one at least
      ``60 / rate_limit_per_minute`` seconds after the previous answer, so the carrier never sees two
      requests closer than that. (The kernel's in-memory ``RateLimiter`` counts per process and a moving
      window allows bursts; neither would keep several workers' requests apart, so the slot stays in SQL.)
    * backoff: 429, 5xx, timeouts and transport errors push ``backoff_until`` out by the kernel's one
      backoff formula (``backoff_delay``, equal jitter), never sooner than the carrier's Retry-After; the
      parcel stays due, so no status change is lost.
Per parcel (``connector_poll_state``): ``next_poll_at`` (the carrier's ``poll_interval_s``, shorter when out
for delivery) and a lease that keeps two workers from polling it at once. Delivered or expired parcels are
never polled. Results go through ``core.ingest``: unchanged scans are inbox duplicates, i.e. no-ops.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import (
    ConnectorError,
    ConnectorSettings,
    RateLimited,
    TrackingNotFound,
    TrackingProxy,
    UpstreamError,
    connector_codes,
    get_connector,
)
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.kernel.retry import backoff_delay
from deliveryhub.kernel.timefmt import iso
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

TERMINAL = ("delivered", "expired")
JOB_NAME = "connectors.poll"


@dataclass
class PolledCarrier:
    """One carrier the poller talks to."""

    code: str
    settings: ConnectorSettings
    proxy: TrackingProxy

    @property
    def spacing(self) -> timedelta:
        """Minimum time between two requests to this carrier."""
        per_minute = max(1, int(self.settings.rate_limit_per_minute))
        return timedelta(seconds=60.0 / per_minute)

    @property
    def hold(self) -> timedelta:
        """How long a claimed slot blocks the next one while its request is in flight (worst case)."""
        worst = self.settings.connect_timeout_s + self.settings.timeout_s + 1.0
        return self.spacing + timedelta(seconds=worst)


def configured_carriers(overrides: dict[str, ConnectorSettings] | None = None) -> dict[str, PolledCarrier]:
    """Every connector with a proxy and a ``base_url`` (from its environment or ``overrides``)."""
    found: dict[str, PolledCarrier] = {}
    for code in connector_codes():
        connector = get_connector(code)
        if not connector.polls:
            continue
        settings = (overrides or {}).get(code) or connector.settings()
        if not settings.base_url:
            continue
        found[code] = PolledCarrier(code, settings, TrackingProxy(connector, settings))
    return found


@dataclass
class PollReport:
    """What one run did, per carrier."""

    polled: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    accepted_events: int = 0

    def count(self, bucket: dict[str, int], code: str) -> None:
        bucket[code] = bucket.get(code, 0) + 1


class Poller:
    """Polls due parcels within a time budget per run (the scheduler thread is shared with other jobs)."""

    def __init__(
        self,
        core: Core,
        carriers: dict[str, PolledCarrier] | None = None,
        *,
        wall: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budget_s: float = 2.0,
        batch: int = 200,
        base_backoff_s: float = 1.0,
        max_backoff_s: float = 900.0,
        lease_s: float = 120.0,
        rng: random.Random | None = None,
        on_poll: Callable[[str, str], None] | None = None,
    ) -> None:
        self.core = core
        self.carriers = configured_carriers() if carriers is None else carriers
        # Rate limits and backoff are about the carrier's real clock, not the hub's (possibly simulated) one.
        self.wall = wall or (lambda: datetime.now(UTC))
        self.sleep = sleep
        self.budget_s = budget_s
        self.batch = batch
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self.lease = timedelta(seconds=lease_s)
        self.rng = rng or random.Random()
        self.on_poll = on_poll

    # ------------------------------------------------------------------ job entry point
    def run(self, now: datetime | None = None) -> PollReport:
        """Sync the schedule with the parcels, then poll due parcels until the budget is spent."""
        report = PollReport()
        if not self.carriers:
            return report
        now = now or self.core.clock.now()
        started = time.monotonic()
        with self.core.db.write() as conn:
            self._ensure_carriers(conn)
            self._sync(conn, now)
            due = self._due(conn, now)
        blocked: set[str] = set()
        for row in due:
            code = row.carrier
            if code in blocked:
                continue
            remaining = self.budget_s - (time.monotonic() - started)
            if remaining <= 0:
                break
            if not self._claim_parcel(row, now):
                continue
            if not self._take_slot(code, remaining):
                self._release(row, now, None)
                blocked.add(code)
                continue
            if not self._poll_one(row, now, report):
                blocked.add(code)  # the carrier is backing off: leave its other parcels for later
        return report

    # ------------------------------------------------------------------ schedule
    def _ensure_carriers(self, conn: Connection) -> None:
        insert_or_ignore(
            conn,
            ct.connector_carrier_state,
            [{"carrier": c, "consecutive_failures": 0, "requests": 0, "errors": 0} for c in self.carriers],
            ["carrier"],
        )

    def _sync(self, conn: Connection, now: datetime) -> None:
        codes = sorted(self.carriers)
        ps, p = ct.connector_poll_state, t.parcels
        missing = conn.execute(
            sa.select(p.c.order_id, p.c.shipment_id, p.c.carrier, p.c.tracking_no)
            .select_from(
                p.outerjoin(ps, sa.and_(ps.c.order_id == p.c.order_id, ps.c.shipment_id == p.c.shipment_id))
            )
            .where(
                p.c.carrier.in_(codes),
                p.c.tracking_no.is_not(None),
                sa.or_(p.c.status.is_(None), p.c.status.not_in(TERMINAL)),
                ps.c.order_id.is_(None),
            )
        ).all()
        insert_or_ignore(
            conn,
            ps,
            [
                {
                    "order_id": r.order_id,
                    "shipment_id": r.shipment_id,
                    "carrier": r.carrier,
                    "tracking_no": r.tracking_no,
                    "next_poll_at": now,
                    "polls": 0,
                    "failures": 0,
                }
                for r in missing
            ],
            ["order_id", "shipment_id"],
        )
        done = conn.execute(
            sa.select(ps.c.order_id, ps.c.shipment_id)
            .join(p, sa.and_(ps.c.order_id == p.c.order_id, ps.c.shipment_id == p.c.shipment_id))
            .where(p.c.status.in_(TERMINAL))
        ).all()
        for r in done:
            conn.execute(ps.delete().where(ps.c.order_id == r.order_id, ps.c.shipment_id == r.shipment_id))

    def _due(self, conn: Connection, now: datetime) -> list[Any]:
        ps, p = ct.connector_poll_state, t.parcels
        return list(
            conn.execute(
                sa.select(
                    ps.c.order_id, ps.c.shipment_id, ps.c.carrier, ps.c.tracking_no, ps.c.failures, ps.c.polls
                )
                .join(p, sa.and_(ps.c.order_id == p.c.order_id, ps.c.shipment_id == p.c.shipment_id))
                .where(
                    ps.c.carrier.in_(sorted(self.carriers)),
                    ps.c.next_poll_at <= now,
                    sa.or_(ps.c.lease_until.is_(None), ps.c.lease_until <= now),
                    sa.or_(p.c.status.is_(None), p.c.status.not_in(TERMINAL)),
                )
                .order_by(ps.c.next_poll_at)
                .limit(self.batch)
            ).all()
        )

    def _key(self, row: Any) -> sa.ColumnElement[bool]:
        ps = ct.connector_poll_state
        return sa.and_(ps.c.order_id == row.order_id, ps.c.shipment_id == row.shipment_id)

    def _claim_parcel(self, row: Any, now: datetime) -> bool:
        ps = ct.connector_poll_state
        with self.core.db.write() as conn:
            claimed = conn.execute(
                ps.update()
                .where(
                    self._key(row),
                    ps.c.next_poll_at <= now,
                    sa.or_(ps.c.lease_until.is_(None), ps.c.lease_until <= now),
                )
                .values(lease_until=now + self.lease)
            )
            return bool(claimed.rowcount == 1)

    def _release(self, row: Any, now: datetime, next_poll_at: datetime | None, **values: Any) -> None:
        ps = ct.connector_poll_state
        if next_poll_at is not None:
            values["next_poll_at"] = next_poll_at
        with self.core.db.write() as conn:
            conn.execute(ps.update().where(self._key(row)).values(lease_until=None, **values))

    # ------------------------------------------------------------------ rate limit
    def _take_slot(self, code: str, remaining: float) -> bool:
        """Claim the carrier's next request slot, waiting for it if that fits in the run's budget."""
        cs = ct.connector_carrier_state
        hold = self.carriers[code].hold
        while True:
            wall = self.wall()
            with self.core.db.write() as conn:
                taken = conn.execute(
                    cs.update()
                    .where(
                        cs.c.carrier == code,
                        sa.or_(cs.c.next_slot_at.is_(None), cs.c.next_slot_at <= wall),
                        sa.or_(cs.c.backoff_until.is_(None), cs.c.backoff_until <= wall),
                    )
                    .values(next_slot_at=wall + hold, requests=cs.c.requests + 1, last_poll_at=wall)
                )
                if taken.rowcount == 1:
                    return True
                state = conn.execute(
                    sa.select(cs.c.next_slot_at, cs.c.backoff_until).where(cs.c.carrier == code)
                ).one()
            ready = max(x for x in (state.next_slot_at, state.backoff_until, wall) if x is not None)
            wait = (ready - wall).total_seconds()
            if wait > remaining:
                return False
            self.sleep(max(wait, 0.001))
            remaining -= max(wait, 0.001)
            if remaining < 0:
                return False

    def _end_slot(self, code: str) -> None:
        """The request is over: the next one may start ``spacing`` after its answer.

        The server saw the request somewhere between claim and answer; counting from the answer keeps every
        two requests (from any worker) at least ``spacing`` apart as the carrier measures them.
        """
        cs = ct.connector_carrier_state
        with self.core.db.write() as conn:
            conn.execute(
                cs.update()
                .where(cs.c.carrier == code)
                .values(next_slot_at=self.wall() + self.carriers[code].spacing)
            )

    # ------------------------------------------------------------------ one poll
    def _poll_one(self, row: Any, now: datetime, report: PollReport) -> bool:
        """Poll one parcel; False when the carrier must back off."""
        carrier = self.carriers[row.carrier]
        report.count(report.polled, row.carrier)
        try:
            try:
                mapped = carrier.proxy.fetch(row.tracking_no, order_id=row.order_id)
            finally:
                self._end_slot(row.carrier)
        except TrackingNotFound:
            self._release(
                row,
                now,
                now + timedelta(seconds=carrier.settings.poll_interval_s),
                last_poll_at=now,
                last_result="not_found",
                polls=row.polls + 1,
            )
            self._observe(row.carrier, "not_found")
            self._carrier_ok(row.carrier)
            return True
        except ConnectorError as exc:
            report.count(report.errors, row.carrier)
            self._backoff(row.carrier, exc)
            self._release(row, now, None, last_result=_result_name(exc), failures=row.failures + 1)
            self._observe(row.carrier, _result_name(exc))
            return False
        try:
            results = (
                self.core.ingest.ingest(mapped.events, source_hint=f"carrier:{row.carrier}")
                if mapped.events
                else []
            )
        except Exception as exc:  # storage trouble: keep the parcel due, try again next run
            log.exception("poll_ingest_failed", carrier=row.carrier, order_id=row.order_id)
            self._release(row, now, None, last_result="ingest_error", failures=row.failures + 1)
            self._observe(row.carrier, "ingest_error")
            self._record_error(row.carrier, f"ingest failed: {exc}"[:500])
            return True
        report.accepted_events += sum(1 for r in results if r.status == "accepted")
        statuses = [e["data"].get("status") for e in mapped.events if e.get("type") == "shipment.tracking"]
        latest = _latest_status(mapped.events)
        interval = carrier.settings.poll_interval_s
        if latest == "out_for_delivery":
            interval = min(interval, max(60, interval // 4))  # the delivery is close: look more often
        if latest in TERMINAL or "delivered" in statuses:
            with self.core.db.write() as conn:
                conn.execute(ct.connector_poll_state.delete().where(self._key(row)))
        else:
            self._release(
                row,
                now,
                now + timedelta(seconds=interval),
                last_poll_at=now,
                last_result="ok",
                polls=row.polls + 1,
                failures=0,
            )
        self._carrier_ok(row.carrier)
        self._observe(row.carrier, "ok")
        return True

    def _observe(self, code: str, result: str) -> None:
        if self.on_poll is not None:
            self.on_poll(code, result)

    def _carrier_ok(self, code: str) -> None:
        cs = ct.connector_carrier_state
        with self.core.db.write() as conn:
            conn.execute(
                cs.update()
                .where(cs.c.carrier == code)
                .values(consecutive_failures=0, last_success_at=self.wall(), backoff_until=None)
            )

    def _record_error(self, code: str, message: str) -> None:
        cs = ct.connector_carrier_state
        with self.core.db.write() as conn:
            conn.execute(
                cs.update()
                .where(cs.c.carrier == code)
                .values(errors=cs.c.errors + 1, last_error=message, last_error_at=self.wall())
            )

    def _backoff(self, code: str, exc: ConnectorError) -> None:
        """Exponential backoff with jitter, never shorter than Retry-After."""
        cs = ct.connector_carrier_state
        with self.core.db.write() as conn:
            failures = int(
                conn.execute(sa.select(cs.c.consecutive_failures).where(cs.c.carrier == code)).scalar_one()
            )
            failures += 1
            # Equal jitter: spread out, yet never near zero, so a failing carrier is really left alone.
            delay = backoff_delay(
                failures, self.base_backoff_s, self.max_backoff_s, jitter="equal", rand=self.rng.random()
            )
            retry_after = exc.retry_after if isinstance(exc, UpstreamError) else None
            if retry_after is not None:
                delay = max(delay, min(float(retry_after), self.max_backoff_s))
            wall = self.wall()
            conn.execute(
                cs.update()
                .where(cs.c.carrier == code)
                .values(
                    consecutive_failures=failures,
                    backoff_until=wall + timedelta(seconds=delay),
                    errors=cs.c.errors + 1,
                    last_error=str(exc)[:500],
                    last_error_at=wall,
                )
            )
        log.warning(
            "carrier_backoff", carrier=code, failures=failures, delay_s=round(delay, 2), error=str(exc)
        )


def _result_name(exc: ConnectorError) -> str:
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, UpstreamError):
        return "timeout_or_transport" if exc.status == 0 else f"http_{exc.status}"
    return "error"


def _latest_status(events: list[dict[str, Any]]) -> str | None:
    scans = [e for e in events if e.get("type") == "shipment.tracking" and e["data"].get("status")]
    if not scans:
        return None
    latest = max(scans, key=lambda e: datetime.fromisoformat(e["occurred_at"]))
    status = latest["data"].get("status")
    return str(status) if status else None


def polling_status(conn: Connection, carriers: dict[str, PolledCarrier], now: datetime) -> dict[str, Any]:
    """Per polled carrier: last poll, errors, backoff, parcels tracked and due, lag of the oldest due one."""
    cs, ps = ct.connector_carrier_state, ct.connector_poll_state
    states = {r.carrier: r for r in conn.execute(sa.select(cs))}
    out: dict[str, Any] = {}
    codes = sorted(set(carriers) | set(states))
    for code in codes:
        r = states.get(code)
        tracked = conn.execute(
            sa.select(sa.func.count()).select_from(ps).where(ps.c.carrier == code)
        ).scalar_one()
        due_row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(ps.c.next_poll_at)).where(
                ps.c.carrier == code, ps.c.next_poll_at <= now
            )
        ).one()
        oldest = due_row[1]
        out[code] = {
            "configured": code in carriers,
            "base_url": carriers[code].settings.base_url if code in carriers else None,
            "rate_limit_per_minute": carriers[code].settings.rate_limit_per_minute
            if code in carriers
            else None,
            "parcels_tracked": int(tracked),
            "parcels_due": int(due_row[0] or 0),
            "lag_seconds": max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
            "requests": int(r.requests) if r else 0,
            "errors": int(r.errors) if r else 0,
            "consecutive_failures": int(r.consecutive_failures) if r else 0,
            "last_poll_at": iso(r.last_poll_at) if r else None,
            "last_success_at": iso(r.last_success_at) if r else None,
            "last_error": r.last_error if r else None,
            "last_error_at": iso(r.last_error_at) if r else None,
            "backoff_until": iso(r.backoff_until) if r else None,
        }
    return out
