"""Delivery of notifications, always from the outbox through workers (never inside a request).

The dispatcher is the feature's one object the hub's consumer and jobs call; the work is in:
- `intake.py`: the `notifications` consumer turns outbox messages into jobs (idempotent per order,
  rule and stage), in the consumer's transaction;
- `sender.py`: the `notifications.send` job claims due jobs, sends them with 알림톡 → SMS fallback,
  retries with backoff and dead-letters after the retry budget;
- `receipts.py`: the `notifications.receipts` job asks the 알림톡 provider for final receipts;
- `missing.py`: the `notifications.notice_missing` job records required notices that missed their
  deadline;
- `ops_alerts.py`: ops alerts (the hub's `core.ops_alerts` port).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from deliveryhub.notifications.channels import Channels, build_channels
from deliveryhub.notifications.intake import TOPICS, Intake
from deliveryhub.notifications.links import TrackingLinkService
from deliveryhub.notifications.missing import check_missing
from deliveryhub.notifications.ops_alerts import OpsAlertQueue
from deliveryhub.notifications.receipts import poll_receipts
from deliveryhub.notifications.rules import Rule
from deliveryhub.notifications.sender import Sender
from deliveryhub.notifications.settings import NotificationSettings
from deliveryhub.service_layer.messaging import Message

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

__all__ = ["TOPICS", "Channels", "Dispatcher", "build_channels"]


class Dispatcher:
    """Creates jobs from outbox messages, sends due jobs, polls receipts, flags missed notices."""

    def __init__(
        self,
        core: Core,
        rules: Sequence[Rule],
        channels: Channels,
        settings: NotificationSettings,
        links: TrackingLinkService | None = None,
    ) -> None:
        self.core = core
        self.rules = list(rules)
        self.channels = channels
        self.settings = settings
        self.links = links or TrackingLinkService(core)
        self.ops = OpsAlertQueue(core.db, core.clock, team_chats=list(channels.ops))
        self.intake = Intake(self)
        self.sender = Sender(self)

    def handle(self, conn: Connection, messages: Sequence[Message]) -> None:
        """Consumer handler: one job per matching rule, idempotent on (order, rule, stage)."""
        self.intake.handle(conn, messages)

    def send_due(self, now: datetime | None = None) -> int:
        """Job `notifications.send`: send every due job once; returns how many were attempted."""
        return self.sender.send_due(now)

    def due_backlog(self, now: datetime | None = None) -> int:
        """Jobs due to be sent now and not sent yet (what the `notifications.send` job still has to do)."""
        return self.sender.due_backlog(now)

    def poll_receipts(self, now: datetime | None = None) -> int:
        """Job `notifications.receipts`: final receipts of sent 알림톡 messages."""
        return poll_receipts(
            self.core.db, self.channels, now or self.core.clock.now(), self.settings.send_batch
        )

    def check_missing(self, now: datetime | None = None) -> int:
        """Job `notifications.notice_missing`: flag required notices not sent before their deadline."""
        return check_missing(self.core.db, self.core.exceptions, now or self.core.clock.now())
