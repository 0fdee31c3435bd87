"""Coupang Wing HTTP client: HMAC-SHA256 signing as published, ordersheet paging, 상품준비중, 송장 업로드.

Signature (Coupang's hmac example): message = signed-date (``yyMMdd'T'HHmmss'Z'``, UTC) + method + path +
query (without ``?``); ``Authorization: CEA algorithm=HmacSHA256, access-key=…, signed-date=…, signature=…``
with the hex HMAC-SHA256 of the message under the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from deliveryhub.adapters.connectors.base import (
    UpstreamError,
    WritebackRequest,
    request_json,
)
from deliveryhub.adapters.connectors.coupang import DEFAULT_BASE_URL, CoupangSettings
from deliveryhub.adapters.connectors.coupang.codes import coupang_code

API = "/v2/providers/openapi/apis/api/v4/vendors/{vendor_id}"
ALREADY = ("ALREADY", "이미")
SHIPPED = (
    "DEPARTURE",
    "DELIVERING",
    "FINAL_DELIVERY",
    "NONE_TRACKING",
)  # an invoice Coupang already has: the upload is done


def signed_date(now: datetime) -> str:
    """Coupang's signed-date: UTC ``yyMMdd'T'HHmmss'Z'``."""
    return now.astimezone(UTC).strftime("%y%m%dT%H%M%SZ")


def signature(secret_key: str, date: str, method: str, path: str, query: str) -> str:
    """Hex HMAC-SHA256 of signed-date + method + path + query."""
    message = f"{date}{method.upper()}{path}{query}"
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def authorization(access_key: str, secret_key: str, method: str, path: str, query: str, now: datetime) -> str:
    """The ``Authorization`` header value of one request."""
    date = signed_date(now)
    sig = signature(secret_key, date, method, path, query)
    return f"CEA algorithm=HmacSHA256, access-key={access_key}, signed-date={date}, signature={sig}"


def parse_authorization(header: str) -> dict[str, str]:
    """The fields of a ``CEA …`` header (for servers and tests); empty when it is not one."""
    if not header.startswith("CEA "):
        return {}
    fields = {}
    for part in header[4:].split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    return fields


