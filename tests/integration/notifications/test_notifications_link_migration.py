"""Migration 0006 on a database written by the previous version: the tracking links notices stored in
clear (bearer credentials for their orders) are gone after the upgrade, the rest of each notice stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence.database import Database
from deliveryhub.migrations import runner
from deliveryhub.notifications.tables import notification_jobs, tracking_links

AT = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
OLD_LINK = "https://shop.example/track/Ty0x.c2lnbmF0dXJlLW9mLXRoZS1vbGQta2luZA"


def _job(i: int, context: dict[str, Any]) -> dict[str, Any]:
    return {
        "idem_key": f"O-{i}|rule|stage",
        "order_id": f"O-{i}",
        "rule_id": "rule",
        "stage": "stage",
        "template": "delivered",
        "audience": "customer",
        "channels": ["kakao"],
        "advertising": False,
        "required": False,
        "delay_notice": False,
        "manual": False,
        "context": context,
        "status": "sent",
        "attempts": 1,
        "created_at": AT,
        "scheduled_at": AT,
        "next_attempt_at": AT,
        "fallback": False,
    }


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_upgrade_drops_links_stored_in_notices(dialect: str, tmp_path: Path, request: Any) -> None:
    url = f"sqlite:///{tmp_path}/m.db" if dialect == "sqlite" else request.getfixturevalue("pg_url")
    db = Database(url)
    try:
        runner.upgrade(db, "0005")
        with db.engine.begin() as conn:
            conn.execute(
                notification_jobs.insert(),
                [_job(i, {"order_id": f"O-{i}", "stage": "delivered", "link": OLD_LINK}) for i in range(1203)]
                + [_job(5000, {"order_id": "O-5000", "stage": "delivered"})],
            )
        runner.upgrade(db)
        with db.engine.connect() as conn:
            contexts = [r.context for r in conn.execute(sa.select(notification_jobs.c.context))]
            assert conn.execute(sa.select(sa.func.count()).select_from(tracking_links)).scalar() == 0
        assert len(contexts) == 1204  # every batch of the upgrade was visited, nothing deleted
        assert all("link" not in c and c["stage"] == "delivered" and c["order_id"] for c in contexts)
        assert OLD_LINK not in str(contexts)
    finally:
        db.dispose()
