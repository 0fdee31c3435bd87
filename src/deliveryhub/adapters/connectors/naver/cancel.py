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
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import ConnectorSettings, UpstreamError
from deliveryhub.adapters.connectors.naver.client import PREFIX, NaverClient
from deliveryhub.adapters.connectors.payload import as_dict, as_list
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


class _Retry(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NaverCancels(NaverClient):
    """The Naver client, with the seller's cancel request."""

    def request_cancel(self, product_order_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST one cancel request; (HTTP status, parsed body). A revoked token is renewed once."""
        path = cancel_request_path(product_order_id)
        response = self._send("POST", path, json=body)
        if response.status_code == 401 and _code(response) == "GW.AUTHN":
            self._tokens.drop(self._key)
            response = self._send("POST", path, json=body)
        if response.status_code == 429 or response.status_code >= 500:
            after = response.headers.get("retry-after")
            raise _Retry(f"naver {response.status_code}", float(after) if after and after.isdigit() else None)
        try:
            parsed: Any = response.json() if response.content else {}
        except ValueError:
            parsed = {"message": response.text[:300]}
        return response.status_code, parsed


def _code(response: httpx.Response) -> str | None:
    try:
        return str(as_dict(response.json()).get("code") or "") or None
    except ValueError:
        return None


def _already(*values: Any) -> bool:
    return any(h in str(v or "") for v in values for h in ALREADY)


def _refusals(po_id: str, status: int, answer: Any) -> list[tuple[str, str]]:
    """(code, words) for each product order Naver did not cancel (already cancelled ones left out)."""
    body = as_dict(answer)
    if 200 <= status < 300:
        fails = [as_dict(f) for f in as_list(as_dict(body.get("data")).get("failProductOrderInfos"))]
        return [
            (str(f.get("code") or ""), f"{f.get('productOrderId')}: {f.get('code')} {f.get('message')}")
            for f in fails
            if not _already(f.get("code"), f.get("message"))
        ]
    if _already(body.get("code"), body.get("message")):
        return []
    code = str(body.get("code") or "")
    return [(code, f"{po_id}: HTTP {status} {code} {body.get('message') or ''}".strip())]


def cancel_order(
    settings: ConnectorSettings,
    product_order_ids: Sequence[str],
    reason: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult:
    """Cancel every product order of the order at Naver (done / retry / refused with Naver's words)."""
    if not product_order_ids:
        return OutsideResult("refused", message="naver: the order has no productOrderIds")
    body = {"cancelReason": cancel_reason(reason), "cancelDetailedReason": str(reason or "")[:500]}
    refused: list[tuple[str, str]] = []
    try:
        client = NaverCancels(settings, transport=transport)
        try:
            for po_id in product_order_ids:
                status, answer = client.request_cancel(po_id, body)
                refused += _refusals(po_id, status, answer)
        finally:
            client.close()
    except ValueError as exc:  # no client id / secret for this shop
        return OutsideResult("refused", message=f"naver: {exc}")
    except _Retry as exc:
        return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
    except UpstreamError as exc:  # the token request failed
        if exc.status == 0 or exc.status >= 500 or exc.status == 429:
            return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
        return OutsideResult("refused", message=str(exc))
    if refused:
        said = "; ".join(words for _, words in refused)
        if any(code in STATE_CODES for code, _ in refused):
            said = f"{SELLER_CENTRE[0]} / {SELLER_CENTRE[1]}: {said}"
        return OutsideResult("refused", message=f"네이버 취소 거절 / Naver refused the cancel: {said}"[:500])
    return OutsideResult("done", ref=",".join(product_order_ids)[:200], data={"via": "naver"})
