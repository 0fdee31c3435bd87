"""The Naver polling job: last-changed-statuses since the hub's cursor -> details -> canonical events.

Each hub (each shop) polls with its own seller credentials (``connector_settings(core, "naver")``) and keeps
its own cursor in ``connector_cursors`` (source ``naver``). A cycle reads at most 24 hours of changes (the
API's window), re-reading ``overlap_s`` before the cursor: events have stable ids, so what was seen before
is an inbox duplicate. The cursor moves only after the cycle's events are stored. The row's ``updated_at``
is also the lease: a worker claims a cycle with a conditional UPDATE, so two workers of one hub never poll
at once, and a 429's Retry-After (or a failure's backoff) holds every worker. Unknown codes are
quarantined (once per reason per process).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors.base import RateLimited, UpstreamError
from deliveryhub.adapters.connectors.naver import CODE, SOURCE, NaverSettings
from deliveryhub.adapters.connectors.naver.client import NaverClient
from deliveryhub.adapters.connectors.naver.mapper import map_details
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors import cursors
from deliveryhub.contracts.events import ContractError

if TYPE_CHECKING:
    import httpx

    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

JOB_NAME = "connectors.naver.poll"
EVERY_S = 30.0
WINDOW = timedelta(hours=24)  # the longest lastChangedFrom..lastChangedTo Naver answers
MAX_WINDOWS = 7
BACKOFF_S = 60.0
MAX_BACKOFF_S = 1800.0


def read_cursor(core: Core, source: str = SOURCE) -> datetime | None:
    """Where polling of ``source`` left off in this hub, or None before the first cycle."""
    return cursors.read_time(core, source)


def write_cursor(core: Core, at: datetime, now: datetime, source: str = SOURCE) -> None:
    """Move the cursor of ``source`` to ``at``."""
    cursors.write(core, source, at.isoformat(), now)


def bind_parcels(core: Core, events: list[dict[str, Any]]) -> None:
    """Naver's parcel events name the parcel by its tracking number; a parcel the hub already knows under
    that number (e.g. the TMS's waybill we wrote back) keeps its own shipment id, so it is not doubled."""
    wanted = {(e["order_id"], e["shipment_id"]) for e in events if e.get("shipment_id")}
    if not wanted:
        return
    parcels = t.parcels
    with core.db.read() as conn:
        rows = conn.execute(
            sa.select(parcels.c.order_id, parcels.c.shipment_id, parcels.c.tracking_no).where(
                parcels.c.order_id.in_(sorted({o for o, _ in wanted})),
                parcels.c.tracking_no.in_(sorted({n for _, n in wanted})),
            )
        ).all()
    known = {(r.order_id, r.tracking_no): r.shipment_id for r in rows}
    for event in events:
        shipment = known.get((event["order_id"], event.get("shipment_id")))
        if shipment is not None:
            event["shipment_id"] = shipment


CANCEL_CLAIMS = ("CANCEL", "ADMIN_CANCEL")


def known_product_orders(core: Core, changes: list[dict[str, Any]]) -> list[str]:
    """The other product orders the hub knows of the orders a cancel touched (from their order.created), so
    their details are read too: a cancel of one product order is then told from a cancel of the whole order
    (the mapper cancels the order only when every product order of it is cancelled)."""
    orders = sorted(
        {
            str(c["orderId"])
            for c in changes
            if c.get("orderId")
            and (
                c.get("claimType") in ("CANCEL", "ADMIN_CANCEL") or c.get("productOrderStatus") == "CANCELED"
            )
        }
    )
    if not orders:
        return []
    inbox = t.inbox
    with core.db.read() as conn:
        rows = conn.execute(
            sa.select(inbox.c.data).where(
                inbox.c.source == SOURCE, inbox.c.type == "order.created", inbox.c.order_id.in_(orders)
            )
        ).all()
    found: list[str] = []
    for row in rows:
        market = row.data.get("marketplace") if isinstance(row.data, dict) else None
        for po_id in (market or {}).get("product_order_ids") or []:
            if str(po_id) not in found:
                found.append(str(po_id))
    return found


class NaverPollJob:
    """One poll cycle per interval for this hub's seller account."""

    def __init__(self, core: Core, *, transport: httpx.BaseTransport | None = None) -> None:
        self.core = core
        self.transport = transport
        self.not_before: datetime | None = None
        self.failures = 0
        self.last_error: str | None = None
        self._quarantined: set[str] = set()

    def settings(self) -> NaverSettings | None:
        """This hub's Naver settings, or None while no seller application is configured."""
        from deliveryhub.connectors.writeback import connector_settings

        settings = connector_settings(self.core, CODE)
        if (
            not isinstance(settings, NaverSettings)
            or not settings.client_id
            or settings.client_secret is None
        ):
            return None
        return settings

    def run(self, now: datetime | None = None) -> int:
        """Poll when due; returns how many new events were stored (0 when not due or not configured)."""
        now = now or self.core.clock.now()
        if self.not_before is not None and now < self.not_before:
            return 0
        settings = self.settings()
        if settings is None:
            return 0
        interval = float(settings.poll_interval_s)
        if not cursors.claim(self.core, SOURCE, now, interval):
            return 0  # another worker polled this hub's account within the interval
        try:
            stored = self.cycle(settings, now)
        except RateLimited as exc:
            self._back_off(now, exc.retry_after, str(exc), interval)
            return 0
        except UpstreamError as exc:
            self._back_off(now, None, str(exc), interval)
            return 0
        self.failures, self.last_error = 0, None
        self.not_before = now + timedelta(seconds=settings.poll_interval_s)
        return stored

    def cycle(self, settings: NaverSettings, now: datetime) -> int:
        """One poll: up to MAX_WINDOWS 24-hour windows from the cursor (a hub that was down catches up),
        each one's changed statuses and details ingested before the cursor moves past it."""
        stored = 0
        with NaverClient(settings, transport=self.transport) as client:
            for _ in range(MAX_WINDOWS):
                cursor = read_cursor(self.core)
                since = (
                    cursor - timedelta(seconds=settings.overlap_s)
                    if cursor is not None
                    else now - timedelta(hours=min(settings.initial_lookback_hours, 24))
                )
                until = min(now, since + WINDOW)
                stored += self._window(client, since, until, now)
                if until >= now:
                    break
        return stored

    def _window(self, client: NaverClient, since: datetime, until: datetime, now: datetime) -> int:
        changes: list[dict[str, Any]] = []
        for page in client.last_changed(since, until):
            changes.extend(page)
        ids = list(dict.fromkeys(str(c["productOrderId"]) for c in changes if c.get("productOrderId")))
        ids += [i for i in known_product_orders(self.core, changes) if i not in ids]
        details = client.details(ids) if ids else []
        mapped = map_details(details, changes)
        bind_parcels(self.core, mapped.events)
        stored = 0
        if mapped.events:
            results = self.core.ingest.ingest(mapped.events, source_hint=SOURCE)
            stored = sum(1 for r in results if r.status == "accepted")
        self._quarantine(mapped.unmapped, now)
        write_cursor(self.core, until, now)
        log.info("naver_polled", changes=len(changes), details=len(details), events=len(mapped.events))
        return stored

    def _back_off(self, now: datetime, retry_after: float | None, error: str, interval_s: float) -> None:
        self.failures += 1
        self.last_error = error[:500]
        backoff = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (self.failures - 1))
        self.not_before = now + timedelta(seconds=retry_after if retry_after is not None else backoff)
        cursors.hold(self.core, SOURCE, self.not_before, interval_s)
        log.warning(
            "naver_poll_failed", error=self.last_error, retry_in_s=(self.not_before - now).total_seconds()
        )

    def _quarantine(self, reasons: list[str], now: datetime) -> None:
        fresh = [r for r in dict.fromkeys(reasons) if r not in self._quarantined]
        if not fresh:
            return
        rejected = [
            (
                i,
                {"source": SOURCE, "type": "x-naver.unmapped", "order_id": None, "data": {"reason": r}},
                ContractError("naver_unmapped", r, "data"),
            )
            for i, r in enumerate(fresh)
        ]
        with self.core.db.write() as conn:
            self.core.ingest.quarantine(conn, rejected, now, SOURCE)
        self._quarantined.update(fresh)
