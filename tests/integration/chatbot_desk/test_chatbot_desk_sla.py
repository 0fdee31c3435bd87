"""CS desk on a real hub: SLA alert once (ManualClock), pause while waiting, claims and e-mail to tickets,
canonical ticket events, CSAT."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import OpsAlertRecorder, drain, event, free_port, make_hub

OID = "ORD-2026-000777"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 10:00 KST


@pytest.fixture
def clocked(tmp_path: Path, master_key: str) -> Any:
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock)
    recorder = OpsAlertRecorder(forward=hub.ops_alerts)
    hub.ops_alerts = recorder
    alerts = recorder.sent
    hub.ingest.ingest(
        [
            event(
                "o1",
                "order.created",
                OID,
                "2026-11-22T10:00:00+09:00",
                {
                    "customer": {"name": "김민수", "phone": "010-2222-3333"},
                    "total": 12000,
                    "items": [{"sku": "A", "qty": 1, "price": 12000}],
                },
            )
        ]
    )
    try:
        yield hub, clock, alerts
    finally:
        hub.close()


def _sla_job(hub: Any) -> Any:
    return next(j for j in hub.jobs if j.name == "cs.sla")


def test_first_response_breach_alerts_once(clocked: Any) -> None:
    hub, clock, alerts = clocked
    desk = hub.chat.desk
    tid = desk.create_ticket(channel="api", subject="배송 문의", text="언제 와요?", order_id=OID)
    job = _sla_job(hub)
    clock.advance(timedelta(minutes=9))
    job.run(clock.now())
    assert alerts == []
    clock.advance(timedelta(minutes=2))  # past the 10-minute first-response target
    job.run(clock.now())
    job.run(clock.now())
    clock.advance(timedelta(minutes=30))
    job.run(clock.now())
    assert [a for a in alerts if a[0] == "cs_sla"] == [("cs_sla", f"cs_sla:{tid}:first_response")]
    with hub.db.read() as conn:
        row = conn.execute(sa.select(ct.tickets).where(ct.tickets.c.id == tid)).one()
    assert row.sla_missed == ["first_response"]


def test_answered_ticket_raises_nothing_and_reassign_rule(clocked: Any) -> None:
    hub, clock, alerts = clocked
    desk = hub.chat.desk
    answered = desk.create_ticket(channel="api", subject="a", text="a", order_id=OID)
    clock.advance(timedelta(minutes=5))
    desk.reply(answered, "agent1", "확인해 볼게요.")
    hub.chat.config.on_breach["first_response"] = "reassign"
    late = desk.create_ticket(channel="api", subject="b", text="b", order_id=OID)
    desk.assign(late, "agent2")
    clock.advance(timedelta(minutes=15))
    _sla_job(hub).run(clock.now())
    assert alerts == []
    with hub.db.read() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(ct.tickets))}
    assert rows[late].assignee is None and rows[late].priority == "high"
    assert rows[answered].sla_missed == []


def test_waiting_for_customer_pauses_the_clock(clocked: Any) -> None:
    hub, clock, alerts = clocked
    desk = hub.chat.desk
    tid = desk.create_ticket(channel="api", subject="c", text="c", order_id=OID, priority="urgent")
    clock.advance(timedelta(minutes=2))
    desk.reply(tid, "agent1", "사진을 보내 주시겠어요?", wait_for_customer=True)
    clock.advance(timedelta(hours=6))  # longer than the 4-hour urgent resolution target, but paused
    _sla_job(hub).run(clock.now())
    assert alerts == []
    desk.customer_message(tid, "여기 사진이요")
    clock.advance(timedelta(minutes=31))  # next-response target of urgent is 30 minutes
    _sla_job(hub).run(clock.now())
    assert [a[1].split(":")[2] for a in alerts] == ["next_response"]


def test_ticket_lifecycle_records_canonical_events_and_csat(clocked: Any) -> None:
    hub, clock, _ = clocked
    desk = hub.chat.desk
    tid = desk.create_ticket(channel="api", subject="환불 문의", text="환불 언제 되나요", order_id=OID)
    clock.advance(timedelta(minutes=3))
    desk.reply(tid, "agent1", "내일 환불돼요. 연락처 010-9999-8888로 안내드릴게요.")
    out = desk.resolve(tid, "agent1")
    desk.answer_csat(out["csat_token"], 5, "친절해요")
    with hub.db.read() as conn:
        evs = conn.execute(
            sa.select(t.inbox.c.type, t.inbox.c.source, t.inbox.c.data).where(t.inbox.c.order_id == OID)
        ).all()
        msgs = list(conn.execute(sa.select(ct.ticket_messages.c.text)).scalars())
    kinds = [(e.type, e.source) for e in evs]
    assert ("ticket.created", "crm") in kinds and ("ticket.resolved", "crm") in kinds
    replied = [e for e in evs if e.type == "ticket.replied"]
    assert len(replied) == 1 and replied[0].data["by"] == "agent"
    assert any(e.type == "survey.answered" and e.data["csat"] == 5 for e in evs)
    assert not any("9999-8888" in m for m in msgs)  # DLP-masked


def test_claims_from_other_systems_become_tickets(clocked: Any) -> None:
    hub, _, _ = clocked
    hub.ingest.ingest(
        [event("c1", "claim.opened", OID, "2026-11-23T10:00:00+09:00", {"kind": "damage"}, source="erp")]
    )
    drain(hub)
    drain(hub)
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(ct.tickets)).all()
        created = conn.execute(sa.text("select count(*) from inbox where type='ticket.created'")).scalar()
    assert len(rows) == 1 and rows[0].channel == "claim" and rows[0].priority == "high"
    assert created == 1


def test_inbound_email_becomes_a_ticket_and_replies_join_it(clocked: Any) -> None:
    hub, _, _ = clocked
    from aiosmtpd.controller import Controller

    from deliveryhub.chatbot.mail import InboundMailHandler

    port = free_port()
    controller = Controller(InboundMailHandler(hub.chat.desk), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        msg = EmailMessage()
        msg["From"] = "customer@example.com"
        msg["To"] = "cs@shop.example"
        msg["Subject"] = f"주문 {OID} 파손 문의"
        msg["Message-ID"] = "<m1@example.com>"
        msg.set_content("상자가 찌그러져서 왔어요. 010-1111-2222로 연락 주세요.")
        with smtplib.SMTP("127.0.0.1", port) as s:
            s.send_message(msg)
        with hub.db.read() as conn:
            row = conn.execute(sa.select(ct.tickets)).one()
        assert row.channel == "email" and row.order_id == OID and row.requester_masked == "c***@example.com"
        reply = EmailMessage()
        reply["From"] = "customer@example.com"
        reply["To"] = "cs@shop.example"
        reply["Subject"] = f"Re: [#{row.id}] 파손 문의"
        reply.set_content("사진 첨부합니다")
        with smtplib.SMTP("127.0.0.1", port) as s:
            s.send_message(reply)
        with hub.db.read() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(ct.tickets)).scalar()
            texts = list(
                conn.execute(
                    sa.select(ct.ticket_messages.c.text).where(ct.ticket_messages.c.ticket_id == row.id)
                ).scalars()
            )
        assert n == 1 and "사진 첨부합니다" in texts
        assert not any("1111-2222" in t for t in texts)
    finally:
        controller.stop()


def test_serve_starts_inbound_smtp_when_port_is_set(clocked: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    hub, _, _ = clocked
    port = free_port()
    monkeypatch.setenv("DELIVERYHUB_INBOUND_SMTP_PORT", str(port))
    for hook in hub.on_start:
        hook()
    try:
        with smtplib.SMTP("127.0.0.1", port) as s:
            s.sendmail("a@example.com", ["cs@shop.example"], "Subject: hello\r\n\r\nbody text")
        with hub.db.read() as conn:
            assert conn.execute(sa.select(ct.tickets.c.subject)).scalar() == "hello"
    finally:
        hub.chat.smtp.stop()


def test_metrics_of_a_period(clocked: Any) -> None:
    hub, clock, _ = clocked
    from deliveryhub.chatbot import metrics

    desk = hub.chat.desk
    tid = desk.create_ticket(channel="api", subject="x", text="배송이 너무 늦어요", order_id=OID)
    clock.advance(timedelta(minutes=4))
    desk.reply(tid, "agent1", "죄송합니다")
    clock.advance(timedelta(hours=2))
    desk.resolve(tid, "agent1")
    day = START.astimezone(ZoneInfo(hub.settings.tz)).date()
    kpis = hub.kpi.engine.compute(day, day, kpis=list(metrics.KPI_RATES.values()))["kpis"]
    with hub.db.read() as conn:
        m = metrics.summary(conn, START - timedelta(days=1), START + timedelta(days=1), kpis)
    assert m["tickets"] == 1
    assert m["first_response_minutes"]["mean"] == pytest.approx(4)
    assert m["resolution_hours"]["mean"] == pytest.approx(2 + 4 / 60)
    # The rates are the KPI catalog's (the dashboard's definition); one ticket is too few to judge.
    assert m["voc_response_rate"] == 1.0 and m["automation_rate"] == 0.0
    assert m["kpis"]["voc_response_rate"]["status"] == "low_sample"
