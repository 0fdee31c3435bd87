"""Useful out of the box: with only DELIVERYHUB_SMTP_URL set, a customer with an e-mail address gets
every stage notice by e-mail (real aiosmtpd server); the notice-missing monitor, KPI facts and ops
alerts work from the same tables; two workers on PostgreSQL never send a message twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.facts import notice_facts
from deliveryhub.notifications.tables import notice_missing, notification_jobs
from deliveryhub.service_layer.ports import OpsAlert
from dh_testkit import drain, event, make_hub
from notif_kit import EXPECTED_SUBJECTS, SmtpSink, lifecycle, send_all

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("clean_env")


def _subjects(smtp: SmtpSink, to: str) -> list[str]:
    return [m["Subject"] for rcpt, m in smtp.messages if rcpt == [to]]


def test_only_smtp_url_every_stage_notice_by_email(tmp_path: Path, master_key: str, smtp: SmtpSink) -> None:
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    happy = lifecycle("O-1", START, {"name": "이민수", "email": "minsu@example.com"})
    failed = lifecycle("O-2", START, {"name": "박지은", "email": "jieun@example.com"})[:8] + [
        event(
            "O-2-f",
            "shipment.delivery_failed",
            "O-2",
            (START + timedelta(minutes=90)).isoformat(),
            {"reason": "recipient_absent"},
            source="carrier:cj",
            shipment_id="O-2-S1",
        )
    ]
    cancelled = lifecycle("O-3", START, {"name": "최수진", "email": "sujin@example.com"})[:2] + [
        event(
            "O-3-c", "order.cancelled", "O-3", (START + timedelta(minutes=15)).isoformat(), {"reason": "변심"}
        )
    ]
    for i in range(9):
        batch = [evs[i] for evs in (happy, failed, cancelled) if i < len(evs)]
        hub.ingest.ingest(batch)
        clock.advance(timedelta(minutes=10))
        drain(hub)
        send_all(hub)
    assert _subjects(smtp, "minsu@example.com") == EXPECTED_SUBJECTS
    assert _subjects(smtp, "jieun@example.com")[-1] == "[딜리버리허브] 배송에 실패했습니다"
    fail_mail = [m for rcpt, m in smtp.messages if rcpt == ["jieun@example.com"]][-1]
    assert "사유: 수취인 부재" in fail_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert _subjects(smtp, "sujin@example.com") == [
        "[딜리버리허브] 주문이 접수되었습니다",
        "[딜리버리허브] 결제가 완료되었습니다",
        "[딜리버리허브] 주문이 취소되었습니다",
    ]
    for _, m in smtp.messages:
        assert m.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in m.iter_parts()] == ["text/plain", "text/html"]
    # Every required notice went out in time: automation 100 %, nothing missing.
    with hub.db.read() as conn:
        facts = notice_facts(conn, START.date(), START.date())
    # received, waybill, handed over, out for delivery + delivered / delivery failed; received + cancelled
    assert facts["required"] == 5 + 5 + 2
    assert facts["notification_automation_rate"] == 1.0
    assert facts["notification_missing_rate"] == 0.0
    assert hub.notifications.dispatcher.check_missing(clock.now() + timedelta(hours=1)) == 0
    hub.close()


def test_notice_missing_monitor_and_facts(tmp_path: Path, master_key: str, smtp: SmtpSink) -> None:
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    # No e-mail and no phone: the required "received" notice cannot reach anyone.
    hub.ingest.ingest(lifecycle("O-NC", START, {"name": "무연락"})[:1])
    hub.ingest.ingest(lifecycle("O-OK", START, {"name": "연락됨", "email": "ok@example.com"})[:1])
    drain(hub)
    send_all(hub)
    dispatcher = hub.notifications.dispatcher
    assert dispatcher.check_missing(clock.now() + timedelta(minutes=9)) == 0  # deadline not reached yet
    assert dispatcher.check_missing(clock.now() + timedelta(minutes=11)) == 1
    assert dispatcher.check_missing(clock.now() + timedelta(minutes=12)) == 0  # flagged once
    with hub.db.read() as conn:
        flagged = conn.execute(sa.select(notice_missing)).all()
        facts = notice_facts(conn, START, START + timedelta(days=1))
        job = conn.execute(sa.select(notification_jobs).where(notification_jobs.c.order_id == "O-NC")).first()
    assert [(f.order_id, f.stage, f.status) for f in flagged] == [("O-NC", "received", "open")]
    assert job is not None and (job.status, job.last_error) == ("failed", "no_channel")
    assert facts["required"] == 2 and facts["missing"] == 1 and facts["automatic"] == 1
    assert facts["notification_missing_rate"] == 0.5
    hub.close()


def test_notice_facts_port_says_which_stage_changes_the_customer_was_told_of(
    tmp_path: Path, master_key: str, smtp: SmtpSink
) -> None:
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    assert hub.notifications is not None
    # The hub's ports are the feature's own providers (monitors' notice timer asks core.notice_facts).
    assert hub.ops_alerts is hub.notifications.ops_alerts and hub.links is hub.notifications.links
    hub.ingest.ingest(lifecycle("O-NC", START, {"name": "무연락"})[:4])
    hub.ingest.ingest(lifecycle("O-OK", START, {"name": "연락됨", "email": "ok@example.com"})[:4])
    drain(hub)
    with hub.db.read() as conn:  # queued, not sent yet: not told
        assert hub.notice_facts.notice_sent(conn, "O-OK", "received") is False
    send_all(hub)
    with hub.db.read() as conn:
        told = hub.notice_facts.notice_sent
        assert told(conn, "O-OK", "received") is True
        assert told(conn, "O-NC", "received") is False  # nobody could be reached: failed, not told
        assert told(conn, "O-NC", "picked_packed") is True  # no required notice for this stage
        assert told(conn, "O-NOPE", "received") is True  # nothing was ever owed
    hub.close()


def test_delay_notice_facts_and_one_ops_alert_per_key(
    tmp_path: Path, master_key: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_OPS_EMAIL", "ops@shop.example")
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    evs = lifecycle("O-D", START, {"name": "지연", "email": "late@example.com"})[:6]
    evs.append(
        event(
            "O-D-eta",
            "shipment.eta_updated",
            "O-D",
            (START + timedelta(hours=2)).isoformat(),
            {"eta_min": "2026-11-25T00:00:00+09:00", "eta_max": "2026-11-25T23:59:00+09:00"},
            source="tms",
            shipment_id="O-D-S1",
        )
    )
    hub.ingest.ingest(evs)
    drain(hub)
    send_all(hub)
    down = OpsAlert(
        "carrier_down",
        "cj-2026-11-22",
        "CJ 조회 장애",
        "CJ 배송조회 API가 응답하지 않습니다",
        {"carrier": "cj"},
    )
    hub.ops_alerts.notify_ops(down)
    hub.ops_alerts.notify_ops(OpsAlert(down.kind, down.key, down.subject, "again", down.data))
    send_all(hub)
    ops = [m for rcpt, m in smtp.messages if rcpt == ["ops@shop.example"]]
    assert [m["Subject"] for m in ops if "CJ" in m["Subject"]] == ["[운영] CJ 조회 장애"]  # one per key
    eta_mail = [m for rcpt, m in smtp.messages if rcpt == ["late@example.com"] and "예정일" in m["Subject"]][
        0
    ]
    assert eta_mail["Subject"] == "[딜리버리허브] 도착 예정일이 변경되었습니다"
    assert "11월 25일(수)" in eta_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with hub.db.read() as conn:
        facts = notice_facts(conn, START.date(), START.date())
    assert list(facts["delay_notices"]) == ["O-D"]
    hub.close()


@pytest.mark.postgres
def test_two_workers_on_postgres_send_each_message_once(
    tmp_path: Path, master_key: str, smtp: SmtpSink, pg_url: str
) -> None:
    clock = ManualClock(START)
    a = make_hub(tmp_path, master_key, db_url=pg_url, clock=clock, smtp_url=smtp.url)
    b = make_hub(tmp_path, master_key, db_url=pg_url, clock=clock, smtp_url=smtp.url)
    events = []
    for n in range(20):
        events += lifecycle(f"O-PG{n}", START, {"name": "고객", "email": f"c{n}@example.com"})[:5]
    a.ingest.ingest(events)
    drain(a)
    threads = [threading.Thread(target=send_all, args=(h,)) for h in (a, b, a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sent = [(tuple(rcpt), m["Subject"]) for rcpt, m in smtp.messages]
    assert len(sent) == 20 * 4  # received, paid, packed, waybill for each order
    assert len(set(sent)) == len(sent)
    a.close()
    b.close()
