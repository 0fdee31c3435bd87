"""Real local servers for notification tests (e2e and integration): an aiosmtpd SMTP sink and an HTTP
server playing the NHN Cloud 알림톡/SMS provider (and webhook receiver), plus lifecycle helpers.
The `smtp` and `provider` fixtures (tests/conftest.py) start and stop them."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller


class _SmtpHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"


class LocalServer:
    """A fake server on a loopback port: `start()` returns it running, `stop()` ends it."""

    url: str

    def start(self) -> Self:
        self._run()
        return self

    def stop(self) -> None:
        self._end()

    def _run(self) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError


class SmtpSink(LocalServer):
    """A real SMTP server (aiosmtpd) on a free local port collecting messages."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=port)
        self.url = f"smtp://127.0.0.1:{port}"

    def _run(self) -> None:
        self.controller.start()

    def _end(self) -> None:
        self.controller.stop()


class Provider(LocalServer):
    """HTTP server answering like NHN Cloud (알림톡 v2.3 + SMS v3.0) and recording every request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.fail_remaining = 0  # answer 500 to this many next requests
        self.fail_always = False
        self.not_kakao_users: set[str] = set()
        self.failed_receipts: set[str] = (
            set()
        )  # request ids whose final receipt is FAILED  # numbers the 알림톡 provider rejects (resultCode -1)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer_json(self, out: Any) -> None:
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                # NHN single-message query: /alimtalk/v2.3/appkeys/{appkey}/messages/{requestId}/{seq}
                request_id = self.path.rstrip("/").split("/")[-2]
                failed = request_id in provider.failed_receipts
                out = {
                    "header": {"resultCode": 0, "isSuccessful": True},
                    "message": {
                        "requestId": request_id,
                        "messageStatus": "FAILED" if failed else "COMPLETED",
                        "resultCode": "3018" if failed else "1000",
                    },
                }
                self._answer_json(out)

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with provider.lock:
                    failing = provider.fail_always or provider.fail_remaining > 0
                    if provider.fail_remaining > 0:
                        provider.fail_remaining -= 1
                    rec = {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": body,
                        "raw": raw,
                        "ok": not failing,
                    }
                    if not failing and "/alimtalk/" in self.path:
                        number = body["recipientList"][0]["recipientNo"]
                        if number in provider.not_kakao_users:
                            rec["ok"] = False
                    provider.requests.append(rec)
                if failing:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"{}")
                    return
                if "/alimtalk/" in self.path:
                    code = 0 if rec["ok"] else -1
                    out = {
                        "header": {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": True},
                        "message": {
                            "requestId": f"req-{len(provider.requests)}",
                            "sendResults": [
                                {
                                    "recipientSeq": 1,
                                    "resultCode": code,
                                    "resultMessage": "SUCCESS" if code == 0 else "NOT_USER",
                                }
                            ],
                        },
                    }
                elif "/sms/" in self.path:
                    out = {
                        "header": {"resultCode": 0, "resultMessage": "SUCCESS", "isSuccessful": True},
                        "body": {
                            "data": {
                                "requestId": f"sms-{len(provider.requests)}",
                                "statusCode": "2",
                                "sendResultList": [{"recipientSeq": 1, "resultCode": 0}],
                            }
                        },
                    }
                else:
                    out = {"ok": True}
                self._answer_json(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _run(self) -> None:
        self.thread.start()

    def _end(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def delivered(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Successful requests (optionally only 'alimtalk' or 'sms')."""
        with self.lock:
            return [r for r in self.requests if r["ok"] and (kind is None or f"/{kind}/" in r["path"])]


def configure_providers(monkeypatch: Any, provider: Provider, **extra: str) -> None:
    """Point the 알림톡 and SMS channels at the local provider (env, like production)."""
    env = {
        "DELIVERYHUB_KAKAO_URL": provider.url,
        "DELIVERYHUB_KAKAO_APPKEY": "app-test",
        "DELIVERYHUB_KAKAO_SECRET_KEY": "secret-test",
        "DELIVERYHUB_KAKAO_SENDER_KEY": "sender-test",
        "DELIVERYHUB_SMS_URL": provider.url,
        "DELIVERYHUB_SMS_APPKEY": "sms-app",
        "DELIVERYHUB_SMS_SECRET_KEY": "s",
        "DELIVERYHUB_SMS_SENDER_NO": "15770000",
        **extra,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)


def lifecycle(order_id: str, start: datetime, customer: dict[str, Any]) -> list[dict[str, Any]]:
    """A full order lifecycle (canonical events) starting at `start`, one step every 10 minutes."""
    steps: list[tuple[str, dict[str, Any], str]] = [
        (
            "order.created",
            {
                "customer": customer,
                "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 1"},
                "items": [{"sku": "A-1", "qty": 1}],
                "total": 32000,
                "promised_delivery_date": (start + timedelta(days=2)).date().isoformat(),
            },
            "oms",
        ),
        ("order.paid", {"amount": 32000}, "oms"),
        ("inventory.reserved", {}, "wms"),
        ("fulfillment.packed", {}, "wms"),
        ("shipment.waybill_created", {"carrier": "cj", "tracking_no": "123456789012"}, "tms"),
        ("shipment.handed_over", {"carrier": "cj"}, "carrier:cj"),
        ("shipment.tracking", {"status": "in_transit", "location": "곤지암 Hub"}, "carrier:cj"),
        (
            "shipment.tracking",
            {
                "status": "out_for_delivery",
                "eta_min": (start + timedelta(hours=5)).isoformat(),
                "eta_max": (start + timedelta(hours=7)).isoformat(),
            },
            "carrier:cj",
        ),
        ("shipment.delivered", {}, "carrier:cj"),
    ]
    out = []
    for i, (type_, data, source) in enumerate(steps):
        ev: dict[str, Any] = {
            "event_id": f"{order_id}-{i}",
            "source": source,
            "type": type_,
            "occurred_at": (start + timedelta(minutes=10 * i)).isoformat(),
            "order_id": order_id,
            "data": data,
        }
        if type_.startswith("shipment."):
            ev["shipment_id"] = f"{order_id}-S1"
        out.append(ev)
    return out


# The e-mail subjects of EXPECTED_TEMPLATES, in order (Korean is the shop's language).
EXPECTED_SUBJECTS = [
    "[딜리버리허브] 주문이 접수되었습니다",
    "[딜리버리허브] 결제가 완료되었습니다",
    "[딜리버리허브] 상품 포장이 완료되었습니다",
    "[딜리버리허브] 송장이 등록되었습니다",
    "[딜리버리허브] 상품이 발송되었습니다",
    "[딜리버리허브] 오늘 배송 예정입니다",
    "[딜리버리허브] 배송이 완료되었습니다",
]

EXPECTED_TEMPLATES = [
    "order_received",
    "order_paid",
    "order_packed",
    "waybill_created",
    "handed_over",
    "out_for_delivery",
    "delivered",
]


def send_all(hub: Any, rounds: int = 20) -> int:
    """Run the notifications.send job until nothing is due."""
    job = next(j for j in hub.jobs if j.name == "notifications.send")
    total = 0
    for _ in range(rounds):
        n = job.run(hub.clock.now())
        total += n
        if n == 0:
            break
    return total
