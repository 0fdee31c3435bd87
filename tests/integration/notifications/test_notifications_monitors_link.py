"""Notifications and the monitors feature together: an exception.opened row turns into one customer
delay notice; a notice that missed its deadline becomes a `notice_missing` exception."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.facts import notice_facts
from deliveryhub.service_layer.ports import ExceptionRequest
from dh_testkit import drain, make_hub
from notif_kit import SmtpSink, lifecycle, send_all

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("clean_env")


def test_exception_opened_gives_one_delay_notice_and_missing_notice_opens_exception(
    tmp_path: Path, master_key: str, smtp: SmtpSink
) -> None:
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, clock=clock, smtp_url=smtp.url)
    if getattr(hub, "monitors", None) is None:
        pytest.fail("the monitors feature (core.exceptions) is expected in this tree")
    hub.ingest.ingest(lifecycle("O-X", START, {"name": "정우성", "email": "woo@example.com"})[:6])
    drain(hub)
    send_all(hub)
    delay = ExceptionRequest("delivery_delay", "O-X", "test-delay", {"why": "test"})
    for _ in range(2):  # a second call for the same order and type is a no-op in monitors
        hub.exceptions.open_exception(delay)
        drain(hub)
        send_all(hub)
    delays = [m for rcpt, m in smtp.messages if rcpt == ["woo@example.com"] and "지연되고" in m["Subject"]]
    assert len(delays) == 1
    with hub.db.read() as conn:
        facts = notice_facts(conn, START.date(), START.date())
    assert "O-X" in facts["delay_notices"]

    # A customer nobody can reach: the required notice misses its deadline → notice_missing exception.
    hub.ingest.ingest(lifecycle("O-NONE", START, {"name": "무연락"})[:1])
    drain(hub)
    send_all(hub)
    assert hub.notifications.dispatcher.check_missing(clock.now() + timedelta(minutes=11)) == 1
    with hub.db.read() as conn:
        assert "O-NONE" in hub.exceptions.orders_with_exception(conn, "notice_missing")
        own = conn.execute(sa.text("SELECT order_id, stage FROM notice_missing")).all()
    assert [tuple(r) for r in own] == [("O-NONE", "received")]
    hub.close()
