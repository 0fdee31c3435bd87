"""E2E against real local servers: provider outage → retries, dead letters and replay; advertising
at night; opt-out per channel; phone change; 알림톡 → SMS fallback; signed outgoing webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.channels.webhook import verify
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs as jobs_t
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, make_hub
from notif_kit import Provider, SmtpSink, configure_providers, lifecycle, send_all

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 10:00 in Seoul
CUSTOMER = {"name": "홍길동", "phone": "010-1234-5678", "email": "gildong@example.com"}


def _jobs(hub: Any, order_id: str) -> list[Any]:
    with hub.db.read() as conn:
        return conn.execute(
            sa.select(jobs_t)
            .where(jobs_t.c.order_id == order_id, jobs_t.c.audience == "customer")
            .order_by(jobs_t.c.id)
        ).all()


def _customer_id(hub: Any, order_id: str) -> str:
    with hub.db.read() as conn:
        return str(
            conn.execute(
                sa.text("SELECT customer_id FROM orders WHERE order_id=:o"), {"o": order_id}
            ).scalar()
        )


@pytest.fixture
def hub_at_start(
    tmp_path: Path, master_key: str, provider: Provider, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, ManualClock]]:
    """A hub with every provider pointed at the local servers, its clock at START (10:00 in Seoul)."""
    configure_providers(monkeypatch, provider)
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    yield hub, clock
    hub.close()


def _step(hub: Any, events: list[dict[str, Any]]) -> None:
    hub.ingest.ingest(events)
    drain(hub)
    send_all(hub)


def test_provider_outage_retried_then_dead_lettered_and_replayed(
    tmp_path: Path, master_key: str, provider: Provider, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_providers(monkeypatch, provider, DELIVERYHUB_RETRY_BUDGET="4")
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    events = lifecycle("O-OUT", START, CUSTOMER)
    provider.fail_remaining = 6  # 3 attempts of (알림톡 500 + SMS fallback 500)
    _step(hub, events[:2])
    for _ in range(30):
        clock.advance(timedelta(seconds=40))
        send_all(hub)
    kakao = provider.delivered("alimtalk")
    assert [r["json"]["templateCode"] for r in kakao] == [
        "order_received",
        "order_paid",
    ]  # in order, once each
    assert provider.delivered("sms") == []
    jobs = _jobs(hub, "O-OUT")
    assert [(j.rule_id, j.status, j.attempts) for j in jobs[:2]] == [
        ("order_received", "sent", 4),
        ("order_paid", "sent", 1),
    ]
    with hub.db.read() as conn:
        receipts = conn.execute(
            sa.text("SELECT attempt, channel, status FROM notification_receipts WHERE job_id=:j ORDER BY id"),
            {"j": jobs[0].id},
        ).all()
    assert [tuple(r) for r in receipts] == [
        (1, "kakao", "failed"),
        (1, "sms", "failed"),
        (2, "kakao", "failed"),
        (2, "sms", "failed"),
        (3, "kakao", "failed"),
        (3, "sms", "failed"),
        (4, "kakao", "sent"),
    ]

    # Now the provider stays down: after the budget the message is dead-lettered and visible.
    provider.fail_always = True
    _step(hub, events[2:4])  # packed → one more notice
    for _ in range(12):
        clock.advance(timedelta(minutes=10))
        send_all(hub)
    packed = [j for j in _jobs(hub, "O-OUT") if j.rule_id == "order_packed"][0]
    assert packed.status == "dead" and packed.attempts == 4
    # /metrics counts every outcome per channel: 3 + 3 retries, 1 dead letter, 2 sent by 알림톡.
    counted = hub.metrics.registry.get_sample_value
    assert counted("deliveryhub_notifications_total", {"channel": "kakao", "outcome": "retry"}) == 6
    assert counted("deliveryhub_notifications_total", {"channel": "kakao", "outcome": "dead"}) == 1
    assert counted("deliveryhub_notifications_total", {"channel": "kakao", "outcome": "sent"}) == 2
    assert counted("deliveryhub_notification_latency_seconds_count", {"channel": "kakao"}) == 2
    key = create_api_key(hub.db, "ops", "ops")
    with TestClient(create_app(hub, run_worker=False)) as client:
        h = {"Authorization": f"Bearer {key}"}
        dead = client.get("/v1/notifications/dead-letters", headers=h).json()["dead_letters"]
        assert [d["id"] for d in dead] == [packed.id]
        assert dead[0]["recipient"] is None and "http 500" in dead[0]["last_error"]
        provider.fail_always = False
        assert client.post("/v1/notifications/dead-letters/999999/replay", headers=h).status_code == 404
        huge = client.post("/v1/notifications/dead-letters/99999999999999999999999/replay", headers=h)
        assert huge.status_code == 422 and huge.json()["error"]["field"] == "job_id"
        replayed = client.post(f"/v1/notifications/dead-letters/{packed.id}/replay", headers=h)
        assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
        send_all(hub)
        listed = client.get(
            "/v1/notifications", params={"order_id": "O-OUT", "status": "sent"}, headers=h
        ).json()
        assert "order_packed" in [n["rule"] for n in listed["notifications"]]
        assert client.get("/v1/notifications", params={"status": "nope"}, headers=h).status_code == 422
        detail = client.get("/v1/orders/O-OUT", headers=h).json()
        assert [n["rule"] for n in detail["notifications"] if n["audience"] == "customer"][:3] == [
            "order_received",
            "order_paid",
            "order_packed",
        ]
    templates = [r["json"]["templateCode"] for r in provider.delivered("alimtalk")]
    assert templates == ["order_received", "order_paid", "order_packed"]
    # Ops were told once about the dead letter (console channel: no ops e-mail configured).
    console = (tmp_path / "notifications-console.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum("dead letter" in json.loads(line)["subject"] for line in console) == 1
    assert "010-1234-5678" not in "\n".join(console)
    hub.close()


def test_advertising_at_22_waits_until_08_informational_goes_at_once(
    tmp_path: Path, master_key: str, provider: Provider, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_providers(monkeypatch, provider)
    evening = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # 20:00 Seoul
    clock = ManualClock(evening)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    events = lifecycle("O-AD", evening, CUSTOMER)
    _step(hub, events[:1])
    key = create_api_key(hub.db, "ops", "ops")
    with TestClient(create_app(hub, run_worker=False)) as client:
        r = client.put(
            f"/v1/customers/{_customer_id(hub, 'O-AD')}/preferences",
            json={"ad_consent": True},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200 and r.json()["ad_consent"] is True
    _step(hub, events[1:8])
    clock.set(datetime(2026, 11, 22, 13, 0, tzinfo=UTC))  # 22:00 Seoul
    delivered = dict(events[8], occurred_at=clock.now().isoformat())
    _step(hub, [delivered])
    sent = [r["json"]["templateCode"] for r in provider.delivered("alimtalk")]
    assert sent[-1] == "delivered", "the informational notice goes at once, at 22:00"
    coupon = [j for j in _jobs(hub, "O-AD") if j.rule_id == "review_coupon"][0]
    assert coupon.status == "pending"
    assert coupon.scheduled_at == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # 08:00 Seoul
    clock.set(datetime(2026, 11, 22, 22, 59, tzinfo=UTC))
    send_all(hub)
    assert provider.delivered("sms") == []
    clock.set(datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    send_all(hub)
    sms = provider.delivered("sms")
    assert len(sms) == 1
    body = sms[0]["json"]["body"]
    assert body.startswith("(광고)") and "무료수신거부" in body
    assert sms[0]["path"].endswith("/sender/mms")  # long text → LMS
    assert [r["json"]["templateCode"] for r in provider.delivered("alimtalk")].count("review_coupon") == 0
    hub.close()


def test_opt_out_every_channel_and_phone_change(
    hub_at_start: tuple[Any, ManualClock], provider: Provider, smtp: SmtpSink
) -> None:
    hub, clock = hub_at_start
    events = lifecycle("O-PREF", START, CUSTOMER)
    key = create_api_key(hub.db, "ops", "ops")
    h = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(hub, run_worker=False)) as client:
        _step(hub, events[:1])  # received → 알림톡
        cid = _customer_id(hub, "O-PREF")
        url = f"/v1/customers/{cid}/preferences"
        assert client.put(url, json={"opt_out": ["kakao"]}, headers=h).status_code == 200
        _step(hub, events[1:2])  # paid → SMS
        assert client.put(url, json={"opt_out": ["kakao", "sms"]}, headers=h).status_code == 200
        _step(hub, events[2:4])  # packed → e-mail
        assert client.put(url, json={"opt_out": ["kakao", "sms", "email"]}, headers=h).status_code == 200
        _step(hub, events[4:5])  # waybill → nobody
        assert client.put(url, json={"opt_out": [], "phone": "010-9999-8888"}, headers=h).status_code == 200
        _step(hub, events[5:6])  # handed over → 알림톡 to the NEW number
        bad = client.put(url, json={"phone": "12345"}, headers=h)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "phone"
        bad = client.put(url, json={"quiet_hours": {"start": "25:00", "end": "07:00"}}, headers=h)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "quiet_hours.start"
        assert client.put("/v1/customers/nobody/preferences", json={}, headers=h).status_code == 404
        cs = create_api_key(hub.db, "cs", "cs_agent")
        assert (
            client.put(url, json={"lang": "en"}, headers={"Authorization": f"Bearer {cs}"}).status_code == 403
        )
    kakao = provider.delivered("alimtalk")
    assert [(r["json"]["templateCode"], r["json"]["recipientList"][0]["recipientNo"]) for r in kakao] == [
        ("order_received", "01012345678"),
        ("handed_over", "01099998888"),
    ]
    sms = provider.delivered("sms")
    assert len(sms) == 1 and "결제 완료" in sms[0]["json"]["body"]
    assert [m["Subject"] for _, m in smtp.messages] == ["[딜리버리허브] 상품 포장이 완료되었습니다"]
    waybill = [j for j in _jobs(hub, "O-PREF") if j.rule_id == "waybill_created"][0]
    assert (waybill.status, waybill.last_error) == ("suppressed", "opted_out")
    with hub.db.read() as conn:
        raw = conn.execute(sa.text("SELECT phone_enc FROM notification_preferences")).scalar()
    assert b"9999" not in raw and b"8888" not in raw  # the new number is stored encrypted


def test_kakao_failure_falls_back_to_sms(hub_at_start: tuple[Any, ManualClock], provider: Provider) -> None:
    hub, clock = hub_at_start
    provider.not_kakao_users = {"01012345678"}
    _step(hub, lifecycle("O-FB", START, CUSTOMER)[:1])
    sms = provider.delivered("sms")
    assert len(sms) == 1 and sms[0]["json"]["recipientList"][0]["recipientNo"] == "01012345678"
    assert "주문 접수 안내" in sms[0]["json"]["body"]
    job = _jobs(hub, "O-FB")[0]
    assert (job.status, job.channel, bool(job.fallback), job.recipient_masked) == (
        "sent",
        "sms",
        True,
        "010-****-****",
    )


def test_outgoing_webhook_signatures_verify(
    tmp_path: Path, master_key: str, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "whsec-test-1234"
    monkeypatch.setenv("DELIVERYHUB_NOTIFY_WEBHOOK_URL", provider.url + "/hooks/deliveryhub")
    monkeypatch.setenv("DELIVERYHUB_WEBHOOK_SECRET", secret)
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock)
    for ev in lifecycle("O-WH", START, CUSTOMER)[:5]:
        _step(hub, [ev])
    hooks = [r for r in provider.requests if r["path"] == "/hooks/deliveryhub"]
    assert [json.loads(r["raw"])["stage"] for r in hooks] == [
        "received",
        "stock_confirmed",
        "picked_packed",
        "waybill_created",
    ]
    for r in hooks:
        header = r["headers"]["X-Deliveryhub-Signature"]
        parts = dict(p.split("=", 1) for p in header.split(","))
        expected = hmac.new(
            secret.encode(), parts["t"].encode() + b"." + r["raw"], hashlib.sha256
        ).hexdigest()
        assert hmac.compare_digest(parts["v1"], expected)
        assert verify(secret, header, r["raw"])
        assert not verify(secret, header, r["raw"] + b" ")
        assert not verify("wrong", header, r["raw"])
        body = json.loads(r["raw"])
        assert "홍길동" not in r["raw"].decode() and "1234-5678" not in r["raw"].decode()
        assert body["order_id"] == "O-WH" and body["tracking_url"].startswith("http://127.0.0.1:8000/track/")
    hub.close()


def test_provider_receipts_delivered_and_failed(
    hub_at_start: tuple[Any, ManualClock], provider: Provider
) -> None:
    hub, clock = hub_at_start
    _step(hub, lifecycle("O-RC", START, CUSTOMER)[:2])
    jobs = _jobs(hub, "O-RC")
    assert [j.status for j in jobs] == ["sent", "sent"]
    provider.failed_receipts = {jobs[1].provider_message_id}
    assert hub.notifications.dispatcher.poll_receipts(clock.now()) == 2
    jobs = _jobs(hub, "O-RC")
    # The failed 알림톡 (known only from its receipt) is queued once more, as SMS.
    assert [j.status for j in jobs] == ["delivered", "retry"] and jobs[1].channels[0] == "sms"
    assert hub.notifications.dispatcher.poll_receipts(clock.now()) == 0  # final receipts are not asked again
    send_all(hub)
    jobs = _jobs(hub, "O-RC")
    assert [(j.status, j.channel, j.fallback) for j in jobs] == [
        ("delivered", "kakao", False),
        ("sent", "sms", True),
    ]
    with hub.db.read() as conn:
        receipts = conn.execute(
            sa.text("SELECT job_id, channel, status FROM notification_receipts ORDER BY id")
        ).all()
    assert [tuple(r) for r in receipts] == [
        (jobs[0].id, "kakao", "sent"),
        (jobs[1].id, "kakao", "sent"),
        (jobs[0].id, "kakao", "delivered"),
        (jobs[1].id, "kakao", "failed"),
        (jobs[1].id, "sms", "sent"),
    ]
