"""What every part of the monitors feature shares: the core, the config and calendar, this worker's
identity for timer claims, the WMS/TMS/OMS ports, and the ops alerts waiting for their transaction
to commit."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog

from deliveryhub.domain.order import Order
from deliveryhub.monitors.config import AutomationConfig
from deliveryhub.monitors.orchestration import HttpPorts, OmsPort, TmsPort, WmsPort
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.ports import OpsAlert

log = structlog.get_logger(__name__)


class Context:
    """The monitors feature's shared state, bound to one core and one config."""

    def __init__(self, core: Core, cfg: AutomationConfig) -> None:
        self.core = core
        self.cfg = cfg
        self.cal = cfg.calendar()
        self.worker = f"{socket.gethostname()[:20]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(minutes=5)
        self.ports = HttpPorts(cfg.orchestration)
        self.wms: WmsPort = self.ports
        self.tms: TmsPort = self.ports
        self.oms: OmsPort = self.ports
        # Per thread: a consumer batch, a timer or a sweep chunk collects its alerts and (during a
        # consumer batch) the active exceptions of its orders; workers run several of them at once.
        self._local = threading.local()

    @property
    def now(self) -> datetime:
        """The hub's time."""
        return self.core.clock.now()

    @property
    def partitions(self) -> int:
        """Bus partitions (outbox rows of one order share one)."""
        return int(self.core.settings.bus_partitions)

    def th(self, type_: str, order: Order | None = None, carrier: str | None = None) -> dict[str, Any]:
        """Thresholds of a monitor for an order (its carrier, warehouse and channel overrides)."""
        if order is None:
            return self.cfg.thresholds(type_, carrier=carrier)
        return self.cfg.thresholds(
            type_, carrier=carrier or order.carrier, warehouse=order.warehouse, channel=order.channel
        )

    # ------------------------------------------------------------ alerts
    def reset_alerts(self) -> None:
        """Start a unit of work: forget alerts of a rolled-back attempt."""
        self._local.alerts = []

    def alert(self, kind: str, key: str, subject: str, body: str, data: dict[str, Any]) -> None:
        """Queue an ops alert until the current transaction commits."""
        if not hasattr(self._local, "alerts"):
            self._local.alerts = []
        self._local.alerts.append(OpsAlert(kind, key, subject, body, data))

    def send_alerts(self) -> None:
        """Tell ops about what the committed transaction found (through the `ops_alerts` port)."""
        alerts: list[OpsAlert] = getattr(self._local, "alerts", [])
        self._local.alerts = []
        for a in alerts:
            try:
                self.core.ops_alerts.notify_ops(a)
            except Exception:  # an alert channel failing must not undo the detection
                log.exception("notify_ops_failed", key=a.key)

    # ------------------------------------------------------------ a consumer batch's active exceptions
    @property
    def active(self) -> dict[str, set[str]] | None:
        """Active exception types by subject for the consumer batch being applied (None outside one)."""
        return getattr(self._local, "active", None)

    @active.setter
    def active(self, value: dict[str, set[str]] | None) -> None:
        self._local.active = value
