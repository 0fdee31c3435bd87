"""The shop's outside systems over HTTP (issue 16): carrier-return pickups, the WMS (and the TMS for address
changes) and the coupon/points system, each as JSON with a bearer token and an `Idempotency-Key` that stays
the same on every retry. Paths and bodies are documented in docs/OUTSIDE_PORTS.md.

Answers: 2xx → done (the reference from the body's `id` or `ref`); 409 → done (the key was already
handled); 408/425/429/5xx, a timeout or a connection error → retry (429/503 `Retry-After` honoured); any
other 4xx → refused with the body's message. Tokens are sent, never logged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from deliveryhub.contracts.outside import OutsideResult, PickupRequest, RewardRequest

log = structlog.get_logger(__name__)

USER_AGENT = "deliveryhub-outside/1"
RETRY_STATUSES = frozenset({408, 425, 429})


class OutsideSettings(BaseModel):
    """Section `outside:` of the hub's config file (or DELIVERYHUB_OUTSIDE_* variables); a port whose URL is
    not set stays unconfigured. Tokens may be written `${ENV_VAR}` (read from the environment)."""

    model_config = ConfigDict(extra="forbid")

    pickup_url: str | None = None
    pickup_token: SecretStr | None = None
    wms_url: str | None = None
    wms_token: SecretStr | None = None
    tms_url: str | None = None
    tms_token: SecretStr | None = None
    rewards_url: str | None = None
    rewards_token: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("pickup_url", "wms_url", "tms_url", "rewards_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) in seconds from now; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        at = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (at - (now or datetime.now(UTC))).total_seconds())


def _message(body: Any, text: str) -> str:
    if isinstance(body, dict):
        for name in ("message", "error_description", "detail", "error"):
            value = body.get(name)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)[:500]
    return text[:500]


def read_answer(resp: httpx.Response) -> OutsideResult:
    """One HTTP answer as an OutsideResult (the rules in the module docstring)."""
    try:
        body: Any = resp.json() if resp.content else {}
    except ValueError:
        body = {}
    status = resp.status_code
    if 200 <= status < 300 or status == 409:
        data = (
            {k: v for k, v in body.items() if isinstance(v, str | int | float)}
            if isinstance(body, dict)
            else {}
        )
        ref = data.get("id") or data.get("ref")
        note = "duplicate key: already done" if status == 409 else ""
        return OutsideResult("done", ref=str(ref) if ref is not None else None, message=note, data=data)
    message = f"HTTP {status}: {_message(body, resp.text)}"[:500]
    if status >= 500 or status in RETRY_STATUSES:
        return OutsideResult(
            "retry", message=message, retry_after=retry_after_seconds(resp.headers.get("retry-after"))
        )
    return OutsideResult("refused", message=message)


class HttpPort:
    """One outside system: a base URL, a bearer token and a timeout."""

    def __init__(
        self,
        name: str,
        base_url: str,
        token: SecretStr | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def __repr__(self) -> str:
        return f"HttpPort({self.name!r}, {self.base_url!r})"  # never the token

    def post(self, path: str, body: Mapping[str, Any], idempotency_key: str) -> OutsideResult:
        """POST `body` as JSON to `path` with the Idempotency-Key; the answer as an OutsideResult."""
        headers = {"Idempotency-Key": idempotency_key, "User-Agent": USER_AGENT}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token.get_secret_value()}"
        url = self.base_url + path
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                resp = client.post(url, json=dict(body), headers=headers)
        except httpx.TimeoutException:
            log.info("outside_http", port=self.name, path=path, outcome="timeout")
            return OutsideResult("retry", message=f"{self.name}: timeout after {self.timeout}s")
        except httpx.HTTPError as exc:
            log.info("outside_http", port=self.name, path=path, outcome="error", error=type(exc).__name__)
            return OutsideResult("retry", message=f"{self.name}: {type(exc).__name__}")
        result = read_answer(resp)
        log.info("outside_http", port=self.name, path=path, status=resp.status_code, outcome=result.outcome)
        return result


def _seg(value: str) -> str:
    return quote(value, safe="")


def _items(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [dict(i) for i in items]


class HttpPickups:
    """ReturnPickups: the shop's carrier-return booking (`POST /pickups`)."""

    def __init__(self, port: HttpPort) -> None:
        self.port = port

    def book_pickup(self, request: PickupRequest, idempotency_key: str) -> OutsideResult:
        """Book the collection of a return or an exchange's old goods."""
        body = {
            "return_id": request.return_id,
            "order_id": request.order_id,
            "kind": request.kind,
            "items": _items(request.items),
            "address": dict(request.address),
            "reason_code": request.reason_code,
            "source": request.source,
            "marketplace_ref": request.marketplace_ref,
        }
        return self.port.post("/pickups", body, idempotency_key)


