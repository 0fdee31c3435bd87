"""Lifecycle orchestration: on `order.paid` reserve stock through the WMS port, on `fulfillment.packed`
create the waybill through the TMS port, on every stage change update the order in the shop's OMS.
Ports are protocols; the shipped adapter sends JSON over HTTP (per shop: URL, auth header, field names)
with an Idempotency-Key that stays the same on every retry, so a retried call never books twice.
Answers come back into the hub as canonical events through the one ingest path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from deliveryhub.monitors.config import OrchestrationCfg, ShopCfg


@dataclass
class PortResult:
    """Outcome of one call to a WMS/TMS endpoint."""

    ok: bool
    retryable: bool = False
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class WmsPort(Protocol):
    """Stock reservation in the warehouse system."""

    def reserve(
        self,
        shop: str | None,
        order_id: str,
        items: list[dict[str, Any]],
        warehouse: str | None,
        idempotency_key: str,
    ) -> PortResult: ...


class TmsPort(Protocol):
    """Waybill creation in the transport system."""

    def create_waybill(
        self, shop: str | None, order_id: str, parcel: dict[str, Any], idempotency_key: str
    ) -> PortResult: ...


class OmsPort(Protocol):
    """Order updates (stage/status, tracking number, cancellation) in the shop's order system."""

    def update_order(
        self, shop: str | None, order_id: str, update: dict[str, Any], idempotency_key: str
    ) -> PortResult: ...


def map_fields(shop: ShopCfg, body: dict[str, Any]) -> dict[str, Any]:
    """Rename our field names to the shop's (`field_map`); a field mapped to "" is left out."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = shop.field_map.get(key, key)
        if name:
            out[name] = value
    return out


def oms_body(shop: ShopCfg, update: dict[str, Any]) -> dict[str, Any]:
    """The OMS request body: our update with the shop's status value and field names."""
    stage = str(update.get("stage") or "")
    return map_fields(shop, {**update, "status": shop.stage_values.get(stage, stage)})


class HttpPorts:
    """WMS, TMS and OMS over HTTP: send JSON to the shop's configured URL with its auth header."""

    def __init__(self, cfg: OrchestrationCfg, transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.transport = transport

    def has_wms(self, shop: str | None) -> bool:
        """Whether this shop has a WMS endpoint."""
        return self.cfg.enabled and bool(self.cfg.shop(shop).wms_url)

    def has_tms(self, shop: str | None) -> bool:
        """Whether this shop has a TMS endpoint."""
        return self.cfg.enabled and bool(self.cfg.shop(shop).tms_url)

    def has_oms(self, shop: str | None, stage: str) -> bool:
        """Whether this shop's OMS wants changes to `stage`."""
        return self.cfg.enabled and self.cfg.shop(shop).pushes(stage)

    def _post(
        self,
        url: str | None,
        body: dict[str, Any],
        key: str,
        shop: ShopCfg | None = None,
        method: str = "POST",
    ) -> PortResult:
        if not url:
            return PortResult(False, False, error="no endpoint configured for this shop")
        headers = {"Idempotency-Key": key, "User-Agent": "deliveryhub-orchestrator"}
        if shop is not None:
            headers.update(shop.headers())
        try:
            with httpx.Client(timeout=self.cfg.timeout_seconds, transport=self.transport) as client:
                resp = client.request(method, url, json=body, headers=headers)
        except httpx.TimeoutException:
            return PortResult(False, True, error=f"timeout after {self.cfg.timeout_seconds}s")
        except httpx.HTTPError as exc:
            return PortResult(False, True, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        try:
            payload = resp.json() if resp.content else {}
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {"value": payload}
        # 409 = the endpoint already handled this Idempotency-Key: the booking exists, use its answer.
        if 200 <= resp.status_code < 300 or resp.status_code == 409:
            return PortResult(True, status=resp.status_code, body=payload)
        retryable = resp.status_code >= 500 or resp.status_code in (408, 425, 429)
        return PortResult(
            False,
            retryable,
            resp.status_code,
            payload,
            f"HTTP {resp.status_code}: {str(payload.get('error') or resp.text)[:200]}",
        )

    def reserve(
        self,
        shop: str | None,
        order_id: str,
        items: list[dict[str, Any]],
        warehouse: str | None,
        idempotency_key: str,
    ) -> PortResult:
        """Ask the WMS to reserve the order's items."""
        cfg = self.cfg.shop(shop)
        body = map_fields(cfg, {"order_id": order_id, "items": items, "warehouse": warehouse})
        return self._post(cfg.wms_url, body, idempotency_key, cfg)

    def create_waybill(
        self, shop: str | None, order_id: str, parcel: dict[str, Any], idempotency_key: str
    ) -> PortResult:
        """Ask the TMS to create a waybill for the packed order."""
        cfg = self.cfg.shop(shop)
        return self._post(
            cfg.tms_url, map_fields(cfg, {"order_id": order_id, **parcel}), idempotency_key, cfg
        )

    def update_order(
        self, shop: str | None, order_id: str, update: dict[str, Any], idempotency_key: str
    ) -> PortResult:
        """Push an order's new stage (and tracking number / cancellation) to the shop's OMS."""
        cfg = self.cfg.shop(shop)
        url = cfg.oms_url.replace("{order_id}", quote(order_id, safe="")) if cfg.oms_url else None
        return self._post(
            url, oms_body(cfg, {"order_id": order_id, **update}), idempotency_key, cfg, cfg.oms_method
        )


def wms_events(order_id: str, result: PortResult, at: str) -> list[dict[str, Any]]:
    """Canonical events from a WMS answer (none when the WMS will report asynchronously)."""
    body = result.body
    status = str(body.get("status") or "").lower()
    base = {"source": "wms", "occurred_at": body.get("occurred_at") or at, "order_id": order_id}
    if status == "reserved":
        data: dict[str, Any] = {"items": body.get("items") or []}
        if body.get("warehouse"):
            data["warehouse"] = body["warehouse"]
        return [{**base, "event_id": f"orch:{order_id}:reserved", "type": "inventory.reserved", "data": data}]
    if status == "shortage":
        return [
            {
                **base,
                "event_id": f"orch:{order_id}:shortage",
                "type": "inventory.shortage",
                "data": {
                    "sku": body.get("sku"),
                    "requested": body.get("requested"),
                    "available": body.get("available"),
                },
            }
        ]
    return []


def tms_events(order_id: str, result: PortResult, at: str) -> list[dict[str, Any]]:
    """Canonical events from a TMS answer."""
    body = result.body
    if not body.get("tracking_no"):
        return []
    shipment = str(body.get("shipment_id") or body["tracking_no"])
    return [
        {
            "source": "tms",
            "event_id": f"orch:{order_id}:waybill:{shipment}",
            "type": "shipment.waybill_created",
            "occurred_at": body.get("occurred_at") or at,
            "order_id": order_id,
            "shipment_id": shipment,
            "data": {"carrier": body.get("carrier"), "tracking_no": body.get("tracking_no")},
        }
    ]
