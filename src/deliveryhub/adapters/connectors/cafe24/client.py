"""Cafe24 Admin API transport: OAuth Bearer with refresh, order paging, receivers, shipment write-back.

    GET  {base}/api/v2/admin/orders?shop_no&start_date&end_date&date_type&embed=items,receivers&offset&limit
    GET  {base}/api/v2/admin/orders/{order_id}/receivers | /items | /shipments
    POST {base}/api/v2/admin/orders/{order_id}/shipments   {"shop_no", "request": {tracking_no,
                                                            shipping_company_code, order_item_code, status}}
    POST {base}/api/v2/oauth/token                          grant_type=refresh_token (Basic client_id:secret)

Every call sends ``Authorization: Bearer``, ``X-Cafe24-Api-Version``. A 401 refreshes the token once and
retries; 429 (``X-Api-Call-Limit`` spent) is ``RateLimited`` with Retry-After; 5xx ``UpstreamUnavailable``.
A refreshed token pair is kept per mall (Cafe24 rotates the refresh token on every use): in memory and, when
the hub binds one, in a ``TokenStore`` (sealed in the hub's database), so a restart does not fall back to a
spent refresh token. Both remember which configured refresh token they grew from: a new pair in the config
(the operator re-authorised the app) wins over what was stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from deliveryhub.adapters.connectors.base import (
    ConnectorSettings,
    UpstreamError,
    UpstreamUnavailable,
    WritebackRequest,
    raise_for_status,
)
from deliveryhub.adapters.connectors.cafe24 import Cafe24Settings
from deliveryhub.adapters.connectors.cafe24.mapper import carrier_table
from deliveryhub.adapters.connectors.payload import as_dict, as_list, as_str

MAX_OFFSET = 15000  # Cafe24 refuses offsets past this; narrow the date window instead

_tokens: dict[str, tuple[str, str]] = {}  # "{base}|{mall}|{origin}" -> refreshed (access, refresh)
_lock = threading.Lock()


class TokenStore(Protocol):
    """Where a mall's refreshed token pair outlives the process (the hub seals it in its database)."""

    def load(self, origin: str) -> tuple[str, str] | None:
        """The pair refreshed from the configured token ``origin`` (a digest), if any."""

    def save(self, origin: str, access: str, refresh: str) -> None:
        """Keep the newest pair."""


_stores: dict[str, TokenStore] = {}  # "{base}|{mall}" -> store


def use_token_store(base: str, mall_id: str, store: TokenStore) -> None:
    """Keep this mall's refreshed tokens in ``store`` (bound by the hub that owns the mall's settings)."""
    with _lock:
        _stores[f"{base.rstrip('/')}|{mall_id}"] = store


