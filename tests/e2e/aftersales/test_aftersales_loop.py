"""Issue 16's loop end to end, as a customer and a warehouse desk live it, against local provider servers:
a delivered order's return is asked for in the chat (the hub's own NLU, typed as a customer types), booked
once for pickup at the carrier-return port, picked up (the carrier says so), received and inspected as
passed at the desk, refunded exactly once at the Toss-style payments server for the items' value less the
quoted fee — although Toss carries out the first cancel and its answer is lost (500) and the hub restarts
before the retry — the customer is told at every step, and the two return KPIs show it.

The clock is pinned (business days, the 7-day window); the worker's jobs are run by hand between steps."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, handed_over, make_hub, order_created, waybill
from notif_kit import Provider, configure_providers, send_all
from providers.outside_servers import OutsideServers, outside_servers
from providers.toss_server import TossState, toss_server

KST = ZoneInfo("Asia/Seoul")
ORDER = "ORD-261110-5501"
PHONE = "010-2345-7788"
PRICE = 42_000  # one item over the free-shipping line: a change of mind costs the 6,000원 round trip


@pytest.fixture
def providers(
    monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> Iterator[tuple[OutsideServers, TossState, Provider]]:
    """Carrier-return, WMS, TMS and coupon servers, the Toss server and the 알림톡/SMS provider."""
    kakao = Provider().start()
    with outside_servers() as outside, toss_server() as toss:
        for name, value in outside.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DELIVERYHUB_TOSS_SECRET_KEY", toss.secret_key)
        monkeypatch.setenv("DELIVERYHUB_TOSS_BASE_URL", toss.url)
        configure_providers(monkeypatch, kakao)
        try:
            yield outside, toss, kakao
        finally:
            kakao.stop()


def _work(hub: Any) -> None:
    """What the worker does between two steps: consumers, outside actions, notices."""
    for _ in range(4):
        drain(hub)
        hub.effects.driver.run(hub.clock.now())
    drain(hub)
    send_all(hub)


def _say(client: TestClient, sid: str, text: str) -> str:
    res = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
    assert res.status_code == 200, res.text
    return str(res.json()["reply"])


def _told(hub: Any) -> dict[str, str]:
    """The customer's notices of the order: rule → status."""
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(notification_jobs.c.rule_id, notification_jobs.c.status).where(
                notification_jobs.c.order_id == ORDER, notification_jobs.c.audience == "customer"
            )
        ).all()
    return {r.rule_id: r.status for r in rows}


