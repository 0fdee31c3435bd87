"""The notice_missing monitor is live: a customer-facing stage change arms a timer, and when it fires the
monitors ask `core.notice_facts` whether the customer was told. An order whose notice never went out
gets exactly one notice_missing exception; an order whose notice was sent gets none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from monitors_helpers import all_exceptions, ingest_ok, timer_rows
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.monitors.service import run_all_monitors
from deliveryhub.service_layer.messaging import Message
from dh_testkit import drain, event, free_port, make_hub
from notif_kit import SmtpSink, lifecycle, send_all

KST = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 24, 10, 0, tzinfo=KST)  # a Tuesday, no holiday


class SentNotices:
    """A stand-in for the notifications feature's `notice_facts`: which (order, stage) notices went out."""

    def __init__(self) -> None:
        self.sent: set[tuple[str, str]] = set()
        self.asked: list[tuple[str, str]] = []

    def notice_sent(self, conn: Connection, order_id: str, stage: str) -> bool:
        self.asked.append((order_id, stage))
        return (order_id, stage) in self.sent


def _created(oid: str, at: datetime) -> list[dict]:
    return [
        event(f"{oid}-c", "order.created", oid, at.isoformat(), {"items": [{"sku": "A"}], "channel": "web"}),
        event(f"{oid}-p", "order.paid", oid, at.isoformat(), {"amount": 1}),
    ]


def _notice_exceptions(hub) -> list:
    return [r for r in all_exceptions(hub) if r.type == "notice_missing"]


def test_notice_missing_fires_once_when_the_notice_never_went_out_and_never_when_it_did(new_hub):
    clock = ManualClock(START)
    hub = new_hub(clock)
    notices = SentNotices()
    hub.notice_facts = notices
    notices.sent.add(("TOLD", "received"))
    ingest_ok(hub, _created("SILENT", START) + _created("TOLD", START))
    drain(hub)
    armed = {(r.subject, r.status) for r in timer_rows(hub) if r.kind == "notice_missing"}
    assert armed == {("SILENT|received", "pending"), ("TOLD|received", "pending")}

    clock.advance(timedelta(minutes=29))
    hub.monitors.fire_due()
    assert _notice_exceptions(hub) == []  # not due yet

    clock.advance(timedelta(minutes=2))
    fired = hub.monitors.fire_due()
    assert fired.get("notice_missing:opened") == 1 and fired.get("notice_missing:ok") == 1, fired
    assert sorted(notices.asked) == [("SILENT", "received"), ("TOLD", "received")]
    (exc,) = _notice_exceptions(hub)
    assert exc.order_id == "SILENT" and exc.status == "open"
    assert exc.evidence["stage"] == "received"
    assert exc.due_at == START + timedelta(minutes=30)

    # Later timers, sweeps and redelivered stage changes never open a second one.
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        run_all_monitors(hub.monitors)
        drain(hub)
    with hub.db.read() as conn:
        changes = conn.execute(
            sa.select(t.outbox.c.payload).where(
                t.outbox.c.topic == "order.stage_changed", t.outbox.c.order_id == "SILENT"
            )
        ).all()
    with hub.db.write() as conn:
        hub.monitors.handle(
            conn,
            [Message(10**9, "order.stage_changed", "SILENT", 0, changes[0].payload)],
        )
    clock.advance(timedelta(minutes=31))
    assert hub.monitors.fire_due().get("notice_missing:already open") == 1
    assert len(_notice_exceptions(hub)) == 1
    with hub.db.read() as conn:
        opened = conn.execute(
            sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "exception.opened")
        ).all()
    assert [p.payload["order_id"] for p in opened if p.payload["type"] == "notice_missing"] == ["SILENT"]


def test_without_a_notice_provider_nothing_is_raised(new_hub):
    """A hub without the notifications feature cannot know what was sent: it never claims a miss."""
    clock = ManualClock(START)
    hub = new_hub(clock)
    ingest_ok(hub, _created("N1", START))
    drain(hub)
    clock.advance(timedelta(minutes=31))
    assert hub.monitors.fire_due().get("notice_missing:ok") == 1
    assert _notice_exceptions(hub) == []


@pytest.mark.usefixtures("clean_env")
def test_with_the_notifications_feature_the_unreachable_customer_gets_one_notice_missing(
    tmp_path, master_key, smtp
):
    """The whole hub: notifications answer `notice_sent`. The order whose customer got the 주문 접수
    mail raises nothing; the order whose customer cannot be reached raises notice_missing once, though
    the notifications' own deadline check reports the same miss too."""
    start = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    clock = ManualClock(start)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    try:
        hub.ingest.ingest(lifecycle("TOLD", start, {"name": "정우성", "email": "woo@example.com"})[:1])
        hub.ingest.ingest(lifecycle("SILENT", start, {"name": "무연락"})[:1])
        drain(hub)
        send_all(hub)
        assert [rcpt for rcpt, _m in smtp.messages] == [["woo@example.com"]]
        clock.advance(timedelta(minutes=31))
        fired = hub.monitors.fire_due()
        assert fired.get("notice_missing:opened") == 1 and fired.get("notice_missing:ok") == 1, fired
        hub.notifications.dispatcher.check_missing(clock.now())  # the notifications' own check
        for _ in range(2):
            clock.advance(timedelta(hours=1))
            run_all_monitors(hub.monitors)
            drain(hub)
        rows = _notice_exceptions(hub)
        assert [(r.order_id, r.status, r.evidence.get("stage")) for r in rows] == [
            ("SILENT", "open", "received")
        ]
    finally:
        hub.close()


@pytest.mark.usefixtures("clean_env")
def test_a_notice_that_goes_out_late_ends_its_notice_missing_exception(tmp_path, master_key):
    """The mail server is down when the 주문 접수 notice is due: notice_missing opens once. When the
    server is back and the retried notice goes out, `notification.sent` ends the exception."""
    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    clock = ManualClock(start)
    sink = SmtpSink(free_port())  # not listening yet
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=sink.url)
    try:
        hub.ingest.ingest(lifecycle("LATE", start, {"name": "정우성", "email": "woo@example.com"})[:1])
        drain(hub)
        send_all(hub)
        clock.advance(timedelta(minutes=31))
        hub.monitors.fire_due()
        drain(hub)
        assert [(r.order_id, r.status) for r in _notice_exceptions(hub)] == [("LATE", "open")]
        sink.start()
        try:
            for _ in range(12):  # retries back off; give them a few hours of hub time
                clock.advance(timedelta(minutes=30))
                send_all(hub)
                drain(hub)
            assert [rcpt for rcpt, _m in sink.messages] == [["woo@example.com"]]
        finally:
            sink.stop()
        rows = _notice_exceptions(hub)
        assert [(r.order_id, r.status) for r in rows] == [("LATE", "resolved")], rows
    finally:
        hub.close()
