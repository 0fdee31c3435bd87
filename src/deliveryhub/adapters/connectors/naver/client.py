"""Naver Commerce API transport (httpx): token, last-changed-statuses paging, detail query, 발송처리.

    POST /external/v1/oauth2/token                                   client_credentials, type SELF, signed
    GET  /external/v1/pay-order/seller/product-orders/last-changed-statuses
         ?lastChangedFrom=…[&lastChangedTo=…][&moreSequence=…]        `data.more` -> next page from moreFrom
    POST /external/v1/pay-order/seller/product-orders/query          {"productOrderIds": [≤300]}
    POST /external/v1/pay-order/seller/product-orders/dispatch       {"dispatchProductOrders": [...]}

429 -> RateLimited (Retry-After honoured), 5xx / transport errors -> UpstreamUnavailable, a 401 GW.AUTHN
drops the cached token and retries once. Secrets never reach a log line or an exception message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import (
    ConnectorSettings,
    UpstreamError,
    UpstreamUnavailable,
    WritebackRequest,
    raise_for_status,
)
from deliveryhub.adapters.connectors.naver import DEFAULT_BASE_URL, NaverSettings, codes
from deliveryhub.adapters.connectors.naver.auth import TOKEN_PATH, TOKENS, TokenCache, client_secret_sign
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str

KST = timezone(timedelta(hours=9), "KST")
PREFIX = "/external/v1/pay-order/seller/product-orders"
LAST_CHANGED_PATH = f"{PREFIX}/last-changed-statuses"
QUERY_PATH = f"{PREFIX}/query"
DISPATCH_PATH = f"{PREFIX}/dispatch"
QUERY_BATCH = 300
MAX_PAGES = 100


def naver_time(at: datetime) -> str:
    """A timestamp as Naver takes it: ISO 8601 in KST with milliseconds (2022-05-11T21:05:26.000+09:00)."""
    return at.astimezone(KST).isoformat(timespec="milliseconds")


class NaverClient:
    """One seller application's calls to the Commerce API (blocking)."""

    def __init__(
        self,
        settings: ConnectorSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        tokens: TokenCache = TOKENS,
        millis: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        if not isinstance(settings, NaverSettings):
            raise TypeError("naver: NaverSettings expected")
        if not settings.client_id or settings.client_secret is None:
            raise ValueError("naver: client_id and client_secret are not configured")
        self.settings = settings
        self._base = (settings.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._key = (self._base, settings.client_id)
        self._tokens = tokens
        self._millis = millis
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> NaverClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ token

    def token(self) -> str:
        """A valid access token: the cached one, or a new one from a bcrypt-signed token request."""
        cached = self._tokens.get(self._key)
        if cached is not None:
            return cached
        secret = self.settings.client_secret
        assert secret is not None  # checked in __init__
        stamp = self._millis()
        form = {
            "client_id": self.settings.client_id,
            "timestamp": str(stamp),
            "client_secret_sign": client_secret_sign(
                self.settings.client_id, secret.get_secret_value(), stamp
            ),
            "grant_type": "client_credentials",
            "type": "SELF",
        }
        response = self._send("POST", TOKEN_PATH, data=form, auth=False)
        raise_for_status(response, what="naver token")
        body = as_dict(_json(response, "naver token"))
        token = as_str(body.get("access_token"))
        if token is None:
            raise UpstreamError("naver token: no access_token in the answer", status=response.status_code)
        expires = body.get("expires_in")
        ttl = float(expires) if isinstance(expires, int | float) and not isinstance(expires, bool) else 600.0
        self._tokens.put(self._key, token, ttl)
        return token

    # ---------------------------------------------------------------------------------------- calls

    def _send(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {"accept": "application/json"}
        if auth:
            headers["authorization"] = f"Bearer {self.token()}"
        try:
            return self._http.request(method, self._base + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"naver {path}: {type(exc).__name__}", status=0) from exc

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and _gw_authn(response):
            self._tokens.drop(self._key)  # expired or revoked: one new token, one retry
            response = self._send(method, path, **kwargs)
        raise_for_status(response, what=f"naver {path}")
        return _json(response, f"naver {path}")

    def last_changed(self, since: datetime, until: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
        """Pages of last-changed status items from ``since`` (to ``until``), following ``data.more``."""
        params: dict[str, str] = {"lastChangedFrom": naver_time(since)}
        if until is not None:
            params["lastChangedTo"] = naver_time(until)
        for _ in range(MAX_PAGES):
            data = as_dict(as_dict(self._call("GET", LAST_CHANGED_PATH, params=params)).get("data"))
            yield [as_dict(i) for i in as_list(data.get("lastChangeStatuses"))]
            more = as_dict(data.get("more"))
            start, sequence = as_str(more.get("moreFrom")), as_str(more.get("moreSequence"))
            if start is None:
                return
            params = {**params, "lastChangedFrom": start}
            if sequence is not None:
                params["moreSequence"] = sequence
        raise UpstreamError(f"naver last-changed-statuses: more than {MAX_PAGES} pages", status=200)

    def details(self, product_order_ids: list[str]) -> list[dict[str, Any]]:
        """Product-order details of the given ids, queried in batches of at most 300."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(product_order_ids), QUERY_BATCH):
            batch = product_order_ids[start : start + QUERY_BATCH]
            body = as_dict(self._call("POST", QUERY_PATH, json={"productOrderIds": batch}))
            found.extend(as_dict(d) for d in as_list(body.get("data")))
        return found

    def dispatch(self, orders: list[dict[str, Any]]) -> dict[str, Any]:
        """발송처리 of product orders; returns Naver's `data` (success ids, fail infos)."""
        body = self._call("POST", DISPATCH_PATH, json={"dispatchProductOrders": orders})
        return as_dict(as_dict(body).get("data"))


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"{what}: response is not JSON", status=response.status_code) from exc


def _gw_authn(response: httpx.Response) -> bool:
    try:
        return as_dict(response.json()).get("code") == "GW.AUTHN"
    except ValueError:
        return False


# ----------------------------------------------------------------------------------------- write-back

# Naver answers these for product orders that are already dispatched: the write-back is then done.
ALREADY_DONE_HINTS = ("이미", "ALREADY", "already")


def dispatch_orders(request: WritebackRequest, dispatched_at: datetime) -> list[dict[str, Any]]:
    """The dispatchProductOrders entries of one waybill: every product order id of its order."""
    marketplace = as_dict(request.order_data.get("marketplace"))
    ids = [i for i in (as_str(x) for x in as_list(marketplace.get("product_order_ids"))) if i]
    if not ids:
        raise UpstreamError(
            f"naver write-back {request.order_id}: no productOrderIds on the order", status=422
        )
    company = codes.HUB_TO_NAVER_CARRIER.get(request.carrier.lower())
    if company is None:
        raise UpstreamError(
            f"naver write-back {request.order_id}: carrier {request.carrier!r} has no Naver delivery company",
            status=422,
        )
    return [
        {
            "productOrderId": po_id,
            "deliveryMethod": "DELIVERY",
            "deliveryCompanyCode": company,
            "trackingNumber": request.tracking_no,
            "dispatchDate": naver_time(dispatched_at),
        }
        for po_id in ids
    ]


def write_back(
    settings: ConnectorSettings, request: WritebackRequest, *, transport: httpx.BaseTransport | None = None
) -> None:
    """발송처리: tell Naver the carrier and tracking number of every product order of the order."""
    entries = dispatch_orders(request, datetime.now(KST))
    with NaverClient(settings, transport=transport) as client:
        data = client.dispatch(entries)
    failed = [as_dict(f) for f in as_list(data.get("failProductOrderInfos"))]
    real = [f for f in failed if not any(h in str(f.get("message", "")) for h in ALREADY_DONE_HINTS)]
    if real and len(real) == len(entries):
        codes_seen = sorted({str(f.get("code")) for f in real})
        raise UpstreamError(
            f"naver dispatch {request.order_id}: refused ({', '.join(codes_seen)})", status=422
        )


def probe(settings: ConnectorSettings, *, transport: httpx.BaseTransport | None = None) -> str:
    """For `doctor`: request a fresh token with this seller's credentials; one plain line when it works."""
    with NaverClient(settings, transport=transport, tokens=TokenCache()) as client:
        client.token()
        return (
            f"네이버 스마트스토어 커머스API: 인증 토큰 발급 성공 / token issued ({client.settings.client_id})"
        )
