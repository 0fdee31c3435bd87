"""tracker.delivery GraphQL transport: ``track`` and ``registerTrackWebhook`` (httpx, blocking).

    POST {base_url}   Authorization: TRACKQL-API-KEY {clientId}:{clientSecret}
    {"query": ..., "variables": {...}}

HTTP 429 -> ``RateLimited`` (Retry-After honoured by the poller), 5xx -> ``UpstreamUnavailable``; a GraphQL
error ``NOT_FOUND`` -> ``TrackingNotFound``, ``BAD_REQUEST`` -> ``UpstreamError`` (400), ``INTERNAL`` ->
``UpstreamUnavailable``. The secret never reaches a log or an error message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import (
    MappingResult,
    TrackingNotFound,
    TrackingProxy,
    UpstreamError,
    UpstreamUnavailable,
    request_json,
)
from deliveryhub.adapters.connectors.trackerdelivery.carriers import tracker_id
from deliveryhub.adapters.connectors.trackerdelivery.mapper import map_payload
from deliveryhub.adapters.connectors.trackerdelivery.scans import Resolve, attach
from deliveryhub.adapters.connectors.trackerdelivery.settings import DEFAULT_URL, TrackerDeliverySettings

TRACK_QUERY = """query Track($carrierId: ID!, $trackingNumber: String!) {
  track(carrierId: $carrierId, trackingNumber: $trackingNumber) {
    trackingNumber
    lastEvent { time status { code name } description location { name } contact { name phoneNumber } }
    events(last: 50) { edges { node {
      time status { code name } description location { name } contact { name phoneNumber }
    } } }
  }
}"""

PROBE_QUERY = 'query { carrier(id: "kr.cjlogistics") { id } }'

REGISTER_MUTATION = """mutation RegisterTrackWebhook($input: RegisterTrackWebhookInput!) {
  registerTrackWebhook(input: $input)
}"""


class TrackerDeliveryClient:
    """One tracker.delivery account; ``transport`` is the test seam."""

    def __init__(
        self, settings: TrackerDeliverySettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport

    def _headers(self) -> dict[str, str]:
        secret = self.settings.client_secret.get_secret_value() if self.settings.client_secret else ""
        return {
            "content-type": "application/json",
            "accept": "application/json",
            "authorization": f"TRACKQL-API-KEY {self.settings.client_id}:{secret}",
        }

    def graphql(self, query: str, variables: dict[str, Any], *, what: str) -> dict[str, Any]:
        """POST one GraphQL operation; the answer's JSON (GraphQL errors raised as ConnectorErrors)."""
        timeout = httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s)
        body = request_json(
            self._transport,
            timeout,
            "POST",
            self.settings.base_url or DEFAULT_URL,
            what=what,
            json={"query": query, "variables": variables},
            headers=self._headers(),
        )
        if not isinstance(body, dict):
            raise UpstreamError(f"{what}: answer is not an object", status=200)
        _raise_graphql(body, what)
        return body

    def track(self, carrier_id: str, tracking_no: str) -> dict[str, Any]:
        """The ``track`` answer, with ``carrierId``/``trackingNumber`` added for the mapper."""
        body = self.graphql(
            TRACK_QUERY,
            {"carrierId": carrier_id, "trackingNumber": tracking_no},
            what=f"trackerdelivery {carrier_id} {tracking_no}",
        )
        if not isinstance(body.get("data"), dict) or body["data"].get("track") is None:
            raise TrackingNotFound(f"trackerdelivery {carrier_id} {tracking_no}: no track")
        return {**body, "carrierId": carrier_id, "trackingNumber": tracking_no}

    def register_webhook(
        self, carrier_id: str, tracking_no: str, callback_url: str, expires: datetime
    ) -> None:
        """Register (or renew; a past time unregisters) the tracking webhook of one parcel."""
        variables = {
            "input": {
                "carrierId": carrier_id,
                "trackingNumber": tracking_no,
                "callbackUrl": callback_url,
                "expirationTime": expires.isoformat(),
            }
        }
        self.graphql(REGISTER_MUTATION, variables, what=f"trackerdelivery webhook {carrier_id} {tracking_no}")

    def probe(self) -> str:
        """One authenticated query (the CJ carrier's id) for ``doctor``; raises ConnectorError on trouble."""
        body = self.graphql(PROBE_QUERY, {}, what="trackerdelivery probe")
        found = (body.get("data") or {}).get("carrier") or {}
        return f"tracker.delivery answers with our credentials (carrier {found.get('id', '?')})"


def _raise_graphql(body: dict[str, Any], what: str) -> None:
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return
    first = errors[0] if isinstance(errors[0], dict) else {}
    ext = first.get("extensions")
    code = str(ext.get("code") if isinstance(ext, dict) else "") or "ERROR"
    if code == "NOT_FOUND":
        raise TrackingNotFound(f"{what}: NOT_FOUND")
    if code == "INTERNAL":
        raise UpstreamUnavailable(f"{what}: INTERNAL", status=502)
    raise UpstreamError(f"{what}: GraphQL {code}", status=400)


class TrackerDeliveryProxy(TrackingProxy):
    """The poller's proxy for one hub carrier routed through tracker.delivery."""

    def __init__(
        self,
        carrier: str,
        settings: TrackerDeliverySettings,
        *,
        transport: httpx.BaseTransport | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        carrier_id = tracker_id(carrier)
        if carrier_id is None:
            raise ValueError(f"trackerdelivery: no tracker.delivery carrier id for {carrier!r}")
        self.carrier = carrier
        self.carrier_id = carrier_id
        self.settings = settings
        self.resolve = resolve
        self.client = TrackerDeliveryClient(settings, transport=transport)

    def fetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """Query ``track`` for one parcel and map the answer."""
        mapped = map_payload(self.client.track(self.carrier_id, tracking_no), order_id=order_id)
        return attach(mapped, self.resolve(order_id, tracking_no) if self.resolve else None)

    async def afetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """As ``fetch`` (the poller is synchronous; this keeps the proxy shape)."""
        return self.fetch(tracking_no, order_id=order_id)
