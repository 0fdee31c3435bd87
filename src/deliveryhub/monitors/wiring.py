"""Plug the automation feature into the hub: consumer, jobs, services, order section and routes.
An invalid config file stops the start with a message naming the line."""

from __future__ import annotations

from typing import Any

from deliveryhub.monitors.config import load_config
from deliveryhub.monitors.service import TOPICS, MonitorService
from deliveryhub.service_layer.messaging import Consumer
from deliveryhub.service_layer.scheduler import Job


def _ensure_tables(hub: Any) -> None:
    """Create tables added after a database was migrated (idempotent)."""
    from deliveryhub.adapters.persistence.tables import metadata
    from deliveryhub.monitors.tables import oms_updates

    metadata.create_all(hub.db.engine, tables=[oms_updates], checkfirst=True)


def register(hub: Any) -> None:
    """Wire the `monitors` consumer, the `timers` and `monitors` jobs, services and the API router."""
    cfg = load_config(getattr(hub.settings, "config_file", None))
    _ensure_tables(hub)
    svc = MonitorService(hub, cfg)
    hub.services["monitors"] = svc
    hub.services["orders_with_exception"] = svc.orders_with_exception
    hub.services["open_exception"] = svc.open_exception_service
    hub.order_sections["exceptions"] = svc.order_section
    hub.consumers.append(Consumer("monitors", svc.handle, topics=TOPICS, after_commit=svc.after_commit))
    hub.jobs.append(Job("timers", 5.0, lambda now: svc.fire_due()))
    hub.jobs.append(Job("monitors", 600.0, lambda now: svc.sweep()))
    from deliveryhub.monitors.api import router

    hub.routers.append(router)
