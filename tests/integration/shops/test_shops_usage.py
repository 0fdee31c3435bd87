"""Usage for billing counts a notice once it was handed to a channel this month, whatever its receipt said
next (a delivered notice was found missing from the count in the 3-seller demo)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.tables import notification_jobs
from deliveryhub.shops.usage import usage_of
from dh_testkit import make_hub

NOW = datetime.fromisoformat("2026-12-01T00:30:00+09:00")  # early on the 1st, Seoul time


def _job(n: int, status: str, sent_at: str | None) -> dict[str, object]:
    at = datetime.fromisoformat("2026-11-30T12:00:00+09:00")
    return {
        "idem_key": f"k{n}",
        "rule_id": "r",
        "stage": "delivered",
        "template": "t",
        "audience": "customer",
        "channels": ["kakao"],
        "context": {},
        "status": status,
        "created_at": at,
        "scheduled_at": at,
        "next_attempt_at": at,
        "sent_at": datetime.fromisoformat(sent_at) if sent_at else None,
    }


def test_notices_this_month_in_the_shops_time_zone(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    try:
        with hub.db.write() as conn:
            conn.execute(
                notification_jobs.insert(),
                [
                    _job(1, "delivered", "2026-12-01T00:10:00+09:00"),  # this month (Seoul), delivered
                    _job(2, "sent", "2026-12-01T00:20:00+09:00"),  # this month, no receipt yet
                    _job(3, "failed", "2026-12-01T00:25:00+09:00"),  # handed over, then failed: still used
                    _job(4, "delivered", "2026-11-30T23:59:00+09:00"),  # last month in Seoul (UTC: same day)
                    _job(5, "pending", None),  # never handed to a channel
                ],
            )
        assert usage_of(hub, hub.clock.now())["notices"] == 3
    finally:
        hub.close()
