"""E2E: real aiosmtpd SMTP + a local HTTP server playing NHN Cloud 알림톡/SMS. A full order lifecycle
produces exactly the configured messages, in order, in Korean, each once — also when every event is
posted twice and the worker dies and restarts midway (new hub on the same database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, make_hub
from notif_kit import (
    EXPECTED_SUBJECTS,
    EXPECTED_TEMPLATES,
    Provider,
    SmtpSink,
    configure_providers,
    lifecycle,
    send_all,
)

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


def _hub(tmp_path: Path, master_key: str, clock: ManualClock, smtp: SmtpSink) -> Any:
    return make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)


def test_full_lifecycle_exact_messages_twice_posted_and_restarted(
    tmp_path: Path, master_key: str, provider: Provider, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_providers(monkeypatch, provider)
    clock = ManualClock(START)
    phone_events = lifecycle("O-KAKAO", START, {"name": "홍길동", "phone": "010-1234-5678"})
    mail_events = lifecycle("O-MAIL", START, {"name": "김영희", "email": "younghee@example.com"})
    hub = _hub(tmp_path, master_key, clock, smtp)
    half = 5
    for i in range(half):
        for batch in (
            [phone_events[i], mail_events[i]],
            [phone_events[i], mail_events[i]],
        ):  # every event twice
            hub.ingest.ingest(batch)
        clock.advance(timedelta(minutes=10))
        drain(hub)
        send_all(hub)
    # The worker claims the next due jobs and dies before sending them (no graceful shutdown).
    hub.ingest.ingest([phone_events[half], mail_events[half]])
    drain(hub)
    assert hub.notifications is not None
    claimed = hub.notifications.dispatcher.sender.claim(clock.now())
    assert claimed, "the dying worker had claimed work"
    hub.close()
    # A new worker on the same database; the claimed jobs are picked up when their lease expires.
    hub = _hub(tmp_path, master_key, clock, smtp)
    assert send_all(hub) == 0, "a live lease is respected"
    clock.advance(timedelta(minutes=6))
    for i in range(half, len(phone_events)):
        for _ in range(2):
            hub.ingest.ingest([phone_events[i], mail_events[i]])
        drain(hub)
        send_all(hub)
        clock.advance(timedelta(minutes=10))
        drain(hub)
        send_all(hub)

    kakao = provider.delivered("alimtalk")
    assert [r["json"]["templateCode"] for r in kakao] == EXPECTED_TEMPLATES
    assert {r["json"]["recipientList"][0]["recipientNo"] for r in kakao} == {"01012345678"}
    assert all(r["headers"]["X-Secret-Key"] == "secret-test" for r in kakao)
    assert all(r["path"] == "/alimtalk/v2.3/appkeys/app-test/messages" for r in kakao)
    params = {r["json"]["templateCode"]: r["json"]["recipientList"][0]["templateParameter"] for r in kakao}
    assert params["waybill_created"]["택배사"] == "CJ대한통운"
    assert params["waybill_created"]["송장번호"] == "123456789012"
    assert params["order_received"]["고객명"] == "홍길동"
    assert params["out_for_delivery"]["도착예정"] == "11월 22일(일) 15:00~17:00"
    assert "/track/" in params["delivered"]["조회링크"]
    assert provider.delivered("sms") == []  # 알림톡 worked, so no SMS fallback

    assert all(rcpt == ["younghee@example.com"] for rcpt, _ in smtp.messages)
    subjects = [m["Subject"] for _, m in smtp.messages]
    assert subjects == EXPECTED_SUBJECTS
    first = smtp.messages[0][1]
    text = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "김영희님, 주문(O-MAIL)이 정상 접수되었습니다." in text
    assert "배송 조회하기" in html and "/track/" in html

    with hub.db.read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT status, count(*) FROM notification_jobs WHERE audience='customer' GROUP BY status"
            )
        ).all()
    counts = dict(rows)
    assert counts.get("sent") == 14  # 7 per order
    assert counts.get("suppressed") == 2  # the advertising coupon: no consent
    hub.close()
