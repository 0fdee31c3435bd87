"""로젠택배 payload -> canonical events (pure). Shapes: see ``connectors/tracking.py``."""

from __future__ import annotations

from typing import Any

from deliveryhub.adapters.connectors import tracking
from deliveryhub.adapters.connectors.base import MappingResult

CARRIER = "logen"


def map_payload(
    payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
) -> MappingResult:
    """Push-format or search-post payload -> shipment.tracking (+ eta/handed_over/delivered) events."""
    return tracking.map_korean_payload(CARRIER, payload, order_id=order_id, tracking_no=tracking_no)
