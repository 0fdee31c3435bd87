"""SOLAPI (솔라피) — a second 알림톡/SMS provider next to NHN Cloud.

Authentication (docs.solapi.com, "API Key 인증 방식"), on every request:
    Authorization: HMAC-SHA256 apiKey=<API Key>, date=<ISO 8601>, salt=<12..64 random chars>,
                   signature=<hex HMAC-SHA256(key=API Secret, data=date + salt)>
The server refuses a date more than 15 minutes off and a signature used twice (403), so every request
gets a fresh salt.

Sending (the documented "send-many" API):
    POST {base}/messages/v4/send-many
    {"messages": [{"to": "01012345678", "from": "0212345678", "type": "ATA",
                   "kakaoOptions": {"pfId": "KA01PF...", "templateId": "...",
                                    "variables": {"#{주문번호}": "..."}, "disableSms": false}}]}
    (SOLAPI fills the registered template with ``variables``; ``text`` is sent only without variables.)
    SMS/LMS: the same without kakaoOptions, "type" SMS (≤ 90 EUC-KR bytes) or LMS (with "subject").
    → the message group: {"groupId": "G4V...", "count": {"registeredFailed": 0, ...}, "status": ...};
      the newer detail form answers {"groupInfo": {...}, "failedMessageList": [{"to", "statusCode",
      "statusMessage", ...}]}. Both are read: a message registered as failed is a permanent failure.

알림톡 → SMS fallback: SOLAPI re-sends a failed 알림톡 as SMS/LMS itself when ``disableSms`` is false
(the case only the provider sees: the number is not a KakaoTalk user). A 알림톡 refused at the API is
not sent at all, so the dispatcher's own fallback to its SMS channel still applies; with the provider's
fallback on, nothing is sent twice. Set the provider fallback off (DELIVERYHUB_SOLAPI_KAKAO_SMS_FALLBACK
=false) to let the dispatcher alone decide (e.g. to honour SMS opt-outs for 알림톡 too).

Errors: 4xx (bad request, InvalidAPIKey, SignatureDoesNotMatch …) are permanent; 408/429/5xx and an
unreachable server are retried by the dispatcher (this module never sleeps or loops).

Delivery reports: ``delivery_status(group_id)`` reads GET {base}/messages/v4/list?groupId=… — statusCode
"4000" is 수신완료 (delivered), "2000"/"3000" still pending, anything else a failure — for the
`notifications.receipts` job, like NHN's receipts. ``report_status`` reads a webhook report the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from deliveryhub.adapters.channels.base import (
    OutgoingMessage,
    SendResult,
    invalid_recipient,
    post,
    recipient_number,
)
from deliveryhub.adapters.channels.sms import SMS_MAX_BYTES, sms_bytes

DEFAULT_BASE_URL = "https://api.solapi.com"
SEND_PATH = "/messages/v4/send-many"
LIST_PATH = "/messages/v4/list"
DELIVERED = "4000"
PENDING = frozenset({"", "2000", "3000"})
_AUTH = re.compile(r"^HMAC-SHA256 (.+)$")


def signature(api_secret: str, date: str, salt: str) -> str:
    """hex HMAC-SHA256 with the API secret as key over ``date + salt`` (the documented signature)."""
    return hmac.new(api_secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()


def auth_header(api_key: str, api_secret: str, *, date: str | None = None, salt: str | None = None) -> str:
    """The ``Authorization`` header value; a fresh salt and the current UTC time unless given."""
    date = date or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    salt = salt or secrets.token_hex(16)
    sig = signature(api_secret, date, salt)
    return f"HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={sig}"


def parse_auth_header(value: str) -> dict[str, str] | None:
    """The fields (apiKey, date, salt, signature) of an HMAC-SHA256 header; None when malformed."""
    match = _AUTH.match(value.strip())
    if match is None:
        return None
    fields: dict[str, str] = {}
    for part in match.group(1).split(","):
        name, sep, val = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = val
    return fields if {"apiKey", "date", "salt", "signature"} <= fields.keys() else None


def verify_auth_header(value: str, api_key: str, api_secret: str) -> bool:
    """Whether ``value`` is a well-formed header for this key, signed with this secret (for receivers)."""
    fields = parse_auth_header(value)
    if fields is None or fields["apiKey"] != api_key or not 12 <= len(fields["salt"]) <= 64:
        return False
    return hmac.compare_digest(signature(api_secret, fields["date"], fields["salt"]), fields["signature"])


def message_status(codes: list[str]) -> str | None:
    """ "delivered" when any message reached the phone, None while pending, else "failed"."""
    if not codes:
        return None
    if DELIVERED in codes:
        return "delivered"
    if any(c in PENDING for c in codes):
        return None
    return "failed"


def report_status(report: Mapping[str, Any] | list[Any]) -> str | None:
    """The outcome of a SOLAPI delivery report (a webhook body: one message or a list of them)."""
    items = report if isinstance(report, list) else [report]
    return message_status([str(m.get("statusCode") or "") for m in items if isinstance(m, Mapping)])


def read_send_answer(provider: str, resp: httpx.Response) -> SendResult:
    """The outcome of a 2xx send-many answer (plain group info or groupInfo + failedMessageList)."""
    try:
        body = resp.json()
    except ValueError:
        return SendResult.failure(provider, "response is not JSON")
    if not isinstance(body, dict):
        return SendResult.failure(provider, "response is not a JSON object")
    info = body.get("groupInfo")
    group: dict[str, Any] = info if isinstance(info, dict) else body
    failed = body.get("failedMessageList") or []
    if failed:
        first = failed[0] if isinstance(failed[0], dict) else {}
        code, text = first.get("statusCode"), str(first.get("statusMessage") or "")[:200]
        return SendResult.failure(provider, f"message {code}: {text}".rstrip(": "), retryable=False)
    count = group.get("count") or {}
    if int(count.get("registeredFailed") or 0) > 0 and not int(count.get("registeredSuccess") or 0):
        return SendResult.failure(provider, "message registration failed", retryable=False)
    group_id = group.get("groupId") or group.get("_id")
    if not group_id:
        return SendResult.failure(provider, "answer has no groupId", retryable=False)
    return SendResult(ok=True, provider=provider, status="sent", message_id=str(group_id))


class SolapiChannel:
    """One SOLAPI account (API key + secret) sending from one registered calling number."""

    name = ""
    provider = ""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        sender_no: str,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key
        self.api_secret = api_secret
        self.sender_no = sender_no.replace("-", "")
        self.timeout = timeout

    def headers(self) -> dict[str, str]:
        """Signed request headers (a fresh salt per call)."""
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": auth_header(self.api_key, self.api_secret),
        }

    def message(self, to: str, message: OutgoingMessage) -> dict[str, Any]:
        """One entry of ``messages`` (subclasses add the channel's own fields)."""
        raise NotImplementedError

    def send(self, message: OutgoingMessage) -> SendResult:
        """POST one message to send-many and read the answer."""
        to = recipient_number(message.to)
        if to is None:
            return invalid_recipient(self.provider)
        body = {"messages": [self.message(to, message)]}
        answer = post(
            self.provider, self.base_url + SEND_PATH, timeout=self.timeout, headers=self.headers(), json=body
        )
        if isinstance(answer, SendResult):
            return answer
        return read_send_answer(self.provider, answer)

    def delivery_status(self, group_id: str) -> str | None:
        """Final receipt of a sent group: "delivered", "failed", or None while pending/unknown."""
        try:
            resp = httpx.get(
                self.base_url + LIST_PATH,
                params={"groupId": group_id},
                headers=self.headers(),
                timeout=self.timeout,
            )
            body = resp.json() if resp.status_code < 300 else {}
        except (httpx.HTTPError, ValueError):
            return None
        listed = body.get("messageList") if isinstance(body, dict) else None
        items = list(listed.values()) if isinstance(listed, dict) else listed or []
        return message_status([str(m.get("statusCode") or "") for m in items if isinstance(m, dict)])


class SolapiSms(SolapiChannel):
    """SMS (≤ 90 EUC-KR bytes) or LMS through SOLAPI."""

    name = "sms"
    provider = "solapi-sms"

    def message(self, to: str, message: OutgoingMessage) -> dict[str, Any]:
        """SMS when short, LMS (with a subject) otherwise."""
        out: dict[str, Any] = {"to": to, "from": self.sender_no, "text": message.text}
        if sms_bytes(message.text) <= SMS_MAX_BYTES:
            out["type"] = "SMS"
        else:
            out["type"] = "LMS"
            out["subject"] = (message.subject or message.text.splitlines()[0])[:20]
        return out


class SolapiAlimtalk(SolapiChannel):
    """알림톡 (ATA) through SOLAPI with a registered template; ``pf_id`` is the KakaoTalk channel's id."""

    name = "kakao"
    provider = "solapi-alimtalk"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        sender_no: str,
        pf_id: str,
        *,
        sms_fallback: bool = False,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, api_key, api_secret, sender_no, timeout)
        self.pf_id = pf_id
        self.sms_fallback = sms_fallback

    def message(self, to: str, message: OutgoingMessage) -> dict[str, Any]:
        """An ATA message: template id, ``#{name}`` variables, SOLAPI's own SMS fallback as configured."""
        variables = {f"#{{{k}}}": str(v) for k, v in message.variables.items()}
        out: dict[str, Any] = {
            "to": to,
            "from": self.sender_no,
            "type": "ATA",
            "kakaoOptions": {
                "pfId": self.pf_id,
                "templateId": message.template_code or "",
                "variables": variables,
                "disableSms": not self.sms_fallback,
            },
        }
        if not variables:
            # Without variables SOLAPI matches `text` against the registered template (the older form).
            out["text"] = message.text
        return out
