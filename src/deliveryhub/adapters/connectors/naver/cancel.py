"""Naver Commerce API: the seller's cancel of an order not yet dispatched (판매 취소), per product order.

    POST /external/v1/pay-order/seller/product-orders/{productOrderId}/claim/cancel/request
         {"cancelReason": INTENT_CHANGED|SOLD_OUT|DELAYED_DELIVERY|…, "cancelDetailedReason": ≤500 chars}
         (no cancelQuantity: the whole product order)

The answer is `data.successProductOrderIds` / `data.failProductOrderInfos` [{productOrderId, code, message}],
or a 4xx `{code, message}`. Naver has no Idempotency-Key: a product order already cancelled ("이미 …",
105306 "변경을 요청한 상태가 기존과 동일") counts as done, so a retry after a lost answer is harmless. A
product order past dispatch (104442/104443 "상품 주문 상태 확인 필요") cannot be cancelled by the seller:
refused, naming the Smartstore Center action to take instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.connectors.naver.claims import claims_done, request_claims
from deliveryhub.adapters.connectors.naver.client import PREFIX
from deliveryhub.contracts.outside import OutsideResult

ALREADY = ("이미", "ALREADY", "already", "105306")
STATE_CODES = ("104442", "104443")  # 상품 주문 상태 / 발주 상태 확인 필요: dispatched or in a claim
SELLER_CENTRE = (
    "네이버 스마트스토어센터 > 판매관리 > 취소/반품/교환에서 직접 처리해 주세요(발송 후라면 반품으로 접수)",
    "handle it in Naver Smartstore Center > 판매관리 (sales) > 취소/반품/교환; once dispatched, as a return",
)


def cancel_request_path(product_order_id: str) -> str:
    """Naver's seller cancel-request path for one product order."""
    return f"{PREFIX}/{product_order_id}/claim/cancel/request"


def cancel_reason(reason: str | None) -> str:
    """The hub's free-text reason as Naver's cancelReason code."""
    text = str(reason or "").lower()
    if any(w in text for w in ("품절", "재고", "sold out", "stock")):
        return "SOLD_OUT"
    if any(w in text for w in ("지연", "늦", "delay")):
        return "DELAYED_DELIVERY"
    return "INTENT_CHANGED"


def cancel_order(
    settings: ConnectorSettings,
    product_order_ids: Sequence[str],
    reason: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult:
    """Cancel every product order of the order at Naver (done / retry / refused with Naver's words)."""
    body = {"cancelReason": cancel_reason(reason), "cancelDetailedReason": str(reason or "")[:500]}
    refused = request_claims(
        settings, product_order_ids, cancel_request_path, lambda _: body, ALREADY, transport=transport
    )
    if isinstance(refused, OutsideResult):
        return refused
    if refused:
        said = "; ".join(words for _, words in refused)
        if any(code in STATE_CODES for code, _ in refused):
            said = f"{SELLER_CENTRE[0]} / {SELLER_CENTRE[1]}: {said}"
        return OutsideResult("refused", message=f"네이버 취소 거절 / Naver refused the cancel: {said}"[:500])
    return claims_done(product_order_ids)
