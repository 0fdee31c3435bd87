"""The CS desk header's 자동화율 and VOC 응답률 are the dashboard's KPIs for the same days (over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dh_testkit import event, make_hub

KST = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=KST)


def crm_tickets(n: int) -> list[dict[str, Any]]:
    """n tickets from another CRM: every third answered by an agent (one of them after 30 h), the rest by
    the bot, every fourth left unresolved."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        at = datetime(2026, 11, 3, 9, 0, tzinfo=KST) + timedelta(hours=7 * i)
        tid = f"T-{i:03d}"
        out.append(
            event(
                f"c{i}",
                "ticket.created",
                f"O{i}",
                at.isoformat(),
                {"ticket_id": tid, "text": "언제 와요?"},
                source="crm",
            )
        )
        by = "agent" if i % 3 == 0 else "bot"
        reply = at + (timedelta(hours=30) if i == 3 else timedelta(minutes=5))
        out.append(
            event(
                f"r{i}",
                "ticket.replied",
                f"O{i}",
                reply.isoformat(),
                {"ticket_id": tid, "by": by},
                source="crm",
            )
        )
        if i % 4:
            done = reply + timedelta(minutes=20)
            out.append(
                event(f"d{i}", "ticket.resolved", f"O{i}", done.isoformat(), {"ticket_id": tid}, source="crm")
            )
    return out


@pytest.fixture
def api(tmp_path: Path, master_key: str) -> Iterator[tuple[Any, dict[str, str]]]:
    from fastapi.testclient import TestClient

    from deliveryhub.entrypoints.api.app import create_app
    from deliveryhub.kernel.clock import ManualClock
    from deliveryhub.security.apikeys import create_api_key

    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW))
    hub.ingest.ingest(crm_tickets(40))
    key = {"Authorization": f"Bearer {create_api_key(hub.db, 'k-ops', 'ops')}"}
    with TestClient(create_app(hub, run_worker=False)) as c:
        yield c, key
    hub.close()


@pytest.mark.parametrize("period", [None, ("2026-11-01", "2026-11-20"), ("2026-11-05", "2026-11-09")])
def test_desk_header_equals_kpis_for_the_same_period(
    api: tuple[Any, dict[str, str]], period: tuple[str, str] | None
) -> None:
    client, key = api
    params = {"from": period[0], "to": period[1]} if period else {}
    desk = client.get("/v1/cs/metrics", params=params, headers=key)
    assert desk.status_code == 200, desk.text
    m = desk.json()
    # Without a period both default to the month to date (the dashboard's default).
    assert (m["from"], m["to"]) == (period or ("2026-11-01", "2026-11-20"))
    kpis = client.get(
        "/v1/kpis",
        params={"from": m["from"], "to": m["to"], "kpi": "cs_automation_rate,voc_response_rate"},
        headers=key,
    ).json()["kpis"]
    assert m["automation_rate"] == kpis["cs_automation_rate"]["value"]
    assert m["voc_response_rate"] == kpis["voc_response_rate"]["value"]
    assert m["kpis"]["cs_automation_rate"]["status"] == kpis["cs_automation_rate"]["status"]
    assert m["automation_rate"] is not None and 0 < m["automation_rate"] < 1
    if period is None:
        # 40 tickets: by hand, the bot alone resolved the i % 3 != 0 and i % 4 != 0 ones.
        alone = sum(1 for i in range(40) if i % 3 and i % 4)
        assert m["automation_rate"] == pytest.approx(alone / 40)
        assert m["voc_response_rate"] == pytest.approx(39 / 40)  # T-003 answered after 30 h
        assert kpis["voc_response_rate"]["status"] == "breach"
    else:
        if period[0] == "2026-11-05":  # 5 days → 17 tickets: too few to judge (표본 부족), never red
            assert kpis["cs_automation_rate"]["sample"] < 20
            assert m["kpis"]["cs_automation_rate"]["status"] == "low_sample"
