"""ETA revisions (timer kind `eta`): after a carrier scan or hint, predict the parcel's delivery window
from transit history and announce it through ingest as a `shipment.eta_updated` from `tms` when it moved
enough to matter."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row

from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.order import Order, Parcel
from deliveryhub.kernel.timefmt import parse_datetime
from deliveryhub.monitors import eta as eta_mod
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.firing import Outcome


class EtaReviser:
    """The transit model (refitted from history every `refit_minutes`) and the revision step."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._model: eta_mod.TransitModel | None = None
        self._model_at: datetime | None = None
        self._lock = threading.Lock()

    def model(self, now: datetime) -> eta_mod.TransitModel:
        """The transit model, refitted when older than `refit_minutes` (or the clock went back)."""
        e, tz = self.ctx.cfg.eta, self.ctx.cal.tz
        with self._lock:
            if (
                self._model is None
                or self._model_at is None
                or now - self._model_at >= timedelta(minutes=e.refit_minutes)
                or now < self._model_at
            ):
                with self.ctx.core.db.read() as conn:
                    history = eta_mod.load_history(conn, now, e.history_days, e.origin_regions, tz)
                self._model = eta_mod.TransitModel(e.min_samples, e.lower_quantile, e.upper_quantile, tz).fit(
                    history
                )
                self._model_at = now
            return self._model

    def refit(self) -> None:
        """Forget the cached model (history changed a lot, e.g. after an import)."""
        with self._lock:
            self._model = None

    def predict(
        self, order: Order, parcel: Parcel, now: datetime, hint: dict[str, Any] | None
    ) -> eta_mod.EtaWindow | None:
        """The current ETA window of a parcel."""
        e = self.ctx.cfg.eta
        window = None
        if parcel.handed_over_at is not None:
            window = self.model(now).predict(
                parcel.carrier or "?",
                eta_mod.origin_of(order.warehouse, e.origin_regions),
                order.region or "?",
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
        hmin, hmax = parse_datetime((hint or {}).get("eta_min")), parse_datetime((hint or {}).get("eta_max"))
        if hmin and hmax and hmax >= now:
            window = eta_mod.apply_hint(window, hmin, hmax, timedelta(minutes=e.hint_margin_minutes), now)
        return window

    def fire(self, timer: Row[Any], now: datetime) -> Outcome:
        """Revise one parcel's ETA."""
        payload = timer.payload or {}
        sid = payload.get("shipment_id")
        with self.ctx.core.db.read() as conn:
            order = load_order(conn, timer.order_id)
        parcel = order.find_parcel(str(sid)) if order is not None and sid is not None else None
        if order is None or parcel is None or parcel.delivered_at is not None or order.closed:
            return Outcome("skipped")
        window = self.predict(order, parcel, now, payload.get("hint"))
        if window is None:
            return Outcome("no prediction: not enough history")
        min_change = timedelta(minutes=self.ctx.cfg.eta.min_change_minutes)
        if not eta_mod.changed(parcel.eta_min, parcel.eta_max, window, min_change):
            return Outcome("unchanged")
        trigger = payload.get("trigger") or now.isoformat()
        res = self.ctx.core.ingest.ingest(
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
