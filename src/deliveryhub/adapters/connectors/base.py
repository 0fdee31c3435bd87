"""Shared pieces of every connector: mapping result, event builder, settings, polling client, HTTP errors.

    vendor payload --mapper (pure)--------> MappingResult(events=[canonical dict], unmapped=[why not])
    tracking no.   --TrackingProxy (httpx)-> GET {base_url}/tracking/{no} --> mapper --> MappingResult

Mappers never raise on bad input: whatever they cannot translate is described in ``unmapped``.
Proxies raise the typed errors below (``ConnectorError`` tree) on HTTP trouble:

    * ConnectorError
      + UpstreamError           status, retry_after (seconds or None)
        - RateLimited           429
        - UpstreamUnavailable   5xx
      + TrackingNotFound        404
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REASONS: tuple[str, ...] = (
    "damaged",
    "lost",
    "address_not_found",
    "refused",
    "weather_delay",
    "customs",
    "recipient_not_available",
    "business_closed",
    "returned_to_sender",
    "returning_to_sender",
    "cancelled",
    "delayed",
    "held_for_payment",
    "rejected_by_carrier",
    "pickup_missed",
    "customer_moved",
)


@dataclass(frozen=True)
class TrackingStatus:
    """One row of a status table: our normalized tag plus an optional reason."""

    tag: str
    reason: str | None = None


@dataclass
class MappingResult:
    """Canonical events produced from one payload plus a description of everything left out."""

    events: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def extend(self, other: MappingResult) -> None:
        self.events.extend(other.events)
        self.unmapped.extend(other.unmapped)


class Mapper(Protocol):
    """A pure vendor mapper: payload -> MappingResult, never raising."""

    def __call__(
        self, payload: Any, *, order_id: str | None = None, tracking_no: str | None = None
    ) -> MappingResult: ...


def guarded(name: str, fill: Callable[..., None], payload: Any, **context: Any) -> MappingResult:
    """Run ``fill(payload, result, **context)``; whatever it raises is reported in ``unmapped``."""
    result = MappingResult()
    try:
        fill(payload, result, **context)
    except Exception as exc:  # noqa: BLE001 - a mapper reports, it never raises
        result.unmapped.append(f"{name}: mapper error {type(exc).__name__}: {exc}")
    return result


def stable_id(prefix: str, *parts: object) -> str:
    """Deterministic event id from payload facts, so a re-delivered payload dedupes."""
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()
    return f"{prefix}:{digest[:32]}"


def new_event(
    *,
    event_id: str,
    source: str,
    type: str,
    occurred_at: str,
    order_id: str,
    shipment_id: str | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """Build a canonical event envelope (see spec/EVENTS.md)."""
    return {
        "event_id": event_id[:128],
        "source": source,
        "type": type,
        "occurred_at": occurred_at,
        "order_id": order_id,
        "shipment_id": shipment_id,
        "data": data,
    }


# ------------------------------------------------------------------------------------------ HTTP errors


class ConnectorError(Exception):
    """Base class of every error a proxy raises."""


class UpstreamError(ConnectorError):
    def __init__(self, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RateLimited(UpstreamError):
    """HTTP 429: back off for ``retry_after`` seconds (None when the vendor did not say)."""


class UpstreamUnavailable(UpstreamError):
    """HTTP 5xx or a transport failure (status 0)."""


class TrackingNotFound(ConnectorError):
    """HTTP 404 for the tracking number."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(delta, 0.0)


def raise_for_status(response: httpx.Response, *, what: str) -> None:
    """Translate vendor HTTP failures into the ConnectorError tree."""
    status = response.status_code
    if status < 400:
        return
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 429:
        raise RateLimited(f"{what}: rate limited", status=status, retry_after=retry_after)
    if status >= 500:
        raise UpstreamUnavailable(f"{what}: upstream {status}", status=status, retry_after=retry_after)
    if status == 404:
        raise TrackingNotFound(f"{what}: not found")
    raise UpstreamError(f"{what}: HTTP {status}", status=status, retry_after=retry_after)


def request_json(
    transport: httpx.BaseTransport | None,
    timeout: httpx.Timeout,
    method: str,
    url: str,
    *,
    what: str,
    explain_4xx: bool = False,
    **kwargs: Any,
) -> Any:
    """One vendor call whose answer must be JSON: an unreachable vendor is UpstreamUnavailable, a failed
    status goes through raise_for_status (with the body's first 300 characters on a refusal when
    `explain_4xx`: vendors explain 4xx in the body), an answer that is not JSON is UpstreamError."""
    try:
        with httpx.Client(timeout=timeout, transport=transport) as client:
            response = client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"{what}: {type(exc).__name__}", status=0) from exc
    status = response.status_code
    if explain_4xx and 400 <= status < 500 and status != 429:
        raise UpstreamError(f"{what}: HTTP {status}: {response.text[:300]}", status=status)
    raise_for_status(response, what=what)
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"{what}: answer is not JSON", status=status) from exc


# ------------------------------------------------------------------------------------- settings + proxy


