"""The ``connectors.coupang`` job: poll one seller's Wing by time window, ingest, acknowledge new orders.

A cycle runs at most every ``order_poll_s`` across all workers (the ``coupang:lease`` row of
``connector_cursors`` is claimed with a conditional UPDATE). It reads the window ``[cursor - overlap, now]``
(at most 24 hours, Coupang's per-minute ``searchType=timeFrame`` form): ordersheets of every configured
status, return requests (RU 출고중지요청, UC 반품접수), buyers' cancels (the same list with
``cancelType=CANCEL``) and exchange requests, every ``nextToken`` page; maps
and ingests the pages (duplicates are no-ops), quarantines what the mapper could not map, and sends 상품준비중
(acknowledgement) for boxes still in ``ACCEPT`` — acknowledged boxes are listed as ``INSTRUCT`` afterwards,
so each is acknowledged once. The window's end (row ``coupang``) is saved only when the whole window was
read; a 429 (Retry-After) or a 5xx leaves it and backs off. Every ``rescan_s`` a per-day rescan of the last
``rescan_days`` (row ``coupang:rescan``) picks up later statuses of older orders (shipped from Wing itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors.base import ConnectorError, UpstreamError
from deliveryhub.adapters.connectors.coupang import CODE, SOURCE, CoupangSettings
from deliveryhub.adapters.connectors.coupang.client import CoupangClient
from deliveryhub.adapters.connectors.coupang.mapper import KST, PARTIAL_CANCEL, map_payload
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors import cursors
from deliveryhub.contracts.events import ContractError

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

JOB_NAME = "connectors.coupang"
EVERY_S = 30.0
MAX_WINDOW = timedelta(hours=24)
DEFAULT_BACKOFF_S = 60.0
RESCAN = f"{SOURCE}:rescan"  # connector_cursors row of the per-day status rescan
LEASE = f"{SOURCE}:lease"  # connector_cursors row whose updated_at is the last claimed cycle


@dataclass
class CoupangPollReport:
    """What one run did."""

    pages: int = 0
    rescanned: bool = False
    events: int = 0
    accepted: int = 0
    acknowledged: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)  # ACCEPT boxes seen, to acknowledge
    unmapped: list[str] = field(default_factory=list)
    error: str | None = None
    window: tuple[str, str] | None = None


def read_cursor(core: Core, key: str = SOURCE) -> tuple[datetime | None, datetime | None]:
    """The saved window end and when it was saved (None, None before the first poll)."""
    end = cursors.read_time(core, key)
    return (end, cursors.read(core, key)[1]) if end is not None else (None, None)


def save_cursor(core: Core, end: datetime, now: datetime, key: str = SOURCE) -> None:
    """Save the window end (this source's row; the status rescan keeps its own under RESCAN)."""
    cursors.write(core, key, end.isoformat(), now)


class CoupangPoller:
    """One hub's (shop's) Coupang ordersheet poller; ``transport`` and ``settings`` are test seams."""

    def __init__(
        self,
        core: Core,
        *,
        settings: CoupangSettings | None = None,
        transport: httpx.BaseTransport | None = None,
        wall: Any = None,
    ) -> None:
        self.core = core
        self._settings = settings
        self._transport = transport
        self.wall = wall or (lambda: datetime.now(UTC))
        self.backoff_until: datetime | None = None

    def settings(self) -> CoupangSettings:
        """This hub's Coupang settings (its config file over the environment)."""
        if self._settings is not None:
            return self._settings
        from deliveryhub.connectors.writeback import connector_settings

        found = connector_settings(self.core, CODE)
        assert isinstance(found, CoupangSettings)
        return found

    def run(self, now: datetime | None = None, *, force: bool = False) -> CoupangPollReport:
        """Poll one window if due (``force``: now); never raises on vendor trouble."""
        report = CoupangPollReport()
        try:
            settings = self.settings()
        except ValueError as exc:  # an unreadable config file: say so, poll nothing
            report.error = f"settings: {exc}"[:300]
            log.warning("coupang_settings_unreadable", error=report.error)
            return report
        if not settings.configured:
            return report
        now = now or self.core.clock.now()
        if not force and self.backoff_until is not None and self.wall() < self.backoff_until:
            return report
        if not cursors.claim(self.core, LEASE, now, settings.order_poll_s, force=force):
            return report  # polled less than order_poll_s ago, by this worker or another
        cursor, _ = read_cursor(self.core)
        start = (cursor - timedelta(minutes=settings.window_overlap_minutes)) if cursor else None
        start = start or now - timedelta(hours=settings.first_window_hours)
        end = min(now, start + MAX_WINDOW)
        report.window = (start.isoformat(), end.isoformat())
        client = CoupangClient(settings, transport=self._transport)
        try:
            for status in [s.strip() for s in settings.statuses.split(",") if s.strip()]:
                for page in client.ordersheets(start.astimezone(KST), end.astimezone(KST), status):
                    self._page(page, report)
            self._acknowledge(client, settings, report)
            self._claims(client, settings, start.astimezone(KST), end.astimezone(KST), report)
        except ConnectorError as exc:
            self._backoff(exc, report)
            return report
        save_cursor(self.core, end, now)
        self.backoff_until = None
        try:
            self._rescan(client, settings, now, force, report)
        except ConnectorError as exc:
            self._backoff(exc, report)
        return report

    def _claims(
        self,
        client: CoupangClient,
        settings: CoupangSettings,
        start: datetime,
        end: datetime,
        report: CoupangPollReport,
    ) -> None:
        """Return (출고중지/반품), cancel (cancelType=CANCEL) and exchange requests created in the window."""
        for status in [s.strip() for s in settings.return_statuses.split(",") if s.strip()]:
            for page in client.return_requests(start, end, status):
                self._page(page, report)
        if settings.cancels:
            for page in client.cancel_requests(start, end):
                self._page(page, report)
        if settings.exchanges:
            for page in client.exchange_requests(start, end):
                self._page(page, report)

    def _rescan(
        self,
        client: CoupangClient,
        settings: CoupangSettings,
        now: datetime,
        force: bool,
        report: CoupangPollReport,
    ) -> None:
        """Re-read later statuses of the last days' orders (per day), at most every ``rescan_s``."""
        statuses = [s.strip() for s in settings.rescan_statuses.split(",") if s.strip()]
        if not statuses or settings.rescan_days <= 0:
            return
        _, saved_at = read_cursor(self.core, RESCAN)
        if not force and saved_at is not None and (now - saved_at).total_seconds() < settings.rescan_s:
            return
        start = (now - timedelta(days=min(settings.rescan_days, 30))).astimezone(KST)
        for status in statuses:
            for page in client.ordersheets(start, now.astimezone(KST), status, by_day=True):
                self._page(page, report)
        self._acknowledge(client, settings, report)  # only if ACCEPT is among rescan_statuses
        save_cursor(self.core, now, now, RESCAN)
        report.rescanned = True

    def _page(self, page: Any, report: CoupangPollReport) -> None:
        report.pages += 1
        mapped = map_payload(page, open_lines=self._open_lines(page))
        report.events += len(mapped.events)
        if mapped.events:
            results = self.core.ingest.ingest(mapped.events, source_hint=SOURCE)
            report.accepted += sum(1 for r in results if r.status == "accepted")
        if mapped.unmapped:
            report.unmapped.extend(mapped.unmapped)
            self._quarantine(page, mapped.unmapped)
        rows = page.get("data") if isinstance(page, dict) else None
        for sheet in rows if isinstance(rows, list) else []:
            if isinstance(sheet, dict) and sheet.get("status") == "ACCEPT" and sheet.get("shipmentBoxId"):
                box = int(sheet["shipmentBoxId"])
                if box not in report.pending and box not in report.acknowledged:
                    report.pending.append(box)

    def _open_lines(self, page: Any) -> dict[str, dict[str, int]] | None:
        """For a page of CANCEL receipts: per order, each vendor item's quantity still open in the hub (its
        order.created items minus the items of cancels already recorded as partial), so the mapper can tell
        a cancel of the whole order from a cancel of some items. None for other pages."""
        rows = page.get("data") if isinstance(page, dict) else None
        orders = sorted(
            {
                str(r["orderId"])
                for r in (rows if isinstance(rows, list) else [])
                if isinstance(r, dict) and r.get("orderId") and r.get("receiptType") in ("CANCEL", "취소")
            }
        )
        if not orders:
            return None
        receipts = {str(r.get("receiptId")) for r in rows if isinstance(r, dict)}  # type: ignore[union-attr]
        inbox = t.inbox
        with self.core.db.read() as conn:
            found = conn.execute(
                sa.select(inbox.c.order_id, inbox.c.type, inbox.c.data)
                .where(
                    inbox.c.source == SOURCE,
                    inbox.c.order_id.in_(orders),
                    inbox.c.type.in_(["order.created", PARTIAL_CANCEL]),
                )
                .order_by(inbox.c.id)
            ).all()
        lines: dict[str, dict[str, int]] = {}
        for row in found:
            data = row.data if isinstance(row.data, dict) else {}
            if row.type == "order.created":
                open_ = lines.setdefault(str(row.order_id), {})
                for item in data.get("items") or []:
                    if isinstance(item, dict) and item.get("vendor_item_id"):
                        key = str(item["vendor_item_id"])
                        open_[key] = open_.get(key, 0) + int(item.get("qty") or 1)
        for row in found:
            data = row.data if isinstance(row.data, dict) else {}
            left = lines.get(str(row.order_id))
            mine = str(data.get("receipt_id")) in receipts  # this page's own receipt, seen before
            if row.type == PARTIAL_CANCEL and left is not None and not mine:
                for item in data.get("items") or []:
                    key = str(item.get("vendor_item_id") or item.get("sku")) if isinstance(item, dict) else ""
                    if key in left:
                        left[key] = max(0, left[key] - int(item.get("qty") or 1))
        return lines

    def _quarantine(self, page: Any, reasons: list[str]) -> None:
        reason = "; ".join(sorted(set(reasons)))[:1000]
        item = json.loads(json.dumps(page, ensure_ascii=False, default=str))
        error = ContractError("unmapped", f"coupang: {reason}", "data")
        q = t.quarantine
        with self.core.db.write() as conn:
            known = conn.execute(
                sa.select(q.c.id).where(
                    q.c.source == SOURCE, q.c.reason == error.message, q.c.status == "open"
                )
            ).first()
            if known is not None:
                return  # the same page seen again (overlap, rescan): one open quarantine row is enough
            self.core.ingest.quarantine(conn, [(0, item, error)], self.core.clock.now(), SOURCE)
        log.warning("coupang_unmapped", reasons=len(reasons))

    def _acknowledge(
        self, client: CoupangClient, settings: CoupangSettings, report: CoupangPollReport
    ) -> None:
        boxes, report.pending = report.pending, []
        if not settings.acknowledge:
            return
        for i in range(0, len(boxes), 50):
            answer = client.acknowledge(boxes[i : i + 50])
            for row in answer.get("responseList") or []:
                if isinstance(row, dict) and row.get("succeed"):
                    report.acknowledged.append(int(row["shipmentBoxId"]))
                elif isinstance(row, dict):
                    log.warning(
                        "coupang_ack_refused", box=row.get("shipmentBoxId"), code=row.get("resultCode")
                    )

    def _backoff(self, exc: ConnectorError, report: CoupangPollReport) -> None:
        retry_after = exc.retry_after if isinstance(exc, UpstreamError) else None
        delay = retry_after if retry_after is not None else DEFAULT_BACKOFF_S
        self.backoff_until = self.wall() + timedelta(seconds=delay)
        report.error = f"{type(exc).__name__}: {exc}"[:300]
        log.warning("coupang_poll_failed", error=report.error, retry_in_s=delay)