def combine(results: Sequence[OutsideResult]) -> OutsideResult:
    """Several systems' answers to one action: refused if any refused, retry if any must be retried (the
    longest Retry-After), else done with the first reference."""
    refused = [r for r in results if r.outcome == "refused"]
    if refused:
        return OutsideResult("refused", message="; ".join(r.message for r in refused)[:500])
    retry = [r for r in results if r.outcome == "retry"]
    if retry:
        after = [r.retry_after for r in retry if r.retry_after is not None]
        return OutsideResult(
            "retry",
            message="; ".join(r.message for r in retry)[:500],
            retry_after=max(after) if after else None,
        )
    merged: dict[str, Any] = {}
    for r in reversed(results):
        merged.update(r.data)
    ref = next((r.ref for r in results if r.ref), None)
    return OutsideResult("done", ref=ref, data=merged)


class HttpFulfilment:
    """Fulfilment: the WMS (release, address, reship) and, when configured, the TMS for addresses."""

    def __init__(self, wms: HttpPort | None, tms: HttpPort | None = None) -> None:
        self.wms = wms
        self.tms = tms

    def _no_wms(self) -> OutsideResult:
        return OutsideResult("refused", message="WMS is not configured for this shop (outside.wms_url)")

    def release_reservation(
        self, order_id: str, items: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> OutsideResult:
        """Give the order's reserved stock back (the order was cancelled before dispatch)."""
        if self.wms is None:
            return self._no_wms()
        body = {"order_id": order_id, "items": _items(items)}
        return self.wms.post(f"/orders/{_seg(order_id)}/release", body, idempotency_key)

    def push_address(self, order_id: str, address: Mapping[str, Any], idempotency_key: str) -> OutsideResult:
        """Tell the WMS (and the TMS) the order's new delivery address."""
        body = {"order_id": order_id, "address": dict(address)}
        path = f"/orders/{_seg(order_id)}/address"
        ports = [p for p in (self.wms, self.tms) if p is not None]
        return combine([p.post(path, body, idempotency_key) for p in ports])

    def reship(
        self,
        order_id: str,
        return_id: str,
        items: Sequence[Mapping[str, Any]],
        address: Mapping[str, Any],
        idempotency_key: str,
    ) -> OutsideResult:
        """Ship an exchange's replacement goods."""
        if self.wms is None:
            return self._no_wms()
        body = {
            "order_id": order_id,
            "return_id": return_id,
            "items": _items(items),
            "address": dict(address),
        }
        return self.wms.post("/reshipments", body, idempotency_key)


class HttpRewards:
    """Rewards: the shop's coupon (`POST /coupons`) and points (`POST /points`) system."""

    def __init__(self, port: HttpPort) -> None:
        self.port = port

    def grant(self, request: RewardRequest, idempotency_key: str) -> OutsideResult:
        """Create a coupon or add points for the customer of an order."""
        body = {
            "order_id": request.order_id,
            "customer_ref": request.customer_ref,
            "amount": request.amount,
            "reason": request.reason,
        }
        path = "/coupons" if request.kind == "coupon" else "/points"
        return self.port.post(path, body, idempotency_key)


def build_ports(
    settings: OutsideSettings, transport: httpx.BaseTransport | None = None
) -> tuple[HttpPickups | None, HttpFulfilment | None, HttpRewards | None]:
    """The configured ports (None for each that has no URL; fulfilment when a WMS or a TMS is set)."""

    def port(name: str, url: str | None, token: SecretStr | None) -> HttpPort | None:
        return HttpPort(name, url, token, settings.timeout_seconds, transport) if url else None

    s = settings
    pickup = port("pickup", s.pickup_url, s.pickup_token)
    wms = port("wms", s.wms_url, s.wms_token)
    tms = port("tms", s.tms_url, s.tms_token)
    rewards = port("rewards", s.rewards_url, s.rewards_token)
    return (
        HttpPickups(pickup) if pickup else None,
        HttpFulfilment(wms, tms) if wms or tms else None,
        HttpRewards(rewards) if rewards else None,
    )
