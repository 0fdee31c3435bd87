"""A cancel made through the hub reaches the marketplace the order came from (`marketplace-cancel:<order>`).

Queued by `effects.reactions` for an `order.cancelled` before handover whose source is the hub's own side
(cs, chatbot, ui, hub) and whose `order.created` came from Naver, Coupang or Cafe24; a cancel the
marketplace itself sent is never echoed back. The payload keeps the marketplace's ids as the connector's
mapper stored them (Naver productOrderIds, Coupang vendor items and boxes, Cafe24 mall and order item
codes); the driver carries it out with the seller's own credentials (`connector_settings`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy.engine import Connection, Row

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.connectors.cafe24.cancel import cancel_order as cafe24_cancel
from deliveryhub.adapters.connectors.coupang.cancel import cancel_order as coupang_cancel
from deliveryhub.adapters.connectors.naver.cancel import cancel_order as naver_cancel
from deliveryhub.adapters.persistence.orders import order_origin
from deliveryhub.effects.pickups import marketplace_of
from deliveryhub.service_layer.messaging import Message
from deliveryhub.service_layer.ports import OutsideAction, OutsideResult

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

SYSTEM: Final = "marketplace"
ACTION: Final = "cancel_order"
# Sources of a cancel the marketplace has not heard of: people and the hub acting through the hub.
HUB_SOURCES = frozenset({"cs", "chatbot", "ui", "hub"})


def key_of(order_id: str) -> str:
    """The action's key: one marketplace cancel per order."""
    return f"marketplace-cancel:{order_id}"[:200]


def queue(core: Core, conn: Connection, m: Message, order_id: str) -> bool:
    """Queue the marketplace cancel when the order came from one and the cancel came from the hub's side;
    False when nothing was queued (or it was queued before)."""
    if m.payload.get("source") not in HUB_SOURCES:
        return False  # the marketplace (or another system) said it: no echo
    source, data = order_origin(conn, order_id)
    market = marketplace_of(source)
    if market is None:
        return False
    ids = data.get("marketplace") if isinstance(data.get("marketplace"), dict) else {}
    items = [
        {k: i.get(k) for k in ("sku", "qty", "vendor_item_id") if i.get(k) is not None}
        for i in data.get("items") or []
        if isinstance(i, dict)
    ]
    reason = str((m.payload.get("data") or {}).get("reason") or "주문 취소 / order cancelled")[:500]
    return core.outside.enqueue(
        conn,
        OutsideAction(
            key=key_of(order_id),
            system=SYSTEM,
            action=ACTION,
            order_id=order_id,
            payload={
                "order_id": order_id,
                "marketplace": market,
                "ids": ids,
                "items": items,
                "reason": reason,
            },
        ),
    )


class MarketplaceCancels:
    """Carries out a queued marketplace cancel at Naver, Coupang or Cafe24."""

    def __init__(self, settings_for: Callable[[str], ConnectorSettings]) -> None:
        self.settings_for = settings_for

    def carry_out(self, row: Row[Any]) -> OutsideResult:
        """Call the marketplace's own cancel API for the row's order."""
        p: Mapping[str, Any] = dict(row.payload or {})
        order_id = str(p.get("order_id") or row.order_id or "")
        market = str(p.get("marketplace") or "")
        ids = dict(p.get("ids") or {})
        items = [dict(i) for i in p.get("items") or [] if isinstance(i, Mapping)]
        reason = str(p.get("reason") or "")
        if market == "naver":
            po_ids = [str(i) for i in ids.get("product_order_ids") or [] if i]
            return naver_cancel(self.settings_for("naver"), po_ids, reason)
        if market == "coupang":
            return coupang_cancel(self.settings_for("coupang"), order_id, ids, items)
        if market == "cafe24":
            return cafe24_cancel(self.settings_for("cafe24"), order_id, ids, items, reason)
        return OutsideResult("refused", message=f"unknown marketplace {market!r}")