def test_a_return_from_chat_to_one_refund(
    tmp_path: Path, master_key: str, providers: tuple[OutsideServers, TossState, Provider]
) -> None:
    outside, toss, kakao = providers
    clock = ManualClock(datetime(2026, 11, 10, 10, 0, tzinfo=KST))
    hub = make_hub(tmp_path, master_key, clock=clock)
    payment_key = toss.add_payment(ORDER, PRICE)
    customer = {"name": "박서연", "phone": PHONE, "email": "seoyeon@example.com"}
    items = [{"sku": "SKU-COAT-M", "qty": 1, "price": PRICE}]
    paid = {"amount": PRICE, "method": "card", "payment_key": payment_key, "provider": "tosspayments"}
    delivered = {"carrier": "cj"}
    hub.ingest.ingest(
        [
            order_created("o1", ORDER, "2026-11-10T10:00:00+09:00", customer, items=items),
            event("o2", "order.paid", ORDER, "2026-11-10T10:01:00+09:00", paid),
            waybill("o3", ORDER, "2026-11-10T15:00:00+09:00", "cj", "600200300401"),
            handed_over("o4", ORDER, "2026-11-10T18:00:00+09:00", "cj"),
            event(
                "o5", "shipment.delivered", ORDER, "2026-11-12T14:00:00+09:00", delivered, source="carrier:cj"
            ),
        ]
    )
    clock.set(datetime(2026, 11, 16, 10, 0, tzinfo=KST))  # day 4 after delivery, a Monday morning
    _work(hub)
    integration = create_api_key(hub.db, "carrier-feed", "integration")
    desk = create_api_key(hub.db, "warehouse-desk", "ops")
    analyst = create_api_key(hub.db, "analyst", "analyst")
    client = TestClient(create_app(hub, run_worker=False))

    # The customer asks in the chat, proves the order is theirs and is quoted the fee before anything opens.
    sid = client.post("/v1/chat/sessions", json={}).json()["session_id"]
    assert "뒷자리" in _say(client, sid, f"{ORDER} 반품하고 싶어요")  # whose order is it?
    assert "사유" in _say(client, sid, PHONE[-4:])  # verified: no quote before the reason
    quote = _say(client, sid, "사이즈가 안 맞아요 그냥 단순 변심이에요")
    fee = re.search(r"\d{1,3}(?:,\d{3})*원", quote)
    assert fee is not None and fee.group(0) == "6,000원", quote
    assert "(네/아니요)" in quote
    opened = _say(client, sid, "네")
    assert "접수" in opened, opened
    _work(hub)

    listed = client.get(f"/v1/returns?order_id={ORDER}", headers={"Authorization": f"Bearer {analyst}"})
    assert listed.status_code == 200, listed.text
    (ret,) = listed.json()["returns"]
    rid = ret["return_id"]
    assert (ret["fee"], ret["fee_payer"], ret["reason_code"]) == (6000, "customer", "change_of_mind")
    bookings = outside.pickup.done()
    assert len(bookings) == 1 and len(set(outside.pickup.keys())) == 1  # booked once, one Idempotency-Key

    # The carrier picks the parcel up; the warehouse desk receives and inspects it.
    clock.advance(timedelta(days=1))
    picked = event(
        "c1", "return.picked_up", ORDER, clock.now().isoformat(), {"return_id": rid}, source="carrier:cj"
    )
    res = client.post("/v1/events", json=[picked], headers={"Authorization": f"Bearer {integration}"})
    assert res.status_code in (200, 202), res.text
    _work(hub)
    clock.advance(timedelta(days=1))
    auth = {"Authorization": f"Bearer {desk}"}
    assert client.post(f"/v1/returns/{rid}/received", headers=auth).status_code == 200
    toss.fail_next(500, after=True)  # Toss cancels, the answer is lost
    passed = client.post(
        f"/v1/returns/{rid}/inspection", json={"result": "pass", "note": "태그 그대로"}, headers=auth
    )
    assert passed.status_code == 200, passed.text
    _work(hub)
    assert len(toss.cancels(payment_key)) == 1  # carried out once already; the hub does not know yet
    hub.close()

    # The hub restarts before its retry; the retry carries the same Idempotency-Key.
    clock.advance(timedelta(minutes=5))
    hub = make_hub(tmp_path, master_key, clock=clock)
    _work(hub)
    cancels = toss.cancels(payment_key)
    assert len(cancels) == 1 and cancels[0]["cancelAmount"] == PRICE - 6000
    posts = toss.calls("POST", "/cancel")
    assert len(posts) == 2 and len({p.idempotency_key for p in posts}) == 1 and posts[0].idempotency_key
    client = TestClient(create_app(hub, run_worker=False))
    state = client.get(f"/v1/returns/{rid}", headers={"Authorization": f"Bearer {analyst}"}).json()
    assert state["status"] in ("refunded", "completed"), state
    assert state["refund"]["amount"] == PRICE - 6000 and state["refund"]["status"] == "done", state["refund"]

    # Told at every step, once each, by 알림톡.
    told = _told(hub)
    for rule in (
        "return_requested",
        "return_pickup_booked",
        "return_picked_up",
        "return_received",
        "return_refunded",
    ):
        assert told.get(rule) in ("sent", "delivered"), (
            rule,
            told,
        )  # handed to 알림톡 (its receipt comes later)
    texts = [r["json"] for r in kakao.requests if "/alimtalk/" in r["path"]]
    assert len(texts) >= 5

    # The return KPIs see it: one return, processed in 2 days (asked Monday 10:00, refunded Wednesday).
    kpis = client.get(
        "/v1/kpis?from=2026-11-01&to=2026-11-30&kpi=return_processing_days,returns_count",
        headers={"Authorization": f"Bearer {analyst}"},
    ).json()["kpis"]
    assert kpis["returns_count"]["value"] == 1
    assert kpis["return_processing_days"]["value"] == pytest.approx(2.0, abs=0.05)
    hub.close()
