"""Plug notifications into the hub: consumer, jobs, routes, order section, services."""

from __future__ import annotations

from typing import Any

from deliveryhub.notifications.dispatcher import TOPICS, Dispatcher, build_channels
from deliveryhub.notifications.facts import order_notices
from deliveryhub.notifications.rules import load_rules
from deliveryhub.notifications.settings import NotificationSettings
from deliveryhub.service_layer.messaging import Consumer
from deliveryhub.service_layer.scheduler import Job


def register(hub: Any) -> None:
    """Wire the notification engine (rules are validated now: a bad rules file stops the start)."""
    from deliveryhub.notifications import api, links, tracking

    settings = NotificationSettings()
    rules = load_rules(settings.notification_rules)
    dispatcher = Dispatcher(hub, rules, build_channels(hub.settings, settings), settings)
    hub.consumers.append(Consumer("notifications", dispatcher.handle, topics=TOPICS))
    hub.jobs.append(Job("notifications.send", 1.0, dispatcher.send_due))
    hub.jobs.append(Job("notifications.notice_missing", 60.0, dispatcher.check_missing))
    hub.jobs.append(Job("notifications.receipts", 60.0, dispatcher.poll_receipts))
    hub.routers.append(api.router)
    hub.routers.append(tracking.router)
    hub.order_sections["notifications"] = lambda conn, order_id, _principal: order_notices(conn, order_id)
    hub.services["notify_ops"] = dispatcher.notify_ops
    hub.services["notifications"] = dispatcher
    # Work waiting in the background, for anything that wants a quiet hub (benchmarks, health).
    hub.services.setdefault("backlogs", {})["notifications"] = dispatcher.due_backlog
    hub.services["notification_preferences"] = _preferences_service(hub)
    # Tracking links (links.py): made at send time, never stored; one check for everyone.
    hub.services["tracking_links"] = {
        "max_days": settings.tracking_link_max_days,
        "shop_name": settings.shop_name,
        "shop_contact": settings.shop_contact,
    }
    hub.services["tracking_url"] = lambda order_id: links.issue_link(hub, order_id)
    # The chatbot accepts a valid tracking link as proof of identity for that order:
    # `(token) -> order_id | None` (None unless valid, unexpired and unrevoked: links.resolve_link).
    hub.services["order_from_link_token"] = lambda token: links.resolve_link(hub, token).order_id
    hub.services["resolve_tracking_link"] = lambda token: links.resolve_link(hub, token)
    # Erasure closes the links of every order of the customer, in the erasure's transaction.
    hub.services["close_tracking_links"] = lambda conn, customer_id: links.close_customer_links(
        conn, hub, customer_id, "erased"
    )


def _preferences_service(hub: Any) -> Any:
    """`(customer_id, changes) -> dict` for the chatbot and CS desk (raises PreferenceError/LookupError)."""
    from deliveryhub.notifications.preferences import update_preferences

    def change(customer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with hub.db.write() as conn:
            return update_preferences(conn, hub.keyring, customer_id, changes, hub.clock.now()).as_dict()

    return change
