"""The demo's past notices: one per customer-facing stage change at its own time, a delay notice on the
afternoon of a late order's promised date, nothing before a resumed back-fill's start, same every run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from deliveryhub.simulator.history import history_notices
from deliveryhub.simulator.model import ShopConfig
from dh_testkit import drain, event, handed_over, make_hub, order_created

KST = ZoneInfo("Asia/Seoul")


def test_history_notices_follow_the_stages_and_the_promise(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key, features=False)
    try:
        hub.ingest.ingest(
            [
                order_created(
                    "h1",
                    "A",
                    "2026-11-02T10:00:00+09:00",
                    {"phone": "010-2222-0001"},
                    promised_delivery_date="2026-11-04",
                ),
                handed_over("h2", "A", "2026-11-02T18:00:00+09:00", "cj"),
                event(
                    "h3",
                    "shipment.delivered",
                    "A",
                    "2026-11-05T11:00:00+09:00",
                    {},
                    source="carrier:cj",
                    shipment_id="P1",
                ),
            ]
        )
        drain(hub)
        until = datetime(2026, 11, 6, tzinfo=KST)
        never_fail = ShopConfig(notice_failure_rate=0.0, delay_unnotified_rate=0.0)
        with hub.db.read() as conn:
            past = list(history_notices(conn, (None, until), 7, never_fail))
            again = list(history_notices(conn, (None, until), 7, never_fail))
            resumed = list(history_notices(conn, (datetime(2026, 11, 3, tzinfo=KST), until), 7, never_fail))
            all_failed = list(history_notices(conn, (None, until), 7, ShopConfig(notice_failure_rate=1.0)))
    finally:
        hub.close()
    assert past == again  # deterministic: a resumed demo writes the same ids
    by_key = {e["event_id"].rsplit(":", 1)[1]: e for e in past}
    assert {"received", "handed_over", "delivered", "delay"} <= set(by_key)
    assert all(e["type"] == "x-notification.sent" and e["source"] == "crm" for e in past)
    received = datetime.fromisoformat(by_key["received"]["occurred_at"])
    assert (
        datetime(2026, 11, 2, 10, 0, 15, tzinfo=KST)
        <= received
        <= datetime(2026, 11, 2, 10, 2, 30, tzinfo=KST)
    )
    # Late (promised 11-04, delivered 11-05): warned that afternoon, before the promised day ended.
    delay = datetime.fromisoformat(by_key["delay"]["occurred_at"])
    assert delay.astimezone(KST).date().isoformat() == "2026-11-04" and delay.astimezone(KST).hour == 14
    assert by_key["delay"]["data"]["kind"] == "delay"
    # A resumed back-fill from 11-03 writes only what came after (delivered, the 11-04 delay notice).
    assert {e["event_id"].rsplit(":", 1)[1] for e in resumed} == {"delivered", "delay"}
    # A failed notice stays failed (counted as 알림 누락, not hidden).
    assert {e["data"]["status"] for e in all_failed if "stage" in e["data"]} == {"failed"}
