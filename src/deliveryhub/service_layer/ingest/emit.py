"""What an ingest emits through the outbox: each new event, and each stage an order reached."""

from __future__ import annotations

from typing import Any

from deliveryhub.contracts.events import CanonicalEvent
from deliveryhub.domain.lifecycle import StageReached
from deliveryhub.domain.messages import Message
from deliveryhub.service_layer.ingest.batch import automatic

STAGE_CHANGED = "order.stage_changed"


def messages(events: list[CanonicalEvent], transitions: list[StageReached], partitions: int) -> list[Message]:
    """The batch's events first, then its stage changes (consumers rely on that order)."""
    out = [Message.new(ev.type, ev.order_id, event_payload(ev), partitions) for ev in events]
    out += [Message.new(STAGE_CHANGED, tr.order_id, transition_payload(tr), partitions) for tr in transitions]
    return out


_EVENT_FIELDS = ("event_id", "source", "type", "order_id", "shipment_id", "data")
_TRANSITION_FIELDS = ("order_id", "stage", "previous", "source", "automatic", "current")


def event_payload(ev: CanonicalEvent) -> dict[str, Any]:
    """The bus shape of a stored event."""
    payload = {name: getattr(ev, name) for name in _EVENT_FIELDS}
    return {**payload, "occurred_at": ev.occurred_at.isoformat(), "manual": not automatic(ev)}


def transition_payload(tr: StageReached) -> dict[str, Any]:
    """The bus shape of an order.stage_changed message."""
    return {**{name: getattr(tr, name) for name in _TRANSITION_FIELDS}, "occurred_at": tr.at.isoformat()}
