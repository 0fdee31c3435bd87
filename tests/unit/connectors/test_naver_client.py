"""Naver client over httpx.MockTransport: token signing and caching, GW.AUTHN, 429/5xx, write-back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from deliveryhub.adapters.connectors.base import (
    RateLimited,
    UpstreamError,
    UpstreamUnavailable,
    WritebackRequest,
)
from deliveryhub.adapters.connectors.naver import NaverSettings
from deliveryhub.adapters.connectors.naver.auth import TokenCache, verify_sign
from deliveryhub.adapters.connectors.naver.client import NaverClient, dispatch_orders, naver_time, probe

SECRET = "$2a$04$abcdefghijklmnopqrstuu"  # cost 4: fast


def settings() -> NaverSettings:
    return NaverSettings(base_url="https://naver.test", client_id="cid", client_secret=SecretStr(SECRET))


def client_with(handler: Any, tokens: TokenCache | None = None) -> NaverClient:
    return NaverClient(
        settings(),
        transport=httpx.MockTransport(handler),
        tokens=tokens or TokenCache(),
        millis=lambda: 1700000000000,
    )


def test_token_is_signed_cached_and_renewed_after_gw_authn() -> None:
    calls: list[str] = []
    issued: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/external/v1/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form["type"] == "SELF" and form["grant_type"] == "client_credentials"
            assert verify_sign("cid", SECRET, int(form["timestamp"]), form["client_secret_sign"])
            issued.append(f"t{len(issued)}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 10800})
        if (
            request.headers["authorization"] == "Bearer t0"
            and len(issued) == 1
            and calls.count(request.url.path) == 2
        ):
            return httpx.Response(401, json={"code": "GW.AUTHN", "message": "요청을 보낼 권한이 없습니다."})
        return httpx.Response(200, json={"data": []})

    tokens = TokenCache()
    with client_with(handler, tokens) as client:
        assert client.details(["1"]) == []
        assert client.details(["2"]) == []  # 401 GW.AUTHN -> a new token, one retry
    assert issued == ["t0", "t1"]
    assert calls.count("/external/v1/oauth2/token") == 2


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [(429, {"Retry-After": "7"}, RateLimited), (503, {}, UpstreamUnavailable), (400, {}, UpstreamError)],
)
def test_errors_map_to_the_connector_tree(
    status: int, headers: dict[str, str], error: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 100})
        return httpx.Response(status, headers=headers, json={"code": "X", "message": "m"})

    with client_with(handler) as client, pytest.raises(error) as caught:
        list(client.last_changed(datetime(2026, 12, 6, tzinfo=UTC)))
    if status == 429:
        assert isinstance(caught.value, RateLimited) and caught.value.retry_after == 7.0


def test_details_are_queried_in_batches_of_300() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 100})
        sizes.append(len(json.loads(request.content)["productOrderIds"]))
        return httpx.Response(200, json={"data": []})

    with client_with(handler) as client:
        client.details([str(i) for i in range(650)])
    assert sizes == [300, 300, 50]


def test_dispatch_entries_cover_every_product_order_with_naver_codes() -> None:
    request = WritebackRequest(
        "O1", "S1", "cj", "553825406594", {"marketplace": {"product_order_ids": ["P1", "P2"]}}
    )
    at = datetime(2026, 12, 6, 1, 2, 3, tzinfo=UTC)
    entries = dispatch_orders(request, at)
    assert entries == [
        {
            "productOrderId": p,
            "deliveryMethod": "DELIVERY",
            "deliveryCompanyCode": "CJGLS",
            "trackingNumber": "553825406594",
            "dispatchDate": "2026-12-06T10:02:03.000+09:00",
        }
        for p in ("P1", "P2")
    ]
    assert naver_time(at) == "2026-12-06T10:02:03.000+09:00"
    with pytest.raises(UpstreamError, match="no Naver delivery company"):
        dispatch_orders(
            WritebackRequest("O1", None, "mars", "1", {"marketplace": {"product_order_ids": ["P1"]}}), at
        )
    with pytest.raises(UpstreamError, match="no productOrderIds"):
        dispatch_orders(WritebackRequest("O1", None, "cj", "1", {}), at)


def test_probe_requests_a_fresh_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t", "expires_in": 100})

    assert "token issued (cid)" in probe(settings(), transport=httpx.MockTransport(handler))
    refused = httpx.MockTransport(lambda r: httpx.Response(401, json={"code": "GW.AUTHN", "message": "x"}))
    with pytest.raises(UpstreamError):
        probe(settings(), transport=refused)
