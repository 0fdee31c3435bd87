"""Registry discovery and the polling proxies (httpx.MockTransport, no network)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import SecretStr

from deliveryhub.adapters.connectors import base
from deliveryhub.adapters.connectors.base import ConnectorSettings


def test_registry() -> None:
    assert base.carrier_codes() == ["cj", "lotte", "hanjin", "epost", "logen"]
    shops = ["shopify", "cafe24", "coupang", "naver"]
    carriers = ["cj", "lotte", "hanjin", "epost", "logen"]
    tracking = ["aftership", "easypost", "trackerdelivery", "sweettracker"]
    assert base.connector_codes() == [*shops, *carriers, *tracking]
    # The marketplaces write waybills back; their orders carry their own source.
    assert {c: base.get_connector(c).source for c in shops[1:]} == {c: c for c in shops[1:]}
    assert [c for c in base.connector_codes() if base.get_connector(c).write_back] == shops[1:]
    cj = base.get_connector("cj")
    assert (cj.source, cj.kind, cj.polls, cj.name) == ("carrier:cj", "carrier", True, "CJ대한통운")
    assert cj.validate_number is not None and cj.validate_number("553825406594")
    assert base.get_connector("shopify").source == "oms" and not base.get_connector("shopify").polls
    with pytest.raises(KeyError):
        base.get_connector("nope")


def test_settings_come_from_the_connectors_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_BASE_URL", "https://cj.example")
    monkeypatch.setenv("DELIVERYHUB_SHOPIFY_SHOP_DOMAIN", "a.myshopify.com")
    assert base.get_connector("cj").settings().base_url == "https://cj.example"
    assert base.get_connector("lotte").settings().base_url == ""
    assert getattr(base.get_connector("shopify").settings(), "shop_domain", None) == "a.myshopify.com"
    assert base.get_connector("cj").env_name("webhook_secret") == "DELIVERYHUB_CJ_WEBHOOK_SECRET"


PUSH = {
    "tracking_no": "553825406594",
    "events": [{"time": "2024-05-02 10:00", "code": "91", "status": "배송완료"}],
}


def proxy(handler) -> base.TrackingProxy:  # type: ignore[no-untyped-def]
    settings = ConnectorSettings(base_url="https://tracker.example/api/", api_key=SecretStr("k"))
    return base.TrackingProxy(
        base.get_connector("cj"),
        settings,
        transport=httpx.MockTransport(handler),
        async_transport=httpx.MockTransport(handler),
    )


def test_proxy_fetch_ok() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=PUSH)

    result = proxy(handler).fetch("553825406594", order_id="ORD-1")
    assert str(seen[0].url) == "https://tracker.example/api/tracking/553825406594"
    assert seen[0].headers["authorization"] == "Bearer k"
    assert [e["data"].get("status") for e in result.events if e["type"] == "shipment.tracking"] == [
        "delivered"
    ]
    assert {e["order_id"] for e in result.events} == {"ORD-1"}


def test_proxy_async_fetch_ok() -> None:
    result = asyncio.run(proxy(lambda r: httpx.Response(200, json=PUSH)).afetch("553825406594"))
    assert result.events


@pytest.mark.parametrize(
    ("status", "headers", "error", "retry_after"),
    [
        (429, {"Retry-After": "30"}, base.RateLimited, 30.0),
        (429, {}, base.RateLimited, None),
        (503, {"Retry-After": "5"}, base.UpstreamUnavailable, 5.0),
        (500, {}, base.UpstreamUnavailable, None),
    ],
)
def test_proxy_http_errors(
    status: int, headers: dict[str, str], error: type, retry_after: float | None
) -> None:
    with pytest.raises(error) as info:
        proxy(lambda r: httpx.Response(status, headers=headers)).fetch("553825406594")
    assert isinstance(info.value, base.UpstreamError)
    assert info.value.status == status
    assert info.value.retry_after == retry_after


def test_proxy_not_found_and_transport_error() -> None:
    with pytest.raises(base.TrackingNotFound):
        proxy(lambda r: httpx.Response(404)).fetch("553825406594")

    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(base.UpstreamUnavailable):
        proxy(boom).fetch("553825406594")


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 5, 2, 0, 0, 0, tzinfo=UTC)
    assert base.parse_retry_after("Thu, 02 May 2024 00:01:00 GMT", now=now) == 60.0
    assert base.parse_retry_after("garbage") is None


def test_proxy_requires_base_url() -> None:
    with pytest.raises(ValueError):
        base.TrackingProxy(base.get_connector("cj"), ConnectorSettings(base_url=""))
    with pytest.raises(ValueError):
        base.TrackingProxy(base.get_connector("shopify"), ConnectorSettings(base_url="https://x"))
