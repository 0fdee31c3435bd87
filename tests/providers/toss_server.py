"""A local Toss Payments server speaking the documented API: the Payment object, cancels and webhooks.

- ``Authorization: Basic base64(secretKey + ":")`` checked (401 UNAUTHORIZED_KEY otherwise);
- ``GET /v1/payments/{paymentKey}`` answers the Payment (404 NOT_FOUND_PAYMENT for an unknown key);
- ``POST /v1/payments/{paymentKey}/cancel {cancelReason, cancelAmount?}`` cancels (partially when below the
  balance): 403 NOT_CANCELABLE_AMOUNT over the balance, 400 ALREADY_CANCELED_PAYMENT when nothing is left,
  400 INVALID_REQUEST without a reason; with an ``Idempotency-Key`` the same key answers the first result
  again without cancelling twice;
- faults: ``fail_next(500)`` answers 500 before acting; ``fail_next(500, after=True)`` acts, then answers 500
  (the answer lost on the way: a retry with the same key must get the first result);
  ``fail_next(429, retry_after=3)``; ``fail_next(400, code="PROVIDER_ERROR")``;
- ``.requests`` logs every request (method, path, Idempotency-Key, auth ok, body, status answered).

    with toss_server() as toss:
        key = toss.add_payment("ORD-1", 30000)
        monkeypatch.setenv("DELIVERYHUB_TOSS_SECRET_KEY", toss.secret_key)
        monkeypatch.setenv("DELIVERYHUB_TOSS_BASE_URL", toss.url)
        toss.fail_next(500, after=True)
        ...
        assert len(toss.cancels(key)) == 1
        body = toss.webhook_body(key)       # a PAYMENT_STATUS_CHANGED body for that payment
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from providers.serving import serving

KST = timezone(timedelta(hours=9))
SECRET_KEY = "test_sk_local_5d1f0c2e9b7a"


@dataclass(frozen=True)
class TossRequest:
    """One request as the server saw it."""

    method: str
    path: str
    idempotency_key: str | None
    auth_ok: bool
    body: Any
    status: int


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    retry_after: float | None = None
    after: bool = False


def _now() -> str:
    return datetime.now(UTC).astimezone(KST).isoformat(timespec="seconds")


@dataclass
class TossState:
    """Payments by paymentKey, the idempotent answers, the faults queued and the request log."""

    secret_key: str = SECRET_KEY
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    requests: list[TossRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    # ------------------------------------------------------------------------------ test-side API
    def add_payment(
        self,
        order_id: str,
        amount: int,
        payment_key: str | None = None,
        *,
        status: str = "DONE",
        method: str = "카드",
    ) -> str:
        """A payment Toss holds (approved now); returns its paymentKey."""
        key = payment_key or "tgen_" + uuid.uuid4().hex[:20]
        now = _now()
        with self.lock:
            self.payments[key] = {
                "mId": "tosspayments",
                "version": "2022-11-16",
                "lastTransactionKey": uuid.uuid4().hex.upper(),
                "paymentKey": key,
                "orderId": order_id,
                "orderName": f"주문 {order_id}",
                "currency": "KRW",
                "method": method,
                "status": status,
                "requestedAt": now,
                "approvedAt": now,
                "useEscrow": False,
                "cancels": None,
                "isPartialCancelable": True,
                "totalAmount": amount,
                "balanceAmount": amount,
                "suppliedAmount": round(amount / 1.1),
                "vat": amount - round(amount / 1.1),
                "taxFreeAmount": 0,
                "type": "NORMAL",
                "country": "KR",
                "failure": None,
            }
        return key

    def cancel_outside(self, payment_key: str, amount: int, reason: str = "관리자 취소") -> str:
        """A cancel made in the Toss dashboard (not by the hub); returns its transactionKey."""
        with self.lock:
            status, body = self._cancel(payment_key, {"cancelReason": reason, "cancelAmount": amount})
        if status != 200:
            raise ValueError(body)
        return str(body["cancels"][-1]["transactionKey"])

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        after: bool = False,
    ) -> None:
        """Answer the next `times` API calls with `status` (and Toss's error body); `after=True` carries a
        cancel out first (the answer is lost, not the cancel)."""
        default = {
            429: ("TOO_MANY_REQUESTS", "요청량이 초과되었습니다."),
            500: (
                "FAILED_INTERNAL_SYSTEM_PROCESSING",
                "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
            ),
        }.get(status, ("INVALID_REQUEST", "잘못된 요청입니다."))
        fault = _Fault(status, code or default[0], message or default[1], retry_after, after)
        with self.lock:
            self.faults += [fault for _ in range(times)]

    def payment(self, payment_key: str) -> dict[str, Any]:
        """The Payment object as Toss holds it now (a copy)."""
        with self.lock:
            return json.loads(json.dumps(self.payments[payment_key]))

    def cancels(self, payment_key: str) -> list[dict[str, Any]]:
        """The cancels carried out on a payment."""
        return list(self.payment(payment_key).get("cancels") or [])

    def calls(self, method: str | None = None, suffix: str = "") -> list[TossRequest]:
        """Requests received (optionally of one method, on paths ending with `suffix`)."""
        with self.lock:
            return [
                r for r in self.requests if (method is None or r.method == method) and r.path.endswith(suffix)
            ]

    def webhook_body(self, payment_key: str, *, data: dict[str, Any] | None = None) -> bytes:
        """A PAYMENT_STATUS_CHANGED webhook body for a payment (its current state, or `data` as given)."""
        payload = {
            "eventType": "PAYMENT_STATUS_CHANGED",
            "createdAt": datetime.now(UTC).astimezone(KST).replace(tzinfo=None).isoformat(),
            "data": data if data is not None else self.payment(payment_key),
        }
        return json.dumps(payload, ensure_ascii=False).encode()

    # ------------------------------------------------------------------------------ server side
    def _cancel(self, payment_key: str, body: Any) -> tuple[int, dict[str, Any]]:
        payment = self.payments.get(payment_key)
        if payment is None:
            return 404, {"code": "NOT_FOUND_PAYMENT", "message": "존재하지 않는 결제 정보 입니다."}
        if not isinstance(body, dict) or not str(body.get("cancelReason") or "").strip():
            return 400, {"code": "INVALID_REQUEST", "message": "취소 사유(cancelReason)는 필수입니다."}
        balance = int(payment["balanceAmount"])
        if balance <= 0 or payment["status"] == "CANCELED":
            return 400, {"code": "ALREADY_CANCELED_PAYMENT", "message": "이미 취소된 결제 입니다."}
        amount = body.get("cancelAmount", balance)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            return 400, {"code": "INVALID_REQUEST", "message": "잘못된 요청입니다. (cancelAmount)"}
        if amount > balance:
            return 403, {"code": "NOT_CANCELABLE_AMOUNT", "message": "취소 할 수 없는 금액 입니다."}
        tx = uuid.uuid4().hex.upper()
        cancel = {
            "transactionKey": tx,
            "cancelReason": body["cancelReason"],
            "taxExemptionAmount": 0,
            "canceledAt": _now(),
            "cancelAmount": amount,
            "taxFreeAmount": 0,
            "refundableAmount": balance - amount,
            "cancelStatus": "DONE",
            "cancelRequestId": None,
        }
        payment["cancels"] = [*(payment.get("cancels") or []), cancel]
        payment["balanceAmount"] = balance - amount
        payment["status"] = "CANCELED" if balance == amount else "PARTIAL_CANCELED"
        payment["lastTransactionKey"] = tx
        return 200, json.loads(json.dumps(payment))

    def handle(
        self, method: str, path: str, auth: str | None, key: str | None, body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer to one request (status, body, headers); records it."""
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        auth_ok = auth == expected
        with self.lock:
            status, answer, headers = self._decide(method, path, auth_ok, key, body)
            self.requests.append(TossRequest(method, path, key, auth_ok, body, status))
        return status, answer, headers

    def _decide(
        self, method: str, path: str, auth_ok: bool, key: str | None, body: Any
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not auth_ok:
            msg = "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."
            return 401, {"code": "UNAUTHORIZED_KEY", "message": msg}, {}
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) < 3 or parts[:2] != ["v1", "payments"]:
            return 404, {"code": "NOT_FOUND", "message": "존재하지 않는 정보 입니다."}, {}
        payment_key = parts[2]
        is_cancel = method == "POST" and len(parts) == 4 and parts[3] == "cancel"
        if not is_cancel and not (method == "GET" and len(parts) == 3):
            return 404, {"code": "NOT_FOUND", "message": "존재하지 않는 정보 입니다."}, {}
        fault = self.faults.pop(0) if self.faults else None
        if fault is not None and not (fault.after and is_cancel):
            return self._fault(fault)
        if not is_cancel:
            payment = self.payments.get(payment_key)
            if payment is None:
                return 404, {"code": "NOT_FOUND_PAYMENT", "message": "존재하지 않는 결제 정보 입니다."}, {}
            return 200, json.loads(json.dumps(payment)), {}
        if key and key in self.idempotent:
            status, answer = self.idempotent[key]
        else:
            status, answer = self._cancel(payment_key, body)
            if key:
                self.idempotent[key] = (status, answer)
        if fault is not None:
            return self._fault(fault)
        return status, answer, {}

    @staticmethod
    def _fault(fault: _Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
        headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after is not None else {}
        return fault.status, {"code": fault.code, "message": fault.message}, headers


def _handler(state: TossState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            status, answer, headers = state.handle(
                method,
                self.path,
                self.headers.get("Authorization"),
                self.headers.get("Idempotency-Key"),
                body,
            )
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self._serve("POST")

    return Handler


@contextmanager
def toss_server(secret_key: str = SECRET_KEY) -> Iterator[TossState]:
    """Start a local Toss Payments server on a free loopback port (`.url`); stop it on exit."""
    state = TossState(secret_key=secret_key)
    with serving(_handler(state), "fake-toss") as url:
        state.url = url
        yield state
