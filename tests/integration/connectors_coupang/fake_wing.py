"""A local Coupang Wing (FastAPI): the documented paths, the HMAC Authorization checked server-side, nextToken
paging, Coupang's error bodies, one-off 429 (Retry-After) / 500 answers; it records every call."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from deliveryhub.adapters.connectors.coupang.client import parse_authorization

VENDOR = "A00012345"
ACCESS = "ak-test-0a3a0f34"
SECRET = "sk-test-7ffcdf98"
BASE = f"/v2/providers/openapi/apis/api/v4/vendors/{VENDOR}"


@dataclass
class Wing:
    """The marketplace's state: ordersheets by box, calls, and answers queued to fail."""

    sheets: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    fail: dict[str, list[tuple[int, dict[str, str], Any]]] = field(default_factory=dict)
    invoices: dict[int, str] = field(default_factory=dict)  # box -> invoice number accepted
    returns: list[dict[str, Any]] = field(default_factory=list)  # by receiptStatus code (RU, UC, …)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[dict[str, Any]] = field(default_factory=list)  # listed with cancelType=CANCEL
    refused_auth: int = 0

    def calls_to(self, name: str) -> list[tuple[str, str, dict[str, str], Any]]:
        """Calls whose path ends with ``name``."""
        return [c for c in self.calls if c[1].endswith(name)]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": status, "message": message}, status_code=status, headers=headers)


def build(wing: Wing) -> FastAPI:
    """The FastAPI app speaking Wing's ordersheet, acknowledgement and invoice APIs."""
    app = FastAPI()

    @app.middleware("http")
    async def check(request: Request, call_next: Any) -> Any:
        fields = parse_authorization(request.headers.get("authorization", ""))
        query = request.scope["query_string"].decode()
        message = f"{fields.get('signed-date', '')}{request.method}{request.url.path}{query}"
        expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
        if fields.get("access-key") != ACCESS or not hmac.compare_digest(
            fields.get("signature", ""), expected
        ):
            wing.refused_auth += 1
            return _error(401, "Invalid signature.")
        body = await request.json() if request.method in ("PUT", "POST") else None
        wing.calls.append((request.method, request.url.path, dict(request.query_params), body))
        for name, queued in wing.fail.items():
            if request.url.path.endswith(name) and queued:
                status, headers, answer = queued.pop(0)
                return JSONResponse(answer, status_code=status, headers=headers)
        return await call_next(request)  # type: ignore[no-any-return]

    @app.get(f"{BASE}/ordersheets")
    def ordersheets(request: Request) -> Any:
        q = request.query_params
        if not (q.get("createdAtFrom") and q.get("createdAtTo") and q.get("status")):
            return _error(400, "createdAtFrom, createdAtTo and status are required")
        width = 16 if q.get("searchType") == "timeFrame" else 10  # per minute or per day
        low, high = q["createdAtFrom"][:width], q["createdAtTo"][:width]
        rows = [
            s for s in wing.sheets if s["status"] == q["status"] and low <= s["orderedAt"][:width] <= high
        ]
        size = int(q.get("maxPerPage") or 50)
        start = int(q.get("nextToken") or 0)
        page = rows[start : start + size]
        token = str(start + size) if start + size < len(rows) else ""
        return {"code": 200, "message": "OK", "data": page, "nextToken": token}

    def _window(q: Any, rows: list[dict[str, Any]], width: int) -> list[dict[str, Any]]:
        low, high = q["createdAtFrom"][:width], q["createdAtTo"][:width]
        return [r for r in rows if low <= r["createdAt"][:width] <= high]

    @app.get(f"{BASE}/returnRequests")
    def returns(request: Request) -> Any:
        q = request.query_params
        if q.get("cancelType") == "CANCEL":  # buyers' cancels: Coupang wants no status / orderId with it
            if q.get("status") or q.get("orderId") or q.get("searchType") != "timeFrame":
                return _error(400, "cancelType=CANCEL takes searchType=timeFrame and no status or orderId")
            found = _window(q, wing.cancels, 16)
            size, start = int(q.get("maxPerPage") or 50), int(q.get("nextToken") or 0)
            token = str(start + size) if start + size < len(found) else ""
            return {"code": 200, "message": "OK", "data": found[start : start + size], "nextToken": token}
        if q.get("searchType") != "timeFrame" or not q.get("status"):
            return _error(400, "searchType=timeFrame and status are required")
        rows = [r for r in _window(q, wing.returns, 16) if r["_status"] == q["status"]]
        return {
            "code": 200,
            "message": "OK",
            "data": [{k: v for k, v in r.items() if k != "_status"} for r in rows],
        }

    @app.get(f"{BASE}/exchangeRequests")
    def exchanges(request: Request) -> Any:
        q = request.query_params
        rows = _window(q, wing.exchanges, 19)
        size, start = int(q.get("maxPerPage") or 50), int(q.get("nextToken") or 0)
        token = str(start + size) if start + size < len(rows) else None
        return {"code": 200, "message": "OK", "data": rows[start : start + size], "nextToken": token}

    @app.put(f"{BASE}/ordersheets/acknowledgement")
    async def acknowledge(request: Request) -> Any:
        body = await request.json()
        answers = []
        for box in body["shipmentBoxIds"]:
            sheet = next((s for s in wing.sheets if s["shipmentBoxId"] == box), None)
            if sheet is not None and sheet["status"] == "ACCEPT":
                sheet["status"] = "INSTRUCT"
            answers.append(
                {
                    "shipmentBoxId": box,
                    "succeed": sheet is not None,
                    "retryRequired": False,
                    "resultCode": "OK" if sheet else "NOT_FOUND_SHIPMENT_BOX",
                    "resultMessage": None,
                }
            )
        return {"code": "200", "message": "OK", "data": {"responseCode": 0, "responseList": answers}}

    @app.post(f"{BASE}/orders/invoices")
    async def invoices(request: Request) -> Any:
        body = await request.json()
        answers = []
        for dto in body["orderSheetInvoiceApplyDtos"]:
            box = dto["shipmentBoxId"]
            known = box in wing.invoices
            if not known:
                wing.invoices[box] = dto["invoiceNumber"]
            answers.append(
                {
                    "shipmentBoxId": box,
                    "succeed": not known,
                    "retryRequired": False,
                    "resultCode": "ALREADY_REGISTERED_INVOICE" if known else "OK",
                    "resultMessage": "이미 송장이 등록되었습니다." if known else None,
                }
            )
        return {"code": "200", "message": "OK", "data": {"responseCode": 0, "responseList": answers}}

    @app.post(f"{BASE}/orders/updateInvoices")
    async def update_invoices(request: Request) -> Any:
        body = await request.json()
        answers = []
        for dto in body["orderSheetInvoiceApplyDtos"]:
            box = dto["shipmentBoxId"]
            known = box in wing.invoices
            if known:
                wing.invoices[box] = dto["invoiceNumber"]
            answers.append(
                {
                    "shipmentBoxId": box,
                    "succeed": known,
                    "retryRequired": False,
                    "resultCode": "OK" if known else "NOT_REGISTERED_INVOICE",
                    "resultMessage": None,
                }
            )
        return {"code": 200, "message": "OK", "data": {"responseCode": 0, "responseList": answers}}

    return app


