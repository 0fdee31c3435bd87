"""Naver Commerce API: the seller's claim requests (cancel, return), one POST per product order.

    POST /external/v1/pay-order/seller/product-orders/{productOrderId}/claim/{cancel|return}/request

The answer is `data.successProductOrderIds` / `data.failProductOrderInfos` [{productOrderId, code, message}],
or a 4xx `{code, message}`. Naver has no Idempotency-Key: a product order whose claim is already made (the
caller's "already" hints) counts as done, so a retry after a lost answer is harmless. A 429 or 5xx answer,
or a token request that failed that way, is a retry; a refused token request or missing credentials a
refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import ConnectorSettings, UpstreamError
from deliveryhub.adapters.connectors.naver.client import NaverClient, _gw_authn
from deliveryhub.adapters.connectors.payload import as_dict, as_list
from deliveryhub.contracts.outside import OutsideResult

# (Naver's error code, the words naming the product order, code and message) per product order not done.
Refusal = tuple[str, str]


class ClaimRetry(Exception):
    """Naver answered 429 or 5xx: the claim request is to be tried again (after ``retry_after`` s)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NaverClaims(NaverClient):
    """The Naver client, with the seller's claim requests."""

    def request_claim(self, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
        """POST one claim request; (HTTP status, parsed body). A revoked token is renewed once."""
        response = self._send("POST", path, json=dict(body))
        if response.status_code == 401 and _gw_authn(response):
            self._tokens.drop(self._key)
            response = self._send("POST", path, json=dict(body))
        if response.status_code == 429 or response.status_code >= 500:
            after = response.headers.get("retry-after")
            raise ClaimRetry(
                f"naver {response.status_code}", float(after) if after and after.isdigit() else None
            )
        try:
            parsed: Any = response.json() if response.content else {}
        except ValueError:
            parsed = {"message": response.text[:300]}
        return response.status_code, parsed


def refusals(po_id: str, status: int, answer: Any, already: Sequence[str]) -> list[Refusal]:
    """(code, words) for each product order Naver did not take (those with an ``already`` hint left out)."""

    def done(*values: Any) -> bool:
        return any(h in str(v or "") for v in values for h in already)

    body = as_dict(answer)
    if 200 <= status < 300:
        fails = [as_dict(f) for f in as_list(as_dict(body.get("data")).get("failProductOrderInfos"))]
        return [
            (str(f.get("code") or ""), f"{f.get('productOrderId')}: {f.get('code')} {f.get('message')}")
            for f in fails
            if not done(f.get("code"), f.get("message"))
        ]
    if done(body.get("code"), body.get("message")):
        return []
    code = str(body.get("code") or "")
    return [(code, f"{po_id}: HTTP {status} {code} {body.get('message') or ''}".strip())]


def request_claims(
    settings: ConnectorSettings,
    product_order_ids: Sequence[str],
    path: Callable[[str], str],
    body: Callable[[str], Mapping[str, Any]],
    already: Sequence[str],
    *,
    transport: httpx.BaseTransport | None = None,
) -> OutsideResult | list[Refusal]:
    """POST ``body(id)`` to ``path(id)`` for every product order: Naver's refusals, or the retry / refusal
    that stopped the requests (no product order ids, no credentials, 429 / 5xx, a failed token request)."""
    if not product_order_ids:
        return OutsideResult("refused", message="naver: the order has no productOrderIds")
    refused: list[Refusal] = []
    try:
        client = NaverClaims(settings, transport=transport)
        try:
            for po_id in product_order_ids:
                status, answer = client.request_claim(path(po_id), body(po_id))
                refused += refusals(po_id, status, answer, already)
        finally:
            client.close()
    except ValueError as exc:  # no client id / secret for this shop
        return OutsideResult("refused", message=f"naver: {exc}")
    except ClaimRetry as exc:
        return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
    except UpstreamError as exc:  # the token request failed
        if exc.status == 0 or exc.status >= 500 or exc.status == 429:
            return OutsideResult("retry", message=str(exc), retry_after=exc.retry_after)
        return OutsideResult("refused", message=str(exc))
    return refused


def claims_done(product_order_ids: Sequence[str]) -> OutsideResult:
    """The claim of every product order is made."""
    return OutsideResult("done", ref=",".join(product_order_ids)[:200], data={"via": "naver"})
