"""Coupang Wing: the seller's cancel of an order not yet shipped (상품준비중 취소 처리, instruct cancel).

    POST /v2/providers/wing_api/apis/internal-api/v5/vendors/{vendorId}/orders/{orderId}/cancel
         {"orderId", "vendorItemIds": [...], "receiptCounts": [...], "bigCancelCode": "CANERR",
          "middleCancelCode": "CCTTER", "vendorId", "userId": <the seller's Wing login id>}

Coupang documents it for both states before shipment: 결제완료 (ACCEPT) is cancelled at once, 상품준비중
(INSTRUCT, where the hub's poller puts new boxes) is stopped (출고정지완료). The answer's `code` is SUCCESS,
PARTIAL or FAIL with `data.receiptMap.receiptId`. (결제완료건 환불 `…/orders/{orderId}/refunds` is for ACCEPT
only; 출고중지완료 `…/returnRequests/{receiptId}/stoppedShipment` answers a customer's stop request.)

No Idempotency-Key: an item already cancelled is answered "취소 가능한 개수보다 요청한 개수가 더
많습니다" (nothing left to cancel), which counts as done. An item past 상품준비중 ("결제완료/상품지시 중
상태가 아닙니다") cannot be cancelled by the seller: refused, naming the Wing action to take.
Coupang notes that this API lowers the seller's 주문이행 score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import UpstreamError
from deliveryhub.adapters.connectors.coupang import CoupangSettings
from deliveryhub.adapters.connectors.coupang.client import SHIPPED, CoupangClient
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str
from deliveryhub.contracts.outside import OutsideResult

CANCEL_PATH = "/v2/providers/wing_api/apis/internal-api/v5/vendors/{vendor_id}/orders/{order_id}/cancel"
NOTHING_LEFT = ("취소 가능한 개수보다", "이미 취소", "ALREADY", "already")
WRONG_STATE = ("상태가 아닙니다", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY")
SELLER_CENTRE = (
    "쿠팡 Wing > 주문/배송 관리에서 출고중지 또는 반품으로 직접 처리해 주세요",
    "stop the shipment or take it as a return in Coupang Wing > 주문/배송 관리 (orders)",
)


def cancel_path(vendor_id: str, order_id: str) -> str:
    """The instruct-cancel path of one order."""
    return CANCEL_PATH.format(vendor_id=vendor_id, order_id=order_id)


def _refused(words: str) -> OutsideResult:
    return OutsideResult("refused", message=f"쿠팡 취소 거절 / Coupang refused the cancel: {words}"[:500])


def _state_refusal(words: str) -> OutsideResult:
    return _refused(f"{SELLER_CENTRE[0]} / {SELLER_CENTRE[1]}: {words}")


def cancel_lines(
    market: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> tuple[list[int], list[int]]:
    """(vendorItemIds, receiptCounts) of the whole order: the quantities by vendor item, else 1 each."""
    counts: dict[int, int] = {}
    for item in items:
        vendor_item = as_str(item.get("vendor_item_id"))
        if vendor_item and vendor_item.isdigit():
            counts[int(vendor_item)] = counts.get(int(vendor_item), 0) + max(int(item.get("qty") or 1), 1)
    for raw in as_list(market.get("vendor_item_ids")):
        value = as_str(raw)
        if value and value.isdigit() and int(value) not in counts:
            counts[int(value)] = 1
    return list(counts), list(counts.values())


def cancel_order(
    settings: Any,
    order_id: str,
    market: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult:
    """Cancel the whole order at Coupang (done / retry / refused with Coupang's words)."""
    if not isinstance(settings, CoupangSettings) or not settings.configured:
        return _refused("vendor_id, access_key and secret_key are not configured (connectors.coupang)")
    if not settings.wing_user_id:
        return _refused(
            "쿠팡 Wing 로그인 ID(connectors.coupang.wing_user_id)가 설정되지 않았어요 / "
            "set connectors.coupang.wing_user_id (the seller's Wing login id)"
        )
    if not order_id.isdigit():
        return _refused(f"order id {order_id!r} is not a Coupang orderId")
    boxes = [as_dict(b) for b in as_list(market.get("boxes"))]
    if boxes and all(b.get("status") in SHIPPED for b in boxes):
        return _state_refusal("the order was already shipped when the hub received it")
    vendor_items, counts = cancel_lines(market, items)
    if not vendor_items:
        return _refused("the order has no vendorItemIds")
    body = {
        "orderId": int(order_id),
        "vendorItemIds": vendor_items,
        "receiptCounts": counts,
        "bigCancelCode": "CANERR",
        "middleCancelCode": "CCTTER",
        "vendorId": settings.vendor_id,
        "userId": settings.wing_user_id,
    }
    client = CoupangClient(settings, transport=transport)
    try:
        answer = as_dict(client.request("POST", cancel_path(settings.vendor_id, order_id), body=body))
    except UpstreamError as exc:
        if exc.status == 0 or exc.status == 429 or exc.status >= 500:
            return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
        return _judge(str(exc))
    return _answer(answer)


def _judge(words: str) -> OutsideResult:
    """A refusal's words: nothing left to cancel is done; a wrong state names the Wing action."""
    if any(w in words for w in NOTHING_LEFT):
        return OutsideResult("done", message=words[:300], data={"via": "coupang", "already": True})
    if any(w in words for w in WRONG_STATE):
        return _state_refusal(words)
    return _refused(words)


def _answer(answer: Mapping[str, Any]) -> OutsideResult:
    code = str(answer.get("code") or "").upper()
    data = as_dict(answer.get("data"))
    receipt = as_str(as_dict(data.get("receiptMap")).get("receiptId"))
    message = str(answer.get("message") or "")
    if code in ("SUCCESS", "200"):
        return OutsideResult("done", ref=receipt, data={"via": "coupang"})
    failed = as_list(data.get("failedVendorItemIds")) or as_list(data.get("failedItemIds"))
    if code == "PARTIAL" or (code == "FAIL" and failed):
        judged = _judge(message)
        if judged.outcome == "done":  # the rest was cancelled before (a retry after a lost answer)
            return OutsideResult("done", ref=receipt, data={"via": "coupang"})
        return judged
    return _judge(message or f"code {code or '?'}")