class Cafe24Client:
    """One mall's Admin API (blocking httpx); ``transport`` is the test seam."""

    def __init__(self, settings: Cafe24Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.mall_id:
            raise ValueError("cafe24: mall_id is not configured")
        self.settings = settings
        self.base = settings.api_base()
        refresh = settings.refresh_token.get_secret_value() if settings.refresh_token else ""
        self._origin = hashlib.sha256(refresh.encode()).hexdigest()[:16]
        self._mall = f"{self.base}|{settings.mall_id}"
        self._key = f"{self._mall}|{self._origin}"
        self._transport = transport

    # ------------------------------------------------------------------------------------------ tokens
    def _pair(self) -> tuple[str, str]:
        with _lock:
            if self._key in _tokens:
                return _tokens[self._key]
            store = _stores.get(self._mall)
        stored = store.load(self._origin) if store is not None else None
        if stored is not None:
            with _lock:
                _tokens[self._key] = stored
            return stored
        s = self.settings
        access = s.access_token.get_secret_value() if s.access_token else ""
        refresh = s.refresh_token.get_secret_value() if s.refresh_token else ""
        return access, refresh

    def refresh(self, client: httpx.Client) -> str:
        """Trade the refresh token for a new pair at /api/v2/oauth/token (Basic client_id:client_secret)."""
        _, refresh = self._pair()
        s = self.settings
        if not refresh or not s.client_id or s.client_secret is None:
            raise UpstreamError(
                "cafe24: access token expired and no refresh_token/client credentials", status=401
            )
        response = client.post(
            f"{self.base}/api/v2/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh},
            auth=(s.client_id, s.client_secret.get_secret_value()),
        )
        raise_for_status(response, what=f"cafe24 {s.mall_id} token refresh")
        body = as_dict(response.json())
        access = as_str(body.get("access_token"))
        if access is None:
            raise UpstreamError(
                "cafe24 token refresh: no access_token in the answer", status=response.status_code
            )
        pair = (access, as_str(body.get("refresh_token")) or refresh)
        with _lock:
            _tokens[self._key] = pair
            store = _stores.get(self._mall)
        if store is not None:
            store.save(self._origin, *pair)
        return access

    # ------------------------------------------------------------------------------------------ requests
    def _client(self) -> httpx.Client:
        timeout = httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s)
        return httpx.Client(timeout=timeout, transport=self._transport)

    def request(self, method: str, path: str, *, what: str, **kwargs: Any) -> Any:
        """One authorised call; refreshes the token once on 401; the JSON answer or a typed error."""
        try:
            with self._client() as client:
                access, _ = self._pair()
                if not access:
                    access = self.refresh(client)
                response = self._send(client, method, path, access, **kwargs)
                if response.status_code == 401:
                    response = self._send(client, method, path, self.refresh(client), **kwargs)
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"{what}: {type(exc).__name__}", status=0) from exc
        raise_for_status(response, what=what)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(f"{what}: answer is not JSON", status=response.status_code) from exc

    def _send(
        self, client: httpx.Client, method: str, path: str, access: str, **kwargs: Any
    ) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {access}",
            "X-Cafe24-Api-Version": self.settings.api_version,
            "Accept": "application/json",
        }
        return client.request(method, f"{self.base}{path}", headers=headers, **kwargs)

    # --------------------------------------------------------------------------------------------- calls
    def orders(
        self, start_date: str, end_date: str, *, date_type: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of orders (embed=items,receivers) between two dates (YYYY-MM-DD, the mall's time)."""
        limit = max(1, min(int(self.settings.page_limit), 1000))
        offset = 0
        while offset <= MAX_OFFSET:
            params = {
                "shop_no": self.settings.shop_no,
                "start_date": start_date,
                "end_date": end_date,
                "date_type": date_type or self.settings.poll_date_type,
                "embed": "items,receivers",
                "limit": limit,
                "offset": offset,
            }
            body = self.request(
                "GET", "/api/v2/admin/orders", params=params, what=f"cafe24 {self.settings.mall_id} orders"
            )
            page = [as_dict(o) for o in as_list(as_dict(body).get("orders"))]
            yield page
            if len(page) < limit:
                return
            offset += limit

    def order(self, order_id: str) -> Any:
        """GET /orders/{order_id}?embed=items,receivers (the raw answer)."""
        path = f"/api/v2/admin/orders/{quote(order_id, safe='')}"
        params = {"shop_no": self.settings.shop_no, "embed": "items,receivers"}
        return self.request("GET", path, params=params, what=f"cafe24 order {order_id}")

    def receivers(self, order_id: str) -> Any:
        """GET /orders/{order_id}/receivers (the raw answer)."""
        path = f"/api/v2/admin/orders/{quote(order_id, safe='')}/receivers"
        return self.request(
            "GET", path, params={"shop_no": self.settings.shop_no}, what=f"cafe24 receivers {order_id}"
        )

    def item_codes(self, order_id: str) -> list[str]:
        """The order's order_item_codes (GET /orders/{order_id}/items)."""
        path = f"/api/v2/admin/orders/{quote(order_id, safe='')}/items"
        body = self.request(
            "GET", path, params={"shop_no": self.settings.shop_no}, what=f"cafe24 items {order_id}"
        )
        codes = (as_str(as_dict(i).get("order_item_code")) for i in as_list(as_dict(body).get("items")))
        return [c for c in codes if c]

    def shipment_numbers(self, order_id: str) -> set[str]:
        """Tracking numbers the order already has in Cafe24 (GET /orders/{order_id}/shipments)."""
        path = f"/api/v2/admin/orders/{quote(order_id, safe='')}/shipments"
        body = self.request(
            "GET", path, params={"shop_no": self.settings.shop_no}, what=f"cafe24 shipments {order_id}"
        )
        numbers = (as_str(as_dict(s).get("tracking_no")) for s in as_list(as_dict(body).get("shipments")))
        return {n for n in numbers if n}

    def create_shipment(
        self, order_id: str, tracking_no: str, company_code: str, item_codes: list[str]
    ) -> Any:
        """POST /orders/{order_id}/shipments: the items go 'shipping' with this waybill."""
        body = {
            "shop_no": self.settings.shop_no,
            "request": {
                "tracking_no": tracking_no,
                "shipping_company_code": company_code,
                "order_item_code": item_codes,
                "status": "shipping",
            },
        }
        path = f"/api/v2/admin/orders/{quote(order_id, safe='')}/shipments"
        return self.request("POST", path, json=body, what=f"cafe24 shipment {order_id}")


def company_code(settings: Cafe24Settings, carrier: str) -> str:
    """The mall's shipping_company_code for a hub carrier; UpstreamError (retried, then dead) when unknown."""
    table = {**carrier_table(), **settings.carrier_codes}
    if carrier in table:
        return table[carrier]
    if carrier.startswith("cafe24-"):
        return carrier.removeprefix("cafe24-")
    raise UpstreamError(
        f"cafe24: no shipping_company_code for carrier {carrier!r} (set carrier_codes)", status=0
    )


def write_back(
    settings: ConnectorSettings, request: WritebackRequest, *, transport: httpx.BaseTransport | None = None
) -> None:
    """Tell Cafe24 about a waybill: skip when the order already has it, else create the shipment."""
    if not isinstance(settings, Cafe24Settings):
        raise UpstreamError("cafe24 write-back: settings are not Cafe24Settings", status=0)
    market = as_dict(request.order_data.get("marketplace"))
    mall = as_str(market.get("mall_id")) or settings.mall_id
    if not mall or mall == "unknown":
        raise UpstreamError(f"cafe24 write-back {request.order_id}: no mall_id", status=0)
    mall_settings = settings.mall(mall)
    client = Cafe24Client(mall_settings, transport=transport)
    code = company_code(mall_settings, request.carrier)
    # Idempotent: a retry after a lost answer (or a 500 that did create it) finds the waybill and stops.
    if request.tracking_no in client.shipment_numbers(request.order_id):
        return
    items = [c for c in (as_str(x) for x in as_list(market.get("order_item_codes"))) if c]
    if not items:
        items = client.item_codes(request.order_id)
    client.create_shipment(request.order_id, request.tracking_no, code, items)


def forget_tokens() -> None:
    """Drop every refreshed token kept in memory and every bound store (tests, credential rotation)."""
    with _lock:
        _tokens.clear()
        _stores.clear()