def sheet(order_id: int, box: int, status: str, ordered_at: str, items: list[int]) -> dict[str, Any]:
    """An ordersheet shaped as Coupang's published sample."""
    return {
        "shipmentBoxId": box,
        "orderId": order_id,
        "orderedAt": ordered_at,
        "orderer": {
            "name": "김*희",
            "email": "ki***@na",
            "safeNumber": "0503-**-1234",
            "ordererNumber": None,
        },
        "paidAt": ordered_at,
        "status": status,
        "shippingPrice": 3000,
        "parcelPrintMessage": "문 앞",
        "receiver": {
            "name": "김*희",
            "safeNumber": "0502-111-2222",
            "addr1": "서울특별시 송파구 송파대로 570",
            "addr2": "101동 1001호",
            "postCode": "05510",
        },
        "orderItems": [
            {
                "vendorItemId": item,
                "vendorItemName": f"상품 {item}",
                "shippingCount": 1,
                "salesPrice": 10000,
                "orderPrice": 10000,
                "externalVendorSkuCode": f"SKU-{item}",
                "estimatedShippingDate": "2026-12-08",
            }
            for item in items
        ],
        "deliveryCompanyName": "",
        "invoiceNumber": "",
    }


def return_request(
    order_id: int, receipt_id: int, status: str, created_at: str, box: int, item: int
) -> dict[str, Any]:
    """A return request shaped as the published per-minute list (``_status`` is the list's status filter)."""
    return {
        "_status": status,
        "receiptId": receipt_id,
        "orderId": order_id,
        "receiptType": "RETURN",
        "receiptStatus": "RELEASE_STOP_UNCHECKED" if status == "RU" else "RETURNS_UNCHECKED",
        "createdAt": created_at,
        "modifiedAt": created_at,
        "cancelReasonCategory1": "고객변심",
        "cancelReasonCategory2": "단순변심(사유없음)",
        "reasonCode": "CHANGEMIND",
        "reasonCodeText": "필요 없어짐 (단순 변심)",
        "returnItems": [
            {
                "vendorItemId": item,
                "vendorItemName": f"상품 {item}",
                "purchaseCount": 1,
                "cancelCount": 1,
                "shipmentBoxId": box,
            }
        ],
    }


def exchange_request(order_id: int, exchange_id: int, created_at: str, box: int, item: int) -> dict[str, Any]:
    """An exchange request shaped as the published list."""
    return {
        "exchangeId": exchange_id,
        "orderId": order_id,
        "exchangeStatus": "RECEIPT",
        "reasonCode": "DIFFERENTOPT",
        "reasonCodeText": "색상/ 사이즈가 기대와 다름",
        "reasonEtcDetail": "사이즈 교환 부탁드려요",
        "createdAt": created_at,
        "modifiedAt": created_at,
        "faultType": "CUSTOMER",
        "exchangeItemDtoV1s": [
            {"orderItemId": item, "targetItemId": item, "quantity": 1, "originalShipmentBoxId": box}
        ],
    }


def cancel_request(
    order_id: int, receipt_id: int, created_at: str, lines: list[tuple[int, int, int, int]]
) -> dict[str, Any]:
    """A buyer's cancel as the return/cancel list shows it with ``cancelType=CANCEL`` (receiptType CANCEL);
    ``lines`` are (vendorItemId, shipmentBoxId, purchaseCount, cancelCount)."""
    return {
        "receiptId": receipt_id,
        "orderId": order_id,
        "receiptType": "CANCEL",
        "receiptStatus": "RETURNS_COMPLETED",
        "createdAt": created_at,
        "modifiedAt": created_at,
        "cancelReasonCategory1": "고객변심",
        "cancelReasonCategory2": "단순변심(사유없음)",
        "cancelReason": "다른 상품으로 다시 주문할게요",
        "cancelCountSum": sum(c for *_, c in lines),
        "reasonCode": "CHANGEMIND",
        "reasonCodeText": "필요 없어짐 (단순 변심)",
        "returnItems": [
            {
                "vendorItemId": item,
                "vendorItemName": f"상품 {item}",
                "purchaseCount": purchased,
                "cancelCount": cancelled,
                "shipmentBoxId": box,
            }
            for item, box, purchased, cancelled in lines
        ],
    }
