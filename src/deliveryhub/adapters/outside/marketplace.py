"""Return pickups for marketplace orders: the return is registered in the marketplace's own claim flow
(its refund follows from there), with the pickup's carrier and waybill from the shop's carrier port.

Naver (스마트스토어): `POST /external/v1/pay-order/seller/product-orders/{productOrderId}/claim/return/
request` `{returnReason, collectDeliveryMethod: "DELIVERY", collectDeliveryCompany, collectTrackingNumber,
returnQuantity}` per product order; Naver has no Idempotency-Key, so an "already requested" answer counts as
done. Coupang and Cafe24 orders are refused with the seller centre to use: Coupang takes return requests
only from the customer (the hub follows them as claims), and Cafe24's return API is not wired yet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.connectors.naver.claims import claims_done, request_claims
from deliveryhub.adapters.connectors.naver.client import PREFIX
from deliveryhub.adapters.connectors.naver.codes import HUB_TO_NAVER_CARRIER
from deliveryhub.contracts.outside import OutsideResult

# The hub's reason codes as Naver's claim request reasons.
NAVER_RETURN_REASONS = {
    "change_of_mind": "INTENT_CHANGED",
    "defective": "PRODUCT_UNSATISFIED",
    "damaged": "BROKEN",
    "wrong_item": "WRONG_DELIVERY",
    "not_as_described": "INCORRECT_INFO",
    "other": "INTENT_CHANGED",
}
ALREADY_HINTS = ("이미", "ALREADY", "already")
SELLER_CENTRES = {
    "coupang": (
        "쿠팡 주문의 반품은 고객이 쿠팡에서 신청하거나 쿠팡 Wing에서 접수해 주세요",
        "Coupang returns are requested by the customer on Coupang or entered in Coupang Wing",
    ),
    "cafe24": (
        "카페24 주문의 반품은 카페24 관리자 화면에서 접수해 주세요",
        "enter Cafe24 returns in the Cafe24 admin",
    ),
}


def return_request_path(product_order_id: str) -> str:
    """Naver's seller return-request path for one product order."""
    return f"{PREFIX}/{product_order_id}/claim/return/request"


def naver_return(
    settings: ConnectorSettings,
    product_order_ids: Sequence[str],
    reason_code: str,
    carrier: str,
    tracking_no: str,
    quantities: Mapping[str, int] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult:
    """Register the return of each product order at Naver with the pickup's carrier and waybill."""
    company = HUB_TO_NAVER_CARRIER.get(carrier.lower())
    if company is None:
        return OutsideResult("refused", message=f"naver: carrier {carrier!r} has no Naver delivery company")

    def body(po_id: str) -> dict[str, Any]:
        return {
            "returnReason": NAVER_RETURN_REASONS.get(reason_code, "INTENT_CHANGED"),
            "collectDeliveryMethod": "DELIVERY",
            "collectDeliveryCompany": company,
            "collectTrackingNumber": tracking_no,
            "returnQuantity": int((quantities or {}).get(po_id) or 1),
        }

    refused = request_claims(
        settings, product_order_ids, return_request_path, body, ALREADY_HINTS, transport=transport
    )
    if isinstance(refused, OutsideResult):
        return refused
    if refused:
        return OutsideResult("refused", message="; ".join(words for _, words in refused)[:500])
    return claims_done(product_order_ids)


def seller_centre_refusal(source: str) -> OutsideResult | None:
    """The refusal for a marketplace whose returns the hub cannot register (None for the others)."""
    words = SELLER_CENTRES.get(source)
    if words is None:
        return None
    return OutsideResult("refused", message=f"{words[0]} / {words[1]}")
