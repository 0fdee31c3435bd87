"""A local Naver Commerce API speaking the documented paths: the bcrypt-signed token is verified server
side, last-changed-statuses pages with `data.more` (moreFrom + moreSequence), one 429 with Retry-After,
the detail query (≤300 ids), and 발송처리 recording every call (optionally a 500 first)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse

from deliveryhub.adapters.connectors.naver.auth import verify_sign
from deliveryhub.adapters.connectors.naver.client import DISPATCH_PATH, LAST_CHANGED_PATH, QUERY_PATH

CLIENT_ID = "aaaabbbbcccc"
CLIENT_SECRET = "$2a$10$abcdefghijklmnopqrstuv"  # the published example secret (non-canonical last char)
TRACE = {"timestamp": "2026-12-06T10:00:00.000+09:00", "traceId": "local"}


@dataclass
class State:
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # productOrderId -> detail
    changed: dict[str, str] = field(default_factory=dict)  # productOrderId -> lastChangedDate
    page_size: int = 2
    rate_limit_once: bool = False
    fail_next_dispatch: bool = False
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    bad_signatures: int = 0
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    dispatch_calls: list[list[dict[str, Any]]] = field(default_factory=list)
    dispatched: list[str] = field(default_factory=list)  # product order ids actually dispatched

    def place(self, detail: dict[str, Any], changed_at: str) -> None:
        """A product order placed (or changed) on the marketplace."""
        po_id = detail["productOrder"]["productOrderId"]
        self.details[po_id] = detail
        self.changed[po_id] = changed_at


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **TRACE}, status_code=status, headers=headers)


def naver_app(state: State) -> FastAPI:
    app = FastAPI()

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in state.tokens

    @app.post("/external/v1/oauth2/token")
    def token(
        client_id: str = Form(...),
        timestamp: str = Form(...),
        client_secret_sign: str = Form(...),
        grant_type: str = Form(...),
        type: str = Form(...),  # noqa: A002 - Naver's field name
    ) -> Any:
        state.token_requests += 1
        if grant_type != "client_credentials" or type != "SELF" or client_id != CLIENT_ID:
            return _error(400, "invalid_request", "bad token request")
        if not verify_sign(CLIENT_ID, CLIENT_SECRET, int(timestamp), client_secret_sign):
            state.bad_signatures += 1
            return _error(401, "GW.AUTHN", "요청을 보낼 권한이 없습니다.")
        value = secrets.token_hex(8)
        state.tokens.add(value)
        return {"access_token": value, "expires_in": 10800, "token_type": "Bearer"}

    @app.get(LAST_CHANGED_PATH)
    def last_changed(request: Request) -> Any:
        params = dict(request.query_params)
        state.seen.append(("GET", LAST_CHANGED_PATH, params))
        if not authorized(request):
            return _error(401, "GW.AUTHN", "요청을 보낼 권한이 없습니다.")
        if state.rate_limit_once:
            state.rate_limit_once = False
            return _error(429, "GW.RATE_LIMIT", "요청이 많아요", **{"Retry-After": "2"})
        start = datetime.fromisoformat(params["lastChangedFrom"])
        end = datetime.fromisoformat(params["lastChangedTo"]) if "lastChangedTo" in params else None
        rows = sorted(
            (at, po_id)
            for po_id, raw in state.changed.items()
            if (at := datetime.fromisoformat(raw)) >= start and (end is None or at <= end)
        )
        # A next page repeats lastChangedFrom = more.moreFrom and sends more.moreSequence (rows sent).
        offset = int(params.get("moreSequence", "0"))
        page = rows[offset : offset + state.page_size]
        items = []
        for at, po_id in page:
            detail = state.details[po_id]
            po = detail["productOrder"]
            items.append(
                {
                    "productOrderId": po_id,
                    "orderId": detail["order"]["orderId"],
                    "productOrderStatus": po["productOrderStatus"],
                    "lastChangedDate": state.changed[po_id],
                    "lastChangedType": "PAYED",
                    "receiverAddressChanged": False,
                }
            )
        data: dict[str, Any] = {"lastChangeStatuses": items, "count": len(items)}
        sent = offset + len(page)
        if sent < len(rows):
            data["more"] = {"moreFrom": params["lastChangedFrom"], "moreSequence": str(sent)}
        return {**TRACE, "data": data}

    @app.post(QUERY_PATH)
    async def query(request: Request) -> Any:
        if not authorized(request):
            return _error(401, "GW.AUTHN", "요청을 보낼 권한이 없습니다.")
        ids = (await request.json())["productOrderIds"]
        state.seen.append(("POST", QUERY_PATH, {"ids": ",".join(ids)}))
        if len(ids) > 300:
            return JSONResponse({"code": "invalid_input", "message": "too many", **TRACE}, status_code=400)
        return {**TRACE, "data": [state.details[i] for i in ids if i in state.details]}

    @app.post(DISPATCH_PATH)
    async def dispatch(request: Request) -> Any:
        if not authorized(request):
            return _error(401, "GW.AUTHN", "요청을 보낼 권한이 없습니다.")
        orders = (await request.json())["dispatchProductOrders"]
        state.dispatch_calls.append(orders)
        if state.fail_next_dispatch:
            state.fail_next_dispatch = False
            return _error(500, "GW.INTERNAL", "일시적인 오류")
        success, fail = [], []
        for entry in orders:
            po_id = entry["productOrderId"]
            if po_id in state.dispatched:
                fail.append(
                    {"productOrderId": po_id, "code": "ALREADY", "message": "이미 발송처리된 상품주문"}
                )
                continue
            state.dispatched.append(po_id)
            success.append(po_id)
            # Naver now reports the product order as shipped, with the carrier and number we sent.
            detail = state.details[po_id]
            detail["productOrder"]["productOrderStatus"] = "DELIVERING"
            detail["delivery"] = {
                "deliveryCompany": entry["deliveryCompanyCode"],
                "trackingNumber": entry["trackingNumber"],
                "deliveryMethod": entry["deliveryMethod"],
                "deliveryStatus": "DELIVERING",
                "sendDate": entry["dispatchDate"],
                "pickupDate": entry["dispatchDate"],
            }
            state.changed[po_id] = datetime.now(UTC).isoformat()
        return {**TRACE, "data": {"successProductOrderIds": success, "failProductOrderInfos": fail}}

    return app
