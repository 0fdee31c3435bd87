"""The fault test's off-by-one, made deterministic: a derived event (as an ETA timer ingests it) commits
between the statement that sums `source_stats` and the one that lists the inbox. Read statement by
statement (READ COMMITTED, as the fault test once did) the counts disagree by one with nothing lost;
read in one snapshot they agree, and the snapshot also says whether every consumer had caught up."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from scale_accounting import accounting, settled

from deliveryhub.adapters.persistence import tables as t
from dh_testkit import drain, event, make_hub

pytestmark = pytest.mark.postgres


def test_accounting_is_one_snapshot_when_a_derived_event_commits_between_two_reads(
    tmp_path: Path, master_key: str, pg_url: str
) -> None:
    hub = make_hub(tmp_path, master_key, db_url=pg_url, features=False)
    try:
        at = "2026-11-01T10:00:00+09:00"
        hub.ingest.ingest([event(f"e-{i}", "order.created", f"SNAP-{i}", at) for i in range(5)])
        drain(hub)
        consumers = [c.name for c in hub.consumers]
        eta = iter(range(100))

        def derived_event_commits() -> None:
            n = next(eta)
            hub.ingest.ingest(
                [
                    event(
                        f"eta:SNAP-0:{n}",
                        "shipment.eta_updated",
                        "SNAP-0",
                        at,
                        {"eta_min": "2026-11-03T09:00:00+09:00", "eta_max": "2026-11-03T18:00:00+09:00"},
                        source="tms",
                    )
                ]
            )

        # The old way: each statement sees the latest commit.
        with hub.db.read() as conn:
            counted = conn.execute(sa.select(sa.func.sum(t.source_stats.c.events))).scalar_one()
            derived_event_commits()
            stored = conn.execute(sa.select(sa.func.count()).select_from(t.inbox)).scalar_one()
        assert (counted, stored) == (5, 6)  # "4,822 counted for 4,823 stored", nothing lost

        drain(hub)
        acc = accounting(hub, between=derived_event_commits)
        # One snapshot: the event that committed meanwhile is in none of the counts.
        assert settled(acc, consumers)
        assert acc["counted"] == len(acc["stored"]) == 6
        assert acc["processed"]["integration_health"] == acc["outbox"]
        # The next snapshot sees it, not yet applied: not settled, so not judged.
        later = accounting(hub)
        assert not settled(later, consumers) and len(later["stored"]) == 7 and later["counted"] == 6
        drain(hub)
        final = accounting(hub)
        assert settled(final, consumers) and final["counted"] == len(final["stored"]) == 7
    finally:
        hub.close()
