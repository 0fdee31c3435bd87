"""The return KPIs split by the return reason (by=reason): how many returns per reason, and how long
each reason's returns took to refund; the reason is the workflow's code, or classified from a
marketplace's words. Returns requested in March 2026, KST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deliveryhub.kpi.engine import KpiEngine
from dh_testkit import drain, event, make_hub, order_created


def test_returns_by_reason(tmp_path: Path, master_key: str) -> None:
    hub = make_hub(tmp_path, master_key)
    try:
        raws: list[dict[str, Any]] = []
        for n, oid in enumerate(("K1", "K2", "K3")):
            raws.append(
                order_created(f"{oid}-c", oid, "2026-03-01T10:00:00+09:00", {"phone": f"010-0000-000{n}"})
            )
        raws += [
            # K1: change of mind, refunded 2 days later; K2: damaged, refunded 5 days later
            event(
                "K1-r",
                "return.requested",
                "K1",
                "2026-03-05T10:00:00+09:00",
                {"return_id": "RT-K1", "reason_code": "change_of_mind", "fee": 6000, "fee_payer": "customer"},
                source="cs",
            ),
            event(
                "K1-f",
                "return.refunded",
                "K1",
                "2026-03-07T10:00:00+09:00",
                {"return_id": "RT-K1", "amount": 24000, "cause": "return"},
                source="hub",
            ),
            event(
                "K2-r",
                "return.requested",
                "K2",
                "2026-03-06T10:00:00+09:00",
                {"return_id": "RT-K2", "reason_code": "damaged", "fee": 0, "fee_payer": "shop"},
                source="cs",
            ),
            event(
                "K2-f",
                "return.refunded",
                "K2",
                "2026-03-11T10:00:00+09:00",
                {"return_id": "RT-K2", "amount": 30000, "cause": "return"},
                source="hub",
            ),
            # K3: a marketplace's claim in words only
            event(
                "naver:return:K3",
                "return.requested",
                "K3",
                "2026-03-08T10:00:00+09:00",
                {"reason": "상품이 파손되어 왔어요"},
                source="naver",
            ),
        ]
        assert all(r.status == "accepted" for r in hub.ingest.ingest(raws))
        drain(hub)
        engine = KpiEngine(hub.db, now=hub.clock.now)
        keys = ["returns_count", "return_processing_days"]
        res = engine.compute("2026-03-01", "2026-03-31", "month", "reason", "Asia/Seoul", kpis=keys)["kpis"]
        counts = {s["group"]: s["value"] for s in res["returns_count"]["series"]}
        assert counts == {"change_of_mind": 1, "damaged": 2}
        days = {s["group"]: s["value"] for s in res["return_processing_days"]["series"]}
        assert days == {"change_of_mind": 2.0, "damaged": 5.0}
        overall = engine.compute("2026-03-01", "2026-03-31", "month", None, "Asia/Seoul", kpis=keys)["kpis"]
        assert overall["returns_count"]["value"] == 3
        assert overall["return_processing_days"]["value"] == 3.5
        assert overall["return_processing_days"]["target"] is not None
        # a KPI of another population says it cannot be split by reason
        other = engine.compute("2026-03-01", "2026-03-31", "month", "reason", "Asia/Seoul", kpis=["aov"])
        assert "cannot be split by reason" in other["kpis"]["aov"].get("reason", "")
    finally:
        hub.close()
