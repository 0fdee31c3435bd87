"""Toss Payments (토스페이먼츠): refunds as the `Payments` port, and payment look-ups for the webhook.

As Toss documents it (docs.tosspayments.com, API version 2022-11-16):
- Authorization: ``Basic base64(secretKey + ":")`` — the secret key is the user name, no password.
- Refund: ``POST {base}/v1/payments/{paymentKey}/cancel`` with ``{"cancelReason", "cancelAmount"}`` (an amount
  below the balance is a partial cancel) and an ``Idempotency-Key`` header: the same key within 15 days
  answers the first request's result without cancelling again (at most 300 characters).
- Look-up: ``GET {base}/v1/payments/{paymentKey}`` answers the Payment object (status, totalAmount,
  balanceAmount, cancels[] with each cancel's transactionKey).
- Errors: the HTTP status with ``{"code", "message"}`` (reference/error-codes). 429, 5xx and the codes Toss
  says to try again later are retried; the other 4xx are refusals (the message goes to the operators).

The secret key never reaches a log line, an exception or a result message.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from deliveryhub.contracts.outside import OutsideResult, RefundRequest

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://api.tosspayments.com"
PROVIDER = "tosspayments"
PAYMENT_KEY = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
MAX_IDEMPOTENCY_KEY = 300

# Error codes Toss answers that mean "the same request may succeed later" whatever their HTTP status
# (the rest of the 4xx are refusals: NOT_CANCELABLE_AMOUNT, NOT_CANCELABLE_PAYMENT, ALREADY_CANCELED_PAYMENT,
# NOT_FOUND_PAYMENT, INVALID_REQUEST, UNAUTHORIZED_KEY, EXCEED_MAX_REFUND_DUE, NOT_ALLOWED_PARTIAL_REFUND, …).
RETRYABLE_CODES = frozenset(
    {
        "PROVIDER_ERROR",  # 400 일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.
        "FORBIDDEN_CONSECUTIVE_REQUEST",  # 403 반복적인 요청은 허용되지 않습니다. 잠시 후 다시 시도해주세요.
        "IDEMPOTENT_REQUEST_PROCESSING",  # 409 이전 멱등 요청이 처리중입니다.
        "FAILED_INTERNAL_SYSTEM_PROCESSING",  # 500
        "FAILED_REFUND_PROCESS",  # 500 은행 응답시간 지연이나 일시적인 오류
        "FAILED_METHOD_HANDLING_CANCEL",  # 500
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",  # 500
        "COMMON_ERROR",  # 500
    }
)


class TossError(Exception):
    """A look-up Toss could not answer now (unreachable, 429, 5xx, or a refusal of the request itself)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def basic_auth(secret_key: str) -> str:
    """The Authorization header value for a secret key (base64 of ``secretKey:``)."""
    return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _error_of(resp: httpx.Response) -> tuple[str, str]:
    """(code, message) of a Toss error body; the HTTP status when the body is not Toss's shape."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        code = str(body.get("code") or f"HTTP_{resp.status_code}")[:64]
        return code, str(body.get("message") or "")[:300]
    return f"HTTP_{resp.status_code}", ""


class TossPayments:
    """The Toss Payments client (the hub's `Payments` port); `refund` never raises."""

    provider = PROVIDER

    def __init__(
        self,
        secret_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not secret_key:
            raise ValueError("a Toss secret key is required")
        self._auth = basic_auth(secret_key)
        self._secret = secret_key
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._transport = transport

    def __repr__(self) -> str:
        return f"TossPayments(base_url={self.base_url!r}, secret_key=***)"

    def _scrub(self, text: str) -> str:
        """Text with the secret key and its Authorization value removed (defence in depth)."""
        return text.replace(self._secret, "***").replace(self._auth, "Basic ***")

    def _request(
        self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        all_headers = {"Authorization": self._auth, "Content-Type": "application/json", **(headers or {})}
        with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
            return client.request(method, self.base_url + path, json=json, headers=all_headers)

    def refund(self, request: RefundRequest, idempotency_key: str) -> OutsideResult:
        """Cancel `request.amount` of the payment (partial when below the balance), once per key."""
        if not PAYMENT_KEY.match(request.payment_key or ""):
            return OutsideResult("refused", message="the payment key is not a Toss paymentKey")
        if request.amount <= 0:
            return OutsideResult("refused", message="the refund amount must be positive")
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
            return OutsideResult("refused", message="the idempotency key must be 1-300 characters")
        body = {"cancelReason": (request.reason or "환불")[:200], "cancelAmount": int(request.amount)}
        path = f"/v1/payments/{quote(request.payment_key, safe='')}/cancel"
        try:
            resp = self._request("POST", path, json=body, headers={"Idempotency-Key": idempotency_key})
        except httpx.HTTPError as exc:
            log.info("toss_unreachable", action="cancel", error=type(exc).__name__)
            return OutsideResult("retry", message=f"Toss unreachable: {type(exc).__name__}")
        if resp.status_code == 200:
            return self._done(resp)
        code, message = _error_of(resp)
        text = self._scrub(f"Toss {resp.status_code} {code}: {message}".strip())
        log.info("toss_cancel_answer", status=resp.status_code, code=code)
        if resp.status_code == 429 or resp.status_code >= 500 or code in RETRYABLE_CODES:
            return OutsideResult("retry", message=text, retry_after=_retry_after(resp))
        return OutsideResult("refused", message=text, data={"code": code, "status": resp.status_code})

    def _done(self, resp: httpx.Response) -> OutsideResult:
        """The cancel succeeded: its transactionKey is the reference (the newest cancel of the payment)."""
        try:
            payment = resp.json()
        except ValueError:
            return OutsideResult("retry", message="Toss answered 200 without a JSON payment")
        cancels = payment.get("cancels") if isinstance(payment, Mapping) else None
        last = (
            cancels[-1] if isinstance(cancels, list) and cancels and isinstance(cancels[-1], Mapping) else {}
        )
        ref = last.get("transactionKey") or payment.get("lastTransactionKey") or None
        data = {
            "status": payment.get("status"),
            "balance_amount": payment.get("balanceAmount"),
            "cancel_amount": last.get("cancelAmount"),
        }
        return OutsideResult("done", ref=str(ref) if ref else None, data=data)

    def get_payment(self, payment_key: str) -> dict[str, Any] | None:
        """The Payment object Toss holds for `payment_key`; None when Toss knows no such payment.

        Raises TossError when Toss cannot be asked now (retryable) or refuses the request."""
        if not PAYMENT_KEY.match(payment_key or ""):
            return None
        try:
            resp = self._request("GET", f"/v1/payments/{quote(payment_key, safe='')}")
        except httpx.HTTPError as exc:
            raise TossError(f"Toss unreachable: {type(exc).__name__}", retryable=True) from None
        if resp.status_code == 200:
            try:
                payment = resp.json()
            except ValueError:
                raise TossError("Toss answered 200 without a JSON payment", retryable=True) from None
            return payment if isinstance(payment, dict) else None
        code, message = _error_of(resp)
        if resp.status_code == 404 or code in ("NOT_FOUND_PAYMENT", "NOT_FOUND"):
            return None
        retryable = resp.status_code == 429 or resp.status_code >= 500 or code in RETRYABLE_CODES
        raise TossError(self._scrub(f"Toss {resp.status_code} {code}: {message}"), retryable=retryable)
