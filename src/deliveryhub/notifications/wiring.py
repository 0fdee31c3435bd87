"""Plug notifications into the core: the consumer, the send/receipts/notice-missing jobs, the order
page's notices section, the backlog probe and three ports (`ops_alerts`, `notice_facts`, `links`);
returns the feature's handle for `Hub.notifications`. Rules are validated now: a bad rules file stops
the start."""

from __future__ import annotations

from dataclasses import dataclass

from deliveryhub.notifications.dispatcher import TOPICS, Dispatcher, build_channels
from deliveryhub.notifications.facts import SentNotices, order_notices
from deliveryhub.notifications.links import LinkSettings, TrackingLinkService
from deliveryhub.notifications.ops_alerts import OpsAlertQueue
from deliveryhub.notifications.preferences import PreferenceService
from deliveryhub.notifications.rules import load_rules
from deliveryhub.notifications.settings import (
    NotificationSettings,
    file_overrides,
    load_notification_settings,
)
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.messaging import Consumer
from deliveryhub.service_layer.scheduler import Job


@dataclass
class NotificationsFeature:
    """What the rest of the hub uses of notifications (bootstrap puts it on `Hub.notifications`)."""

    dispatcher: Dispatcher
    preferences: PreferenceService
    links: TrackingLinkService  # also core.links, the TrackingLinks port
    link_settings: LinkSettings
    settings: NotificationSettings

    @property
    def ops_alerts(self) -> OpsAlertQueue:
        """The `core.ops_alerts` provider."""
        return self.dispatcher.ops

    @property
    def notice_facts(self) -> SentNotices:
        """The `core.notice_facts` provider."""
        return SentNotices()


def register(core: Core) -> NotificationsFeature:
    """Wire the notification engine into `core`; the handle (bootstrap points ops_alerts, notice_facts
    and links at it)."""
    # The environment, overridden by the hub's config file (a shop's own channels and templates).
    settings = load_notification_settings(**file_overrides(getattr(core.settings, "config_file", None)))
    rules = load_rules(settings.notification_rules)
    link_settings = LinkSettings(
        max_days=settings.tracking_link_max_days,
        shop_name=settings.shop_name,
        shop_contact=settings.shop_contact,
    )
    # Tracking links (links.py): made at send time, never stored; one check for everyone.
    links = TrackingLinkService(core, link_settings)
    dispatcher = Dispatcher(core, rules, build_channels(core.settings, settings), settings, links)
    core.consumers.append(Consumer("notifications", dispatcher.handle, topics=TOPICS))
    core.jobs.append(Job("notifications.send", 1.0, dispatcher.send_due))
    core.jobs.append(Job("notifications.notice_missing", 60.0, dispatcher.check_missing))
    core.jobs.append(Job("notifications.receipts", 60.0, dispatcher.poll_receipts))
    core.order_sections["notifications"] = lambda conn, order_id, _principal: order_notices(conn, order_id)
    # Work waiting in the background, for anything that wants a quiet hub (benchmarks, health).
    core.backlogs["notifications"] = dispatcher.due_backlog
    return NotificationsFeature(
        dispatcher=dispatcher,
        preferences=PreferenceService(core),
        links=links,
        link_settings=link_settings,
        settings=settings,
    )