class ConnectorSettings(BaseSettings):
    """Common settings; each package subclasses with its own ``env_prefix`` (e.g. ``DELIVERYHUB_CJ_``)."""

    model_config = SettingsConfigDict(extra="ignore")

    base_url: str = ""
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    # Inbound pushes are refused unless one of these two is set (see connectors/inbound.py).
    webhook_secret_previous: SecretStr | None = None  # still accepted while the sender switches over
    webhook_allow_ips: str = ""  # comma-separated CIDRs, checked against the real peer address
    webhook_tolerance_s: int = 300  # signed timestamp must be this close to the hub clock
    timeout_s: float = 10.0
    connect_timeout_s: float = 3.0
    rate_limit_per_minute: int = 60
    poll_interval_s: int = 7200


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allowlist(text: str, what: str) -> list[Network]:
    """CIDRs from a comma-separated ``webhook_allow_ips``; ValueError naming the setting and the bad entry."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not an IP address or CIDR") from None
    return networks


class TrackingProxy:
    """Minimal polling client: ``GET {base_url}/tracking/{tracking_no}`` then the carrier's mapper.

    I/O only. ``transport`` / ``async_transport`` are the test seam (``httpx.MockTransport``).
    """

    def __init__(
        self,
        connector: Connector,
        settings: ConnectorSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not connector.polls:
            raise ValueError(f"{connector.code}: has no tracking API to poll")
        if not settings.base_url:
            raise ValueError(f"{connector.code}: base_url is not configured")
        self.carrier = connector.code
        self.settings = settings
        self._mapper = connector.map_payload
        self._transport = transport
        self._async_transport = async_transport

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s)

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if self.settings.api_key is not None:
            headers["authorization"] = f"Bearer {self.settings.api_key.get_secret_value()}"
        return headers

    def _url(self, tracking_no: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/tracking/{quote(tracking_no, safe='')}"

    def _parse(self, response: httpx.Response, tracking_no: str, order_id: str | None) -> MappingResult:
        what = f"{self.carrier} {tracking_no}"
        raise_for_status(response, what=what)
        try:
            payload = response.json()
        except ValueError as exc:
            raise UpstreamError(f"{what}: response is not JSON", status=response.status_code) from exc
        return self._mapper(payload, tracking_no=tracking_no, order_id=order_id)

    def fetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """Poll one tracking number and map the answer (blocking)."""
        try:
            with httpx.Client(timeout=self._timeout(), transport=self._transport) as client:
                response = client.get(self._url(tracking_no), headers=self._headers())
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"{self.carrier} {tracking_no}: {exc}", status=0) from exc
        return self._parse(response, tracking_no, order_id)

    async def afetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """Poll one tracking number and map the answer (asyncio)."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout(), transport=self._async_transport) as client:
                response = await client.get(self._url(tracking_no), headers=self._headers())
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"{self.carrier} {tracking_no}: {exc}", status=0) from exc
        return self._parse(response, tracking_no, order_id)


# --------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class WritebackRequest:
    """A waybill the hub learned of, to be written back to the marketplace its order came from."""

    order_id: str
    shipment_id: str | None
    carrier: str
    tracking_no: str
    # The order's own facts as the connector mapped them (its order.created `data`, personal data
    # removed): where a mapper keeps the vendor's ids (e.g. data["marketplace"]).
    order_data: Mapping[str, Any]


class WriteBack(Protocol):
    """Writes one waybill back to the vendor with `settings`; raises UpstreamError to be retried."""

    def __call__(self, settings: ConnectorSettings, request: WritebackRequest) -> None: ...


@dataclass(frozen=True)
class Connector:
    """What the registry knows about one outside system; built from data by ``registry.py``."""

    code: str
    name: str
    # "shop" | "carrier" | "aggregator" | "tracking_source" (polled per routed carrier; no push route)
    kind: str
    source: str  # canonical event source, e.g. "oms", "carrier:cj"
    map_payload: Mapper
    polls: bool = False  # has a tracking API the poller may call
    settings_cls: type[ConnectorSettings] = ConnectorSettings
    validate_number: Callable[[str], bool] | None = None
    # Marketplaces: tell the vendor about a waybill (발송처리 / 송장 업로드); see connectors/writeback.py.
    write_back: WriteBack | None = None

    @property
    def env_prefix(self) -> str:
        """Prefix of this connector's environment variables, e.g. ``DELIVERYHUB_CJ_``."""
        return f"DELIVERYHUB_{self.code.upper()}_"

    def env_name(self, setting: str) -> str:
        """The environment variable of one setting, e.g. ``DELIVERYHUB_CJ_WEBHOOK_SECRET``."""
        return self.env_prefix + setting.upper()

    def settings(self) -> ConnectorSettings:
        """Fresh settings from the connector's environment variables."""
        # pydantic-settings takes the prefix per instance; mypy's synthesized __init__ does not know it.
        prefix: dict[str, Any] = {"_env_prefix": self.env_prefix}
        return self.settings_cls(**prefix)


def _registry() -> dict[str, Connector]:
    # The vendor modules import this one, so the registry that imports them is read on first use.
    from deliveryhub.adapters.connectors.registry import CONNECTORS

    return CONNECTORS


def get_connector(code: str) -> Connector:
    """The connector registered under ``code``; KeyError if there is none."""
    registry = _registry()
    if code not in registry:
        raise KeyError(f"unknown connector {code!r}; known: {sorted(registry)}")
    return registry[code]


def connector_codes() -> list[str]:
    """Every registered connector, in registry order."""
    return list(_registry())


def push_codes() -> list[str]:
    """Connectors whose tracking pushes the carrier webhook route takes (carriers and aggregators)."""
    return [c.code for c in _registry().values() if c.kind in ("carrier", "aggregator")]


def carrier_codes() -> list[str]:
    """Codes of the carriers we talk to directly (Korean parcel carriers), in registry order."""
    return [c.code for c in _registry().values() if c.kind == "carrier"]
