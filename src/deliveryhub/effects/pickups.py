"""`core.pickups`: a return pickup goes to the shop's carrier-return port; for an order that came from a
marketplace the return is also registered in that marketplace's claim flow (Naver), or refused with the
seller centre to use (Coupang, Cafe24), since the marketplace refunds its own orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.outside.marketplace import naver_return, seller_centre_refusal
from deliveryhub.adapters.persistence.orders import order_origin
from deliveryhub.service_layer.ports import OutsideResult, PickupRequest, ReturnPickups

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

MARKETPLACES = ("naver", "coupang", "cafe24")


def marketplace_of(source: str | None) -> str | None:
    """`naver`, `coupang` or `cafe24` for a source naming one (`cafe24:mall` → `cafe24`), else None."""
    head = str(source or "").split(":", 1)[0]
    return head if head in MARKETPLACES else None


class RoutedPickups:
    """ReturnPickups by where the order came from."""

    def __init__(
        self,
        core: Core,
        carrier: ReturnPickups | None,
        settings_for: Callable[[str], ConnectorSettings],
    ) -> None:
        self.core = core
        self.carrier = carrier
        self.settings_for = settings_for

    def book_pickup(self, request: PickupRequest, idempotency_key: str) -> OutsideResult:
        """Book the pickup (and register a marketplace order's return at the marketplace)."""
        market = marketplace_of(request.source)
        if market is not None and (refusal := seller_centre_refusal(market)) is not None:
            return refusal
        if self.carrier is None:
            return OutsideResult("refused", message="return pickup is not configured (outside.pickup_url)")
        booked = self.carrier.book_pickup(request, idempotency_key)
        if market != "naver" or booked.outcome != "done":
            return booked
        carrier, tracking_no = booked.data.get("carrier"), booked.data.get("tracking_no")
        if not carrier or not tracking_no:
            return OutsideResult("refused", message="the carrier port answered no carrier and tracking_no")
        ids, quantities = self._naver_product_orders(request)
        registered = naver_return(
            self.settings_for("naver"), ids, request.reason_code, str(carrier), str(tracking_no), quantities
        )
        if registered.outcome != "done":
            return registered  # retried with the same key: the carrier port answers the same booking
        return OutsideResult("done", ref=booked.ref, data={**booked.data, "via": "naver"})

    def _naver_product_orders(self, request: PickupRequest) -> tuple[list[str], dict[str, int]]:
        """The product order ids of the order (all of them, or those whose SKU is returned)."""
        with self.core.db.read() as conn:
            data = order_origin(conn, request.order_id)[1]
        market = data.get("marketplace") if isinstance(data.get("marketplace"), dict) else {}
        ids = [str(i) for i in (market or {}).get("product_order_ids") or [] if i]
        items = [i for i in data.get("items") or [] if isinstance(i, dict)]
        if len(items) != len(ids):  # the mapper keeps one item per product order, in order
            return ids, {}
        wanted = {str(i.get("sku")): int(i.get("qty") or 1) for i in request.items if isinstance(i, dict)}
        chosen = {
            po: wanted[str(item.get("sku"))]
            for po, item in zip(ids, items, strict=True)
            if str(item.get("sku")) in wanted
        }
        if not chosen:
            return ids, {po: int(item.get("qty") or 1) for po, item in zip(ids, items, strict=True)}
        return list(chosen), chosen
