"""Plug the monitors feature into the core: its consumer, the `timers` and `monitors` jobs, the order
page's exceptions section and the `exceptions` port; returns the feature's handle for `Hub.monitors`.
An invalid config file stops the start with a message naming the line."""

from __future__ import annotations

from deliveryhub.monitors import read
from deliveryhub.monitors.config import load_config
from deliveryhub.monitors.service import TOPICS, MonitorService
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.messaging import Consumer
from deliveryhub.service_layer.scheduler import Job


def register(core: Core) -> MonitorService:
    """Wire the `monitors` consumer and jobs and the order section; the handle (its `exceptions` is the
    core.exceptions provider, pointed at by bootstrap)."""
    cfg = load_config(core.settings.config_file)
    svc = MonitorService(core, cfg)
    core.order_sections["exceptions"] = read.order_section
    core.consumers.append(Consumer("monitors", svc.handle, topics=TOPICS, after_commit=svc.after_commit))
    core.jobs.append(Job("timers", 5.0, lambda now: svc.fire_due()))
    core.jobs.append(Job("monitors", 600.0, lambda now: svc.sweep()))
    return svc
