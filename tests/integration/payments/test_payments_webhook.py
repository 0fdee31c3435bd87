"""POST /v1/webhooks/tosspayments: nothing in the body is believed; the hub re-fetches the payment from a
local Toss server with its secret key and acts on Toss's answer only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.payments import tables as pt
from deliveryhub.service_layer.ports import RefundAsk
from dh_testkit import drain, event, make_hub, order_created
from providers.toss_server import TossState

AT = "2026-12-01T10:00:00+09:00"
URL = "/v1/webhooks/tosspayments"
CUSTOMER = {"name": "이서준", "phone": "010-2222-3333"}


@pytest.fixture
def client(hub: Any) -> Iterator[TestClient]:
    with TestClient(create_app(hub, run_worker=False)) as c:
        yield c


def post(client: TestClient, body: bytes) -> Any:
    return client.post(URL, content=body, headers={"Content-Type": "application/json"})


def event_ids(hub: Any) -> list[str]:
    with hub.db.read() as conn:
        return sorted(conn.execute(sa.select(t.inbox.c.event_id)).scalars())


def payment_row(hub: Any, order_id: str) -> Any:
    with hub.db.read() as conn:
        return conn.execute(sa.select(pt.payments).where(pt.payments.c.order_id == order_id)).first()


def test_a_genuine_done_webhook_records_the_payment_once(
    hub: Any, client: TestClient, toss: TossState
) -> None:
    hub.ingest.ingest([order_created("c-1", "ORD-W1", AT, CUSTOMER, total=37400)])
    key = toss.add_payment("ORD-W1", 37400)
    first = post(client, toss.webhook_body(key))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "status": "processed",
        "order_id": "ORD-W1",
        "payment_status": "DONE",
        "recorded": [f"toss:paid:{key}"],
    }
    drain(hub)
    row = payment_row(hub, "ORD-W1")
    assert (row.payment_key, row.amount, row.provider) == (key, 37400, "tosspayments")
    again = post(client, toss.webhook_body(key))  # Toss resends
    assert again.status_code == 200 and again.json().get("recorded") is None
    assert [r for r in toss.calls("GET") if r.path.endswith(key)] and all(r.auth_ok for r in toss.calls())


def test_a_forged_body_is_not_believed(hub: Any, client: TestClient, toss: TossState) -> None:
    key = toss.add_payment("ORD-W2", 10000)
    forged = {"paymentKey": key, "orderId": "ORD-OTHER", "status": "DONE", "totalAmount": 99999999}
    answer = post(client, toss.webhook_body(key, data=forged))
    assert answer.status_code == 200
    drain(hub)
    row = payment_row(hub, "ORD-W2")  # Toss's own orderId and amount, not the body's
    assert row is not None and row.amount == 10000
    assert payment_row(hub, "ORD-OTHER") is None


def test_an_unknown_payment_key_is_ignored_with_no_effect(
    hub: Any, client: TestClient, toss: TossState
) -> None:
    before = event_ids(hub)
    body = {
        "eventType": "PAYMENT_STATUS_CHANGED",
        "data": {"paymentKey": "forged_key_123", "status": "DONE", "orderId": "ORD-X", "totalAmount": 50000},
    }
    answer = post(client, json.dumps(body).encode())
    assert answer.status_code == 200
    assert answer.json() == {"status": "ignored", "reason": "unknown payment"}
    assert event_ids(hub) == before


def test_the_real_community_body_shape_is_taken(
    hub: Any, client: TestClient, toss: TossState, shared_data: Path
) -> None:
    path = (
        shared_data
        / "korean_commerce_payloads"
        / "tosspayments__webhook_PAYMENT_STATUS_CHANGED__community_real.json"
    )
    real = json.loads(path.read_text(encoding="utf-8"))
    data = real["data"]
    toss.add_payment(data["orderId"], int(data["totalAmount"]), payment_key=data["paymentKey"])
    answer = post(client, path.read_bytes())
    assert answer.status_code == 200 and answer.json()["status"] == "processed"
    drain(hub)
    assert payment_row(hub, data["orderId"]).amount == data["totalAmount"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json at all", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_json"),
        (b"[1, 2, 3]", 400, "invalid_body"),
        (b"{}", 400, "missing_field"),
        (b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {}}', 400, "invalid_field"),
        (
            b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {"paymentKey": "../../v1/x"}}',
            400,
            "invalid_field",
        ),
        (b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": "x"}', 400, "invalid_field"),
        (b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {"paymentKey": 5}}', 400, "invalid_field"),
    ],
)
def test_garbage_is_a_clear_4xx(client: TestClient, body: bytes, status: int, code: str) -> None:
    answer = post(client, body)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    body = json.dumps({"eventType": "PAYMENT_STATUS_CHANGED", "pad": "x" * 70_000}).encode()
    answer = post(client, body)
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "body_too_large"


def test_other_event_types_are_ignored(client: TestClient, toss: TossState) -> None:
    answer = post(client, b'{"eventType": "DEPOSIT_CALLBACK", "data": {}}')
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    assert toss.calls() == []


def test_toss_down_asks_for_a_resend(client: TestClient, toss: TossState) -> None:
    key = toss.add_payment("ORD-W3", 10000)
    toss.fail_next(500)
    answer = post(client, toss.webhook_body(key))
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "upstream_unavailable"
    assert toss.secret_key not in answer.text


def test_a_cancel_made_in_the_toss_dashboard_is_reconciled(
    hub: Any, client: TestClient, toss: TossState
) -> None:
    key = toss.add_payment("ORD-W4", 30000)
    hub.ingest.ingest(
        [
            order_created("c-4", "ORD-W4", AT, CUSTOMER, total=30000),
            event(
                "p-4",
                "order.paid",
                "ORD-W4",
                AT,
                {"amount": 30000, "payment_key": key, "provider": "tosspayments"},
            ),
        ]
    )
    drain(hub)
    with hub.db.write() as conn:  # the hub's own refund, sent and done at Toss but not yet recorded
        assert hub.refunds.request_refund(
            conn, RefundAsk("ORD-W4", 5000, "return", "refund:return:RT-4", "반품")
        ).ok
    toss.cancel_outside(
        key, 5000, "반품 환불"
    )  # stands for the hub's own cancel (same amount, still pending)
    tx = toss.cancel_outside(key, 8000)  # an agent refunded in the Toss dashboard
    answer = post(client, toss.webhook_body(key))
    assert answer.status_code == 200
    assert answer.json()["recorded"] == [f"toss:cancel:{tx}"]
    drain(hub)
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(pt.refunds).where(pt.refunds.c.order_id == "ORD-W4")).all()
        left = hub.refunds.refundable(conn, "ORD-W4")
        pay = payment_row(hub, "ORD-W4")
    manual = [r for r in rows if r.cause == "manual"]
    assert len(manual) == 1 and (manual[0].amount, manual[0].refund_id, manual[0].status) == (
        8000,
        tx,
        "done",
    )
    assert left == 30000 - 5000 - 8000
    assert (pay.status, pay.cancelled) == ("partially_refunded", 13000)
    again = post(client, toss.webhook_body(key))
    assert again.status_code == 200 and again.json().get("recorded") is None


def test_without_toss_configured_the_route_says_so(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DELIVERYHUB_TOSS_SECRET_KEY", raising=False)
    hub = make_hub(tmp_path, master_key)
    try:
        with TestClient(create_app(hub, run_worker=False)) as c:
            body = b'{"eventType": "PAYMENT_STATUS_CHANGED", "data": {"paymentKey": "abc123"}}'
            answer = post(c, body)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_configured"
    finally:
        hub.close()
