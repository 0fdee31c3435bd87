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

from deliveryhub.adapters.connectors.base import ConnectorSettings, UpstreamError
from deliveryhub.adapters.connectors.naver.client import PREFIX, NaverClient
from deliveryhub.adapters.connectors.naver.codes import HUB_TO_NAVER_CARRIER
from deliveryhub.adapters.connectors.payload import as_dict, as_list
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


class NaverClaims(NaverClient):
    """The Naver client, with the seller's return request."""

    def request_return(self, product_order_id: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        """POST one return request; (HTTP status, parsed body). A revoked token is renewed once."""
        path = return_request_path(product_order_id)
        response = self._send("POST", path, json=dict(body))
        if response.status_code == 401 and _code(response) == "GW.AUTHN":
            self._tokens.drop(self._key)
            response = self._send("POST", path, json=dict(body))
        try:
            parsed: Any = response.json() if response.content else {}
        except ValueError:
            parsed = {"message": response.text[:300]}
        if response.status_code == 429 or response.status_code >= 500:
            after = response.headers.get("retry-after")
            raise _Retry(f"naver {response.status_code}", float(after) if after and after.isdigit() else None)
        return response.status_code, parsed


class _Retry(Exception):
    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _code(response: httpx.Response) -> str | None:
    try:
        return str(as_dict(response.json()).get("code") or "") or None
    except ValueError:
        return None


def _already(message: Any) -> bool:
    return any(h in str(message or "") for h in ALREADY_HINTS)


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
    if not product_order_ids:
        return OutsideResult("refused", message="naver: the order has no productOrderIds")
    refused: list[str] = []
    try:
        client = NaverClaims(settings, transport=transport)
        try:
            for po_id in product_order_ids:
                body = {
                    "returnReason": NAVER_RETURN_REASONS.get(reason_code, "INTENT_CHANGED"),
                    "collectDeliveryMethod": "DELIVERY",
                    "collectDeliveryCompany": company,
                    "collectTrackingNumber": tracking_no,
                    "returnQuantity": int((quantities or {}).get(po_id) or 1),
                }
                status, answer = client.request_return(po_id, body)
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
        return OutsideResult("refused", message="; ".join(refused)[:500])
    return OutsideResult("done", ref=",".join(product_order_ids)[:200], data={"via": "naver"})


def _refusals(po_id: str, status: int, answer: Any) -> list[str]:
    body = as_dict(answer)
    if 200 <= status < 300:
        fails = [as_dict(f) for f in as_list(as_dict(body.get("data")).get("failProductOrderInfos"))]
        return [
            f"{f.get('productOrderId')}: {f.get('code')} {f.get('message')}"
            for f in fails
            if not _already(f.get("message")) and not _already(f.get("code"))
        ]
    if _already(body.get("message")) or _already(body.get("code")):
        return []
    return [f"{po_id}: HTTP {status} {body.get('code') or ''} {body.get('message') or ''}".strip()]


def seller_centre_refusal(source: str) -> OutsideResult | None:
    """The refusal for a marketplace whose returns the hub cannot register (None for the others)."""
    words = SELLER_CENTRES.get(source)
    if words is None:
        return None
    return OutsideResult("refused", message=f"{words[0]} / {words[1]}")
