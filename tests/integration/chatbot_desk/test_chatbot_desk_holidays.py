"""CS SLA clocks keep business time on a real hub: a ticket opened during 추석 has its first-response
target counted from the next opening, and the breach fires once that business time has passed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from deliveryhub.chatbot import tables as ct
from deliveryhub.kernel.clock import ManualClock
from dh_testkit import OpsAlertRecorder, make_hub

KST = ZoneInfo("Asia/Seoul")


def kst(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


@pytest.fixture
def desk_hub(tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("DELIVERYHUB_CS_BUSINESS_HOURS", "1")  # weekdays 09:00-18:00 KST
    clock = ManualClock(kst(9, 24, 10))  # Thursday, 추석 연휴 (24-26 September 2026)
    hub = make_hub(tmp_path, master_key, clock=clock)
    alerts = hub.ops_alerts = OpsAlertRecorder()
    try:
        yield hub, clock, alerts
    finally:
        hub.close()


def _due(hub: Any, tid: int) -> datetime:
    with hub.db.read() as conn:
        due = conn.execute(sa.select(ct.tickets.c.first_due).where(ct.tickets.c.id == tid)).scalar()
    assert due is not None
    return due.astimezone(KST)  # type: ignore[no-any-return]


def test_first_response_clock_does_not_run_on_a_public_holiday(desk_hub: Any) -> None:
    hub, clock, alerts = desk_hub
    assert hub.chat is not None and hub.chat.config.business_hours is not None
    tid = hub.chat.desk.create_ticket(channel="api", subject="배송 문의", text="추석인데 언제 와요?")
    # 25 Sep is 추석, 26-27 the weekend: the 10 minutes start at Monday's opening.
    assert _due(hub, tid) == kst(9, 28, 9, 10)
    job = next(j for j in hub.jobs if j.name == "cs.sla")
    for at in (kst(9, 24, 17, 59), kst(9, 25, 12), kst(9, 27, 23, 59), kst(9, 28, 9, 5)):
        clock.set(at)
        job.run(clock.now())
    assert alerts.keys("cs_sla") == []  # four days of wall-clock time, not one business minute used up
    clock.set(kst(9, 28, 9, 11))
    job.run(clock.now())
    job.run(clock.now())
    assert alerts.keys("cs_sla") == [f"cs_sla:{tid}:first_response"]


def test_the_clock_stops_at_the_holiday_and_resumes_after_it(desk_hub: Any) -> None:
    hub, clock, _ = desk_hub
    clock.set(kst(9, 23, 17, 55))  # Wednesday, five minutes before closing on the eve of the holiday
    tid = hub.chat.desk.create_ticket(channel="api", subject="문의", text="확인 부탁드려요")
    assert _due(hub, tid) == kst(9, 28, 9, 5)


def test_a_round_the_clock_desk_keeps_wall_clock_time(desk_hub: Any) -> None:
    hub, _, _ = desk_hub
    hub.chat.config.business_hours = None  # no hours configured: the desk is staffed around the clock
    tid = hub.chat.desk.create_ticket(channel="api", subject="문의", text="확인 부탁드려요")
    assert _due(hub, tid) == kst(9, 24, 10, 10)
