"""The return KPIs split by the return reason (by=reason): how many returns per reason, and how long
each reason's returns took to refund; the reason is the workflow's code, or classified from a
marketplace's words. Returns requested in March 2026, KST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deliveryhub.kpi.engine import KpiEngine
from dh_testkit import drain, event, make_hub, order_created


def _refunded_return(
    oid: str, requested: str, refunded: str, reason_code: str, fee: int, fee_payer: str, amount: int
) -> list[dict[str, Any]]:
    """A return of the order requested at 10:00 KST on 2026-`requested` (MM-DD) with the workflow's reason
    code, and its refund at 10:00 on 2026-`refunded`."""
    return_id = f"RT-{oid}"
    return [
        event(
            f"{oid}-r",
            "return.requested",
            oid,
            f"2026-{requested}T10:00:00+09:00",
            {"return_id": return_id, "reason_code": reason_code, "fee": fee, "fee_payer": fee_payer},
            source="cs",
        ),
        event(
            f"{oid}-f",
            "return.refunded",
            oid,
            f"2026-{refunded}T10:00:00+09:00",
            {"return_id": return_id, "amount": amount, "cause": "return"},
            source="hub",
        ),
    ]


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
            *_refunded_return("K1", "03-05", "03-07", "change_of_mind", 6000, "customer", 24000),
            *_refunded_return("K2", "03-06", "03-11", "damaged", 0, "shop", 30000),
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
