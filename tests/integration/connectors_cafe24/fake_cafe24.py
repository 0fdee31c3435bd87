"""A local Cafe24 Admin API: Bearer tokens with refresh, offset paging, one 429, shipments (one 500)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

CLIENT_ID = "cafe24-client"
CLIENT_SECRET = "cafe24-client-secret"
API_VERSION = "2024-06-01"


@dataclass
class State:
    """What the fake mall holds and saw."""

    valid_tokens: set[str] = field(default_factory=lambda: {"fresh-token"})
    refresh_tokens: set[str] = field(default_factory=lambda: {"refresh-1"})
    orders: list[dict[str, Any]] = field(default_factory=list)
    shipments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refreshes: int = 0
    rate_limit_once: bool = False
    fail_next_shipment_post: bool = False  # store the shipment, then answer 500 (a lost answer)
    shipment_posts: int = 0
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def cafe24_app(state: State) -> FastAPI:
    """The fake mall's Admin API app."""
    app = FastAPI()

    @app.middleware("http")
    async def auth(request: Request, call_next: Any) -> Any:
        state.seen.append((request.method, request.url.path, dict(request.query_params)))
        if request.url.path == "/api/v2/oauth/token":
            return await call_next(request)
        if request.headers.get("x-cafe24-api-version") != API_VERSION:
            return _error(400, 400, "X-Cafe24-Api-Version is required")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in state.valid_tokens:
            return _error(401, 401, "access_token time expired. (access_token)")
        return await call_next(request)

    @app.post("/api/v2/oauth/token")
    async def token(request: Request) -> Any:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _error(401, 401, "invalid_client")
        form = await request.form()
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") not in state.refresh_tokens:
            return _error(400, 400, "invalid_grant")
        state.refreshes += 1
        state.refresh_tokens = {f"refresh-{state.refreshes + 1}"}
        state.valid_tokens.add(f"token-{state.refreshes}")
        return {
            "access_token": f"token-{state.refreshes}",
            "expires_at": "2099-01-01T00:00:00.000",
            "refresh_token": f"refresh-{state.refreshes + 1}",
            "refresh_token_expires_at": "2099-01-14T00:00:00.000",
            "client_id": CLIENT_ID,
            "mall_id": "myshop",
        }

    @app.get("/api/v2/admin/orders")
    async def orders(request: Request) -> Any:
        if state.rate_limit_once:
            state.rate_limit_once = False
            return _error(429, 429, "Too Many Requests", {"X-Api-Call-Limit": "40/40", "Retry-After": "2"})
        q = request.query_params
        if not q.get("start_date") or not q.get("end_date") or q.get("embed") != "items,receivers":
            return _error(422, 422, "start_date, end_date and embed are required")
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "10"))
        return {"orders": state.orders[offset : offset + limit]}

    @app.get("/api/v2/admin/orders/{order_id}")
    async def one_order(order_id: str, request: Request) -> Any:
        found = [o for o in state.orders if o["order_id"] == order_id]
        if not found:
            return _error(404, 404, "No API found or order not found")
        if request.query_params.get("embed") != "items,receivers":
            return {"order": {k: v for k, v in found[0].items() if k not in ("items", "receivers")}}
        return {"order": found[0]}

    @app.get("/api/v2/admin/orders/{order_id}/receivers")
    async def receivers(order_id: str) -> Any:
        found = [o for o in state.orders if o["order_id"] == order_id]
        return {"receivers": found[0]["receivers"] if found else []}

    @app.get("/api/v2/admin/orders/{order_id}/shipments")
    async def shipments(order_id: str) -> Any:
        return {"shipments": state.shipments.get(order_id, [])}

    @app.post("/api/v2/admin/orders/{order_id}/shipments")
    async def create_shipment(order_id: str, request: Request) -> Any:
        state.shipment_posts += 1
        body = await request.json()
        req = body.get("request") or {}
        missing = [
            k for k in ("tracking_no", "shipping_company_code", "order_item_code", "status") if not req.get(k)
        ]
        if missing:
            return _error(422, 422, f"missing {missing}")
        shipment = {
            "shop_no": body.get("shop_no", 1),
            "shipping_code": f"D-{order_id}-{len(state.shipments.get(order_id, [])):02d}",
            "order_id": order_id,
            "status": req["status"],
            "tracking_no": req["tracking_no"],
            "shipping_company_code": req["shipping_company_code"],
            "order_item_code": req["order_item_code"],
        }
        state.shipments.setdefault(order_id, []).append(shipment)
        if state.fail_next_shipment_post:
            state.fail_next_shipment_post = False
            return _error(500, 500, "Internal Server Error")
        return JSONResponse({"shipments": [shipment]}, status_code=201)

    return app
