"""Plug the after-sales feature into the core (the returns workflow); its handle goes on `Hub.aftersales`.

It provides `core.returns` (the desk), one consumer that advances returns from after-sales events, the
SLA job that reports stalled returns, and the `returns` section of GET /v1/orders/{id}."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from deliveryhub.aftersales import queries
from deliveryhub.aftersales.desk import Desk
from deliveryhub.aftersales.sla import INTERVAL_SECONDS, check_stalled, complete_exchanges
from deliveryhub.aftersales.workflow import TOPICS, Workflow
from deliveryhub.domain.messages import Consumer, Message
from deliveryhub.domain.returns import ReturnPolicy, load_return_policy
from deliveryhub.kernel import configfile
from deliveryhub.kernel.calendar import BusinessCalendar
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.scheduler import Job

CONSUMER = "aftersales"
JOB_NAME = "aftersales.stalled"


def load_calendar(config_file: Path | str | None) -> BusinessCalendar:
    """The shop's business calendar from the config file's `business_hours:` and `timezone:`."""
    doc = configfile.read_optional(config_file)
    section = doc.mapping("business_hours") or {}
    zone = doc.raw("timezone")
    return BusinessCalendar.from_settings(section, tz=str(zone) if zone else None)


@dataclass
class AftersalesFeature:
    """What the rest of the hub uses of the after-sales feature."""

    desk: Desk
    workflow: Workflow
    core: Core

    def policy(self) -> ReturnPolicy:
        """The return policy in force (the config file's `returns:` section)."""
        return load_return_policy(self.core.settings.config_file)

    def get_return(self, return_id: str) -> dict[str, Any] | None:
        """One return's state and steps (GET /v1/returns/{id})."""
        with self.core.db.read() as conn:
            return queries.get_return(conn, return_id, self.core.clock.now())

    def list_returns(self, **filters: Any) -> list[dict[str, Any]]:
        """Returns, newest first (GET /v1/returns)."""
        with self.core.db.read() as conn:
            return queries.list_returns(conn, self.core.clock.now(), **filters)

    def stalled(self, now: Any) -> int:
        """Run the SLA check once (the job does it every few minutes)."""
        return check_stalled(self.core, now)


def register(core: Core) -> AftersalesFeature:
    """Wire the returns workflow: `core.returns`, its consumer, SLA job and order section."""
    config_file = core.settings.config_file
    load_return_policy(config_file)  # a bad `returns:` section fails at start, naming its line
    load_calendar(config_file)

    def policy() -> ReturnPolicy:
        return load_return_policy(config_file)

    def calendar() -> BusinessCalendar:
        return load_calendar(config_file)

    workflow = Workflow(core, policy, calendar)
    desk = Desk(core, workflow, policy, calendar)
    core.returns = desk

    def after_commit(messages: Sequence[Message]) -> None:
        # a delivered replacement completes its exchange: recorded after the batch, as its own event
        orders = workflow.delivered_orders(messages)
        if orders:
            complete_exchanges(core, orders)

    core.consumers.append(Consumer(CONSUMER, workflow.handle, topics=TOPICS, after_commit=after_commit))
    core.jobs.append(Job(JOB_NAME, INTERVAL_SECONDS, lambda now: check_stalled(core, now)))

    def section(conn: Connection, order_id: str, _principal: Any) -> list[dict[str, Any]]:
        return queries.for_order(conn, order_id, core.clock.now())

    core.order_sections["returns"] = section
    return AftersalesFeature(desk, workflow, core)
