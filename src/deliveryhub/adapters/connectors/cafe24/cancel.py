"""Cafe24 Admin API: cancel an order before shipping (create an order cancellation).

    POST {base}/api/v2/admin/orders/{order_id}/cancellation
         {"shop_no", "request": {"status": "canceled", "payment_gateway_cancel": "T",
          "recover_inventory": "T", "reason", "claim_reason_type": A|B|H|I,
          "items": [{"order_item_code", "quantity"}]}}
    -> 201 {"cancellation": {"order_id", "status": "canceled", "claim_code", "items"}}

`canceled` completes the cancel and its refund; `payment_gateway_cancel: T` has Cafe24 cancel the card /
real-time transfer payment with it (Cafe24 refuses it for other payment methods, split payments and open
market / Naver Pay / Kakao Pay orders: the operator then cancels in the Cafe24 admin). No Idempotency-Key:
an order already cancelled ("이미 취소", "already") counts as done; an order past shipping, or any other
refusal, is refused with Cafe24's words and the admin screen to use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from deliveryhub.adapters.connectors.base import ConnectorSettings, UpstreamError, parse_retry_after
from deliveryhub.adapters.connectors.cafe24 import Cafe24Settings
from deliveryhub.adapters.connectors.cafe24.client import Cafe24Client
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str
from deliveryhub.contracts.outside import OutsideResult

ALREADY = ("이미 취소", "already cancel", "already been cancel", "already canceled")
SELLER_CENTRE = (
    "카페24 관리자 > 주문 > 취소/교환/반품/환불에서 직접 처리해 주세요(배송 후라면 반품으로 접수)",
    "handle it in the Cafe24 admin > 주문 (orders) > 취소/교환/반품/환불; once shipped, as a return",
)


def cancellation_path(order_id: str) -> str:
    """The order cancellation path of one order."""
    return f"/api/v2/admin/orders/{quote(order_id, safe='')}/cancellation"


def claim_reason_type(reason: str | None) -> str:
    """The hub's free-text reason as Cafe24's claim_reason_type (A 고객변심, B 배송지연, H 품절, I 기타)."""
    text = str(reason or "").lower()
    if any(w in text for w in ("품절", "재고", "sold out", "stock")):
        return "H"
    if any(w in text for w in ("지연", "늦", "delay")):
        return "B"
    if any(w in text for w in ("변심", "customer", "고객", "mind")):
        return "A"
    return "I"


class Cafe24Cancels(Cafe24Client):
    """The Cafe24 client, with the order cancellation answered as (status, body, headers)."""

    def create_cancellation(self, order_id: str, body: dict[str, Any]) -> tuple[int, Any, httpx.Headers]:
        """POST the cancellation; the token is refreshed once on 401."""
        path = cancellation_path(order_id)
        with self._client() as client:
            access, _ = self._pair()
            if not access:
                access = self.refresh(client)
            response = self._send(client, "POST", path, access, json=body)
            if response.status_code == 401:
                response = self._send(client, "POST", path, self.refresh(client), json=body)
        try:
            parsed: Any = response.json() if response.content else {}
        except ValueError:
            parsed = {"error": {"message": response.text[:300]}}
        return response.status_code, parsed, response.headers


def _items(market: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The order items to cancel: each order_item_code with its quantity when the mapper kept them in
    step with the items; [] (the whole order) otherwise."""
    codes = [c for c in (as_str(x) for x in as_list(market.get("order_item_codes"))) if c]
    if not codes or len(codes) != len(items):
        return []
    return [
        {"order_item_code": code, "quantity": max(int(item.get("qty") or 1), 1)}
        for code, item in zip(codes, items, strict=True)
    ]


def cancel_order(
    settings: ConnectorSettings,
    order_id: str,
    market: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    reason: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult:
    """Cancel the order in its Cafe24 mall (done / retry / refused with Cafe24's words)."""
    if not isinstance(settings, Cafe24Settings):
        return OutsideResult("refused", message="cafe24: settings are not Cafe24Settings")
    mall = as_str(market.get("mall_id")) or settings.mall_id
    if not mall or mall == "unknown":
        return OutsideResult("refused", message=f"cafe24: no mall_id for order {order_id}")
    mall_settings = settings.mall(mall)
    shop_no = as_str(market.get("shop_no"))
    request: dict[str, Any] = {
        "status": "canceled",
        "payment_gateway_cancel": "T",
        "recover_inventory": "T",
        "reason": str(reason or "주문 취소 / order cancelled")[:2000],
        "claim_reason_type": claim_reason_type(reason),
    }
    lines = _items(market, items)
    if lines:
        request["items"] = lines
    body: dict[str, Any] = {
        "shop_no": int(shop_no) if shop_no and shop_no.isdigit() else mall_settings.shop_no,
        "request": request,
    }
    try:
        status, answer, headers = Cafe24Cancels(mall_settings, transport=transport).create_cancellation(
            order_id, body
        )
    except ValueError as exc:  # no mall configured
        return OutsideResult("refused", message=f"cafe24: {exc}")
    except httpx.TransportError as exc:
        return OutsideResult("retry", message=f"cafe24 cancellation {order_id}: {type(exc).__name__}")
    except UpstreamError as exc:  # the token refresh failed
        if exc.status == 0 or exc.status >= 500 or exc.status == 429:
            return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
        return OutsideResult("refused", message=f"cafe24: {exc}")
    if status == 429 or status >= 500:
        after = parse_retry_after(headers.get("retry-after"))
        said = f"cafe24 cancellation {order_id}: HTTP {status}"
        return OutsideResult("retry", message=said, retry_after=after)
    if 200 <= status < 300:
        done = as_dict(as_dict(answer).get("cancellation"))
        return OutsideResult("done", ref=as_str(done.get("claim_code")), data={"via": "cafe24"})
    error = as_dict(as_dict(answer).get("error"))
    words = str(error.get("message") or as_dict(answer).get("message") or "")[:300]
    if any(h in words.lower() for h in ALREADY):
        return OutsideResult("done", message=words, data={"via": "cafe24", "already": True})
    said = f"{SELLER_CENTRE[0]} / {SELLER_CENTRE[1]}: HTTP {status} {words}".strip()
    return OutsideResult("refused", message=f"카페24 취소 거절 / Cafe24 refused the cancel: {said}"[:500])