class CoupangClient:
    """One seller's Wing API; ``transport`` is the test seam, ``clock`` gives the signed-date."""

    def __init__(
        self,
        settings: CoupangSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Any = None,
    ) -> None:
        if not settings.configured:
            raise ValueError("coupang: vendor_id, access_key and secret_key are required")
        self.settings = settings
        self._transport = transport
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def base_path(self) -> str:
        """The vendor's API prefix."""
        return API.format(vendor_id=self.settings.vendor_id)

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        """One signed request; the JSON answer, or the ConnectorError tree on HTTP trouble."""
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        assert self.settings.access_key is not None and self.settings.secret_key is not None
        header = authorization(
            self.settings.access_key.get_secret_value(),
            self.settings.secret_key.get_secret_value(),
            method,
            path,
            query,
            self._clock(),
        )
        url = (self.settings.base_url or DEFAULT_BASE_URL).rstrip("/") + path + (f"?{query}" if query else "")
        headers = {"authorization": header, "content-type": "application/json;charset=UTF-8"}
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        timeout = httpx.Timeout(self.settings.timeout_s, connect=self.settings.connect_timeout_s)
        # Coupang explains refusals in the body ("이미 등록된 송장" …): explain_4xx keeps it in the error.
        return request_json(
            self._transport,
            timeout,
            method,
            url,
            what=f"coupang {method} {path}",
            explain_4xx=True,
            headers=headers,
            content=content,
        )

    def pages(self, name: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """GET …/{name} and every following ``nextToken`` page."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self.request("GET", f"{self.base_path}/{name}", {**params, "nextToken": token})
            yield page
            token = str(page.get("nextToken") or "") if isinstance(page, dict) else ""
            if not token or token in seen:
                return
            seen.add(token)

    def ordersheets(
        self, start: datetime, end: datetime, status: str, *, by_day: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every page of the ordersheet list for one status: per minute (searchType=timeFrame) or per day."""
        form = "%Y-%m-%d" if by_day else "%Y-%m-%dT%H:%M"
        params = {
            "createdAtFrom": start.strftime(form),
            "createdAtTo": end.strftime(form),
            "searchType": None if by_day else "timeFrame",
            "status": status,
            "maxPerPage": self.settings.max_per_page,
        }
        return self.pages("ordersheets", params)

    def return_requests(self, start: datetime, end: datetime, status: str) -> Iterator[dict[str, Any]]:
        """반품/출고중지 requests created in the window (per minute, searchType=timeFrame) for one status."""
        params = {
            "searchType": "timeFrame",
            "createdAtFrom": start.strftime("%Y-%m-%dT%H:%M"),
            "createdAtTo": end.strftime("%Y-%m-%dT%H:%M"),
            "status": status,
        }
        return self.pages("returnRequests", params)

    def cancel_requests(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Buyers' cancels before shipment (결제완료 취소) created in the window: the return/cancel
        request list with ``cancelType=CANCEL`` and, as Coupang documents, no ``status``/``orderId``."""
        params = {
            "searchType": "timeFrame",
            "createdAtFrom": start.strftime("%Y-%m-%dT%H:%M"),
            "createdAtTo": end.strftime("%Y-%m-%dT%H:%M"),
            "cancelType": "CANCEL",
            "maxPerPage": self.settings.max_per_page,
        }
        return self.pages("returnRequests", params)

    def exchange_requests(self, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """교환 requests created in the window, every status, ``nextToken`` paged."""
        params = {
            "createdAtFrom": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "createdAtTo": end.strftime("%Y-%m-%dT%H:%M:%S"),
            "maxPerPage": self.settings.max_per_page,
        }
        return self.pages("exchangeRequests", params)

    def acknowledge(self, shipment_box_ids: list[int]) -> dict[str, Any]:
        """상품준비중: PUT …/ordersheets/acknowledgement; the answer's data (responseList per box)."""
        body = {"vendorId": self.settings.vendor_id, "shipmentBoxIds": shipment_box_ids}
        answer = self.request("PUT", f"{self.base_path}/ordersheets/acknowledgement", body=body)
        return answer.get("data") or {} if isinstance(answer, dict) else {}

    def upload_invoices(self, dtos: list[dict[str, Any]], *, update: bool = False) -> dict[str, Any]:
        """송장 업로드 (POST …/orders/invoices) or 송장 수정 (…/orders/updateInvoices); the answer's data."""
        body = {"vendorId": self.settings.vendor_id, "orderSheetInvoiceApplyDtos": dtos}
        name = "updateInvoices" if update else "invoices"
        answer = self.request("POST", f"{self.base_path}/orders/{name}", body=body)
        return answer.get("data") or {} if isinstance(answer, dict) else {}


def _boxes(request: WritebackRequest) -> list[dict[str, Any]]:
    market = request.order_data.get("marketplace") or {}
    boxes = [b for b in market.get("boxes") or [] if isinstance(b, dict) and b.get("shipment_box_id")]
    chosen = [b for b in boxes if str(b["shipment_box_id"]) == str(request.shipment_id)]
    if not chosen and len(boxes) == 1:
        chosen = boxes
    if not chosen:
        raise UpstreamError(
            f"coupang: order {request.order_id} has no shipment box {request.shipment_id!r}", status=0
        )
    return chosen


def invoice_dtos(request: WritebackRequest, company: str) -> list[dict[str, Any]]:
    """orderSheetInvoiceApplyDtos for one waybill: one per vendor item of its shipment box."""
    chosen = _boxes(request)
    return [
        {
            "shipmentBoxId": int(box["shipment_box_id"]),
            "orderId": int(request.order_id),
            "vendorItemId": int(item),
            "deliveryCompanyCode": company,
            "invoiceNumber": request.tracking_no,
            "splitShipping": False,
            "preSplitShipped": False,
            "estimatedShippingDate": box.get("estimated_shipping_date") or "",
        }
        for box in chosen
        for item in box.get("vendor_item_ids") or []
    ]


def _is_already(text: str) -> bool:
    return any(w in text for w in ALREADY)


def _split(data: dict[str, Any]) -> tuple[list[dict[str, Any]], set[int]]:
    """Refused rows (to retry) and the boxes Coupang says already have an invoice."""
    rows = [r for r in data.get("responseList") or [] if isinstance(r, dict) and not r.get("succeed")]
    already = {
        int(r["shipmentBoxId"])
        for r in rows
        if _is_already(f"{r.get('resultCode')} {r.get('resultMessage')}")
    }
    return [r for r in rows if int(r.get("shipmentBoxId") or 0) not in already], already


def _send(client: CoupangClient, dtos: list[dict[str, Any]], update: bool) -> set[int]:
    """One upload/update; the boxes answered 'already has an invoice'; UpstreamError for the rest."""
    try:
        failed, already = _split(client.upload_invoices(dtos, update=update))
    except UpstreamError as exc:
        if 400 <= exc.status < 500 and exc.status != 429 and _is_already(str(exc)):
            return {int(d["shipmentBoxId"]) for d in dtos}
        raise
    if failed:
        summary = ", ".join(f"{r.get('shipmentBoxId')}:{r.get('resultCode')}" for r in failed)
        raise UpstreamError(
            f"coupang invoice {'update' if update else 'upload'} refused: {summary}", status=200
        )
    return already


def write_back(
    settings: Any, request: WritebackRequest, *, transport: httpx.BaseTransport | None = None
) -> None:
    """송장 업로드 of one waybill; a box that already has an invoice gets 송장 수정 with this one (a retry
    after a lost answer sends the same number again: done either way); UpstreamError to retry."""
    company = coupang_code(request.carrier)
    if company is None:
        raise UpstreamError(f"coupang: no Coupang delivery company for carrier {request.carrier!r}", status=0)
    if all(b.get("status") in SHIPPED for b in _boxes(request)):
        return  # Coupang listed the box as shipped when the hub first saw it: its invoice is Coupang's own
    client = CoupangClient(settings, transport=transport)
    dtos = invoice_dtos(request, company)
    already = _send(client, dtos, update=False)
    if already:
        _send(client, [d for d in dtos if d["shipmentBoxId"] in already], update=True)
