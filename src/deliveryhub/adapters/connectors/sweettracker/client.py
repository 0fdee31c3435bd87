"""Sweet Tracker transport (httpx, blocking): trackingInfo, recommend, companylist.

    GET {base_url}/api/v1/trackingInfo?t_key=&t_code=&t_invoice=
    GET {base_url}/api/v1/recommend?t_key=&t_invoice=       -> {"Recommend": [{"Code", "Name"}]}
    GET {base_url}/api/v1/companylist?t_key=   -> {"Company": [{"Code", "Name", "International"}]}

Errors come as HTTP 200 ``{"status": false, "code", "msg"}``: 104/105 (no history / wrong number) ->
``TrackingNotFound``, others -> ``UpstreamError`` (401 for key problems 101/102); HTTP 429 -> ``RateLimited``,
5xx -> ``UpstreamUnavailable``. The key travels in the query string: URLs are never put in errors or logs.
"""

from __future__ import annotations

from typing import Any

import httpx

from deliveryhub.adapters.connectors.base import (
    MappingResult,
    TrackingNotFound,
    TrackingProxy,
    UpstreamError,
    request_json,
)
from deliveryhub.adapters.connectors.sweettracker import DEFAULT_URL, SweetTrackerSettings
from deliveryhub.adapters.connectors.sweettracker.codes import hub_carrier, t_code
from deliveryhub.adapters.connectors.sweettracker.mapper import map_payload
from deliveryhub.adapters.connectors.trackerdelivery.scans import Resolve, attach

NOT_FOUND_CODES = frozenset({"104", "105"})
KEY_CODES = frozenset({"101", "102"})


class SweetTrackerClient:
    """One Sweet Tracker key; ``transport`` is the test seam."""

    def __init__(
        self, settings: SweetTrackerSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._transport = transport

    def _get(self, path: str, params: dict[str, str], *, what: str) -> Any:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        timeout = httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s)
        body = request_json(
            self._transport,
            timeout,
            "GET",
            (self.settings.base_url or DEFAULT_URL).rstrip("/") + path,
            what=what,
            params={"t_key": key, **params},
            headers={"accept": "application/json"},
        )
        if isinstance(body, dict) and body.get("status") is False:
            code = str(body.get("code") or "")
            if code in NOT_FOUND_CODES:
                raise TrackingNotFound(f"{what}: {code} {body.get('msg')}")
            raise UpstreamError(f"{what}: error {code}", status=401 if code in KEY_CODES else 400)
        return body

    def tracking_info(self, code: str, invoice: str) -> dict[str, Any]:
        """The trackingInfo answer, with ``t_code`` added for the mapper."""
        body = self._get(
            "/api/v1/trackingInfo",
            {"t_code": code, "t_invoice": invoice},
            what=f"sweettracker {code} {invoice}",
        )
        if not isinstance(body, dict):
            raise UpstreamError(f"sweettracker {code} {invoice}: answer is not an object", status=200)
        return {**body, "t_code": code}

    def recommend(self, invoice: str) -> list[str]:
        """Sweet Tracker's carrier codes that fit a tracking number, most likely first."""
        body = self._get(
            "/api/v1/recommend", {"t_invoice": invoice}, what=f"sweettracker recommend {invoice}"
        )
        found = body.get("Recommend") if isinstance(body, dict) else None
        return [str(c["Code"]) for c in found or [] if isinstance(c, dict) and c.get("Code")]

    def companies(self) -> list[dict[str, Any]]:
        """Every carrier Sweet Tracker knows: ``{"code", "name", "international", "hub_carrier"}``."""
        body = self._get("/api/v1/companylist", {}, what="sweettracker companylist")
        found = body.get("Company") if isinstance(body, dict) else None
        return [
            {
                "code": str(c.get("Code")),
                "name": c.get("Name"),
                "international": str(c.get("International")).lower() == "true",
                "hub_carrier": hub_carrier(str(c.get("Code"))),
            }
            for c in found or []
            if isinstance(c, dict)
        ]


class SweetTrackerProxy(TrackingProxy):
    """The poller's proxy for one hub carrier routed through Sweet Tracker; carrier ``unknown``: the
    carrier is recommended from the tracking number (each recommendation tried, most likely first)."""

    def __init__(
        self,
        carrier: str,
        settings: SweetTrackerSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        self.carrier = carrier
        self.code = t_code(carrier)
        self.settings = settings
        self.resolve = resolve
        self.client = SweetTrackerClient(settings, transport=transport)

    def fetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """trackingInfo for one parcel (its carrier recommended when unknown), mapped."""
        codes = [self.code] if self.code else self.client.recommend(tracking_no)
        if not codes:
            raise TrackingNotFound(f"sweettracker {tracking_no}: no carrier recommended")
        for index, code in enumerate(codes):
            try:
                answer = self.client.tracking_info(code, tracking_no)
            except TrackingNotFound:
                if index == len(codes) - 1:
                    raise
                continue
            mapped = map_payload(answer, order_id=order_id, tracking_no=tracking_no)
            return attach(mapped, self.resolve(order_id, tracking_no) if self.resolve else None)
        raise TrackingNotFound(f"sweettracker {tracking_no}: not found")

    async def afetch(self, tracking_no: str, *, order_id: str | None = None) -> MappingResult:
        """As ``fetch`` (the poller is synchronous; this keeps the proxy shape)."""
        return self.fetch(tracking_no, order_id=order_id)
