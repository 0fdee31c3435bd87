"""The monitors feature's handle: one object bound to a core and a config that holds its parts — the
consumer (consumer.py), timer firing (firing.py) with its outbound steps (calls.py, oms_updates.py,
eta_revision.py), the sweep (sweep.py), exception records (exceptions.py), compensation and the read side
(read.py) — and is what bootstrap keeps as the hub's `monitors`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.domain.order import Order, Parcel
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors import eta as eta_mod
from deliveryhub.monitors import read
from deliveryhub.monitors.calls import Orchestration
from deliveryhub.monitors.config import AutomationConfig
from deliveryhub.monitors.consumer import TOPICS, MonitorConsumer
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.eta_revision import EtaReviser
from deliveryhub.monitors.exceptions import ExceptionPort, transition
from deliveryhub.monitors.firing import ExternalHandler, InTxHandler, Outcome, TimerFiring
from deliveryhub.monitors.oms_updates import fire_oms
from deliveryhub.monitors.sweep import sweep
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.messaging import Message

__all__ = ["TOPICS", "MonitorService", "pending_timers", "run_all_monitors"]


class MonitorService:
    """Everything the monitors feature does, bound to one core and one config."""

    def __init__(self, core: Core, cfg: AutomationConfig) -> None:
        self.ctx = Context(core, cfg)
        self.consumer = MonitorConsumer(self.ctx)
        self.firing = TimerFiring(self.ctx)
        self.eta = EtaReviser(self.ctx)
        self.orchestration = Orchestration(self.ctx)
        self.exceptions = ExceptionPort(self.ctx)
        self.firing.external.update(
            {
                "eta": self.eta.fire,
                "wms_reserve": self.orchestration.fire_wms,
                "tms_waybill": self.orchestration.fire_tms,
                "compensation": lambda timer, now: Outcome(
                    comp.issue(self.ctx, int((timer.payload or {})["id"]), now)
                ),
                "oms_update": lambda timer, now: fire_oms(self.ctx, timer, now),
            }
        )

    # ------------------------------------------------------------ state tests and callers reach
    @property
    def cfg(self) -> AutomationConfig:
        """The automation config."""
        return self.ctx.cfg

    @property
    def cal(self) -> BusinessCalendar:
        """The shop's business calendar."""
        return self.ctx.cal

    @property
    def now(self) -> datetime:
        """The hub's time."""
        return self.ctx.now

    @property
    def in_tx(self) -> dict[str, InTxHandler]:
        """Timer kinds fired inside the transaction that marks them fired."""
        return self.firing.in_tx

    @property
    def external(self) -> dict[str, ExternalHandler]:
        """Timer kinds fired outside it (outbound calls), reporting an Outcome."""
        return self.firing.external

    @property
    def db(self) -> Database:
        """The hub's database."""
        return self.ctx.core.db

    # ------------------------------------------------------------ consumer and jobs
    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Consumer `monitors`: react to each canonical event in the consumer's transaction."""
        self.consumer.handle(conn, messages)

    def after_commit(self, messages: Sequence[Message]) -> None:
        """Consumer hook: alerts go out only once their exceptions are committed."""
        self.consumer.after_commit(messages)

    def fire_due(self, now: datetime | None = None, max_rounds: int = 50) -> dict[str, int]:
        """Job `timers`: claim and fire every due timer; counts by kind and result."""
        return self.firing.fire_due(now, max_rounds)

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        """Job `monitors`: evaluate every time-based monitor over every open order."""
        return sweep(self.ctx, now)

    def run_once(self) -> dict[str, Any]:
        """Fire due timers, then evaluate every monitor over every open order."""
        now = self.now
        fired = self.fire_due(now)
        swept = self.sweep(now)
        # Compensations proposed by the sweep are issued right away.
        for k, v in self.fire_due(now).items():
            fired[k] = fired.get(k, 0) + v
        return {"at": now.isoformat(), "timers": fired, "opened_by_sweep": swept, "open": self.open_counts()}

    # ------------------------------------------------------------ ETA
    def model(self, now: datetime) -> eta_mod.TransitModel:
        """The transit model, refitted from history every `refit_minutes`."""
        return self.eta.model(now)

    def refit(self) -> None:
        """Forget the cached transit model."""
        self.eta.refit()

    def predict(
        self, order: Order, parcel: Parcel, now: datetime, hint: dict[str, Any] | None
    ) -> eta_mod.EtaWindow | None:
        """The current ETA window of a parcel."""
        return self.eta.predict(order, parcel, now, hint)

    # ------------------------------------------------------------ operators
    def transition(
        self, exc_id: int, action: str, actor: str, note: str | None, assignee: str | None = None
    ) -> dict[str, Any]:
        """Acknowledge, resolve or assign an exception (raises NotFound / InvalidTransition)."""
        return transition(self.ctx, exc_id, action, actor, note, assignee)

    def decide_compensation(self, comp_id: int, approve: bool, actor: str) -> dict[str, Any]:
        """Approve (and issue) or reject a compensation awaiting approval."""
        return comp.decide(self.ctx, comp_id, approve, actor)

    def issue_compensation(
        self, comp_id: int, now: datetime | None = None, actor: str = "system:monitors"
    ) -> str:
        """Issue an approved compensation through ingest; a second call is a no-op."""
        return comp.issue(self.ctx, comp_id, now, actor)

    # ------------------------------------------------------------ read side
    def orders_with_exception(self, conn: Connection, type_: str) -> list[str]:
        """Orders that have an active exception of this type."""
        return self.exceptions.orders_with_exception(conn, type_)

    def order_section(self, conn: Connection, order_id: str, principal: Any) -> list[dict[str, Any]]:
        """The order's exceptions (newest first) for GET /v1/orders/{id}."""
        return read.order_section(conn, order_id, principal)

    def open_counts(self) -> dict[str, int]:
        """Active exceptions by type."""
        return read.open_counts(self.db)


def run_all_monitors(monitors: MonitorService | None) -> dict[str, Any]:
    """Evaluate every monitor now (CLI `monitors run-once`, tests, operators); give it `hub.monitors`."""
    if monitors is None:
        raise RuntimeError("the monitors feature is not wired into this hub")
    return monitors.run_once()


def pending_timers(hub: Core) -> int:
    """How many timers are waiting (for health pages)."""
    return read.count_pending_timers(hub.db)
