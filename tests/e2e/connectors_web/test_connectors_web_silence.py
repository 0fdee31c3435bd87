"""A source silent in its business hours raises ONE ops alert per episode and shows in /v1/integrations."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.service_layer.ports import OpsAlert
from dh_testkit import drain, event, make_hub

KST = timezone(timedelta(hours=9))


class Ops:
    """Stands in for the notifications feature behind the ops-alerts port."""

    def __init__(self, send: Callable[[str, str, str, str, Any], None]) -> None:
        self.send = send

    def notify_ops(self, alert: OpsAlert, *, conn: Any = None) -> None:
        self.send(alert.kind, alert.key, alert.subject, alert.body, alert.data)
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=KST)  # the Monday after today (2026-11-22)


def test_silent_wms_alerts_once_per_episode(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DELIVERYHUB_CONNECTORS_SILENCE",
        json.dumps(
            {
                "wms": {"minutes": 30, "hours": "09:00-18:00", "tz": "Asia/Seoul"},
                "erp": {"minutes": 30, "required": True},  # watched before it ever sent anything
                "oms": False,  # switched off
            }
        ),
    )
    clock = ManualClock(MONDAY)
    hub = make_hub(tmp_path, master_key, clock=clock)
    alerts: list[tuple[str, str, str, str, dict[str, Any]]] = []
    hub.ops_alerts = Ops(lambda *alert: alerts.append(alert))
    job = next(j for j in hub.jobs if j.name == "connectors.silence")

    def at(hh: int, mm: int) -> datetime:
        clock.set(MONDAY.replace(hour=hh, minute=mm))
        return clock.now()

    def wms_event(n: int) -> None:
        now = clock.now().isoformat()
        results = hub.ingest.ingest(
            [
                event(
                    f"wms-{n}",
                    "inventory.reserved",
                    f"ORD-{n}",
                    now,
                    {"warehouse": "W1", "items": [{"sku": "A", "qty": 1}]},
                    source="wms",
                ),
                event(f"oms-{n}", "order.paid", f"ORD-{n}", now, {"amount": 1000, "method": "card"}),
            ]
        )
        assert all(r.status == "accepted" for r in results), results
        drain(hub)

    try:
        at(8, 30)
        wms_event(1)  # before opening: silence is counted from 09:00, not from 08:30
        job.run(at(9, 20))
        assert alerts == []
        job.run(at(9, 31))  # erp (required, never heard from) is 31 min past opening; wms 31 min too
        assert sorted(a[4]["source"] for a in alerts) == ["erp", "wms"]
        wms_alert = next(a for a in alerts if a[4]["source"] == "wms")
        assert wms_alert[0] == "integration_silent"
        assert "연동" in wms_alert[2] and "silent" in wms_alert[2] and "wms" in wms_alert[3]
        assert wms_alert[4]["threshold_minutes"] == 30
        for hhmm in ((9, 40), (10, 30), (12, 0)):
            job.run(at(*hhmm))
        assert len(alerts) == 2  # ONE alert per source and episode, however often the job runs

        with TestClient(create_app(hub, run_worker=False)) as client:
            auth = {"authorization": f"Bearer {create_api_key(hub.db, 'ops-t', 'admin')}"}
            silent = client.get("/v1/integrations", headers=auth).json()["silent_sources"]
            assert {s["source"]: bool(s["alerted_at"]) for s in silent} == {"erp": True, "wms": True}
            metrics = client.get("/metrics", headers=auth).text
            assert "deliveryhub_silent_sources 2.0" in metrics

            at(12, 5)
            wms_event(2)  # wms speaks again: its episode is over
            job.run(at(12, 10))
            silent = client.get("/v1/integrations", headers=auth).json()["silent_sources"]
            assert [s["source"] for s in silent] == ["erp"]

            job.run(at(12, 40))  # 35 min of new silence: a new episode, a new (single) alert
            job.run(at(12, 50))
            assert [a[4]["source"] for a in alerts].count("wms") == 2
            assert len({a[1] for a in alerts}) == len(alerts)  # distinct keys per episode

            at(18, 30)
            wms_event(3)
            job.run(at(19, 45))  # after hours: quiet is normal, no alert
            job.run(at(23, 0))
            assert [a[4]["source"] for a in alerts].count("wms") == 2
            assert "oms" not in {a[4]["source"] for a in alerts}
    finally:
        hub.close()


def test_failed_alert_is_retried_not_lost(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DELIVERYHUB_CONNECTORS_SILENCE", json.dumps({"tms": {"minutes": 30, "required": True}})
    )
    clock = ManualClock(MONDAY.replace(hour=10))
    hub = make_hub(tmp_path, master_key, clock=clock)
    sent: list[str] = []
    calls = {"n": 0}

    def flaky_notify(kind: str, key: str, subject: str, body: str, data: dict[str, Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("smtp down")
        sent.append(key)

    hub.ops_alerts = Ops(flaky_notify)
    job = next(j for j in hub.jobs if j.name == "connectors.silence")
    try:
        job.run(clock.now())
        assert sent == []
        clock.advance(timedelta(minutes=1))
        job.run(clock.now())
        clock.advance(timedelta(minutes=1))
        job.run(clock.now())
        assert len(sent) == 1 and sent[0].startswith("silence:tms:")
    finally:
        hub.close()
