"""Every KPI of KPIS.md on a small hand-built event set, against values worked out by hand.

October 2026, Asia/Seoul. Orders A–F (G only has a September claim). The arithmetic behind each
expected number is written next to it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dh_testkit import drain, event, make_hub

KST = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 11, 5, 0, 0, tzinfo=KST)


def at(day: str, hm: str) -> str:
    return f"2026-{day}T{hm}:00+09:00"


def ev(i: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """dh_testkit.event with the id h<i>."""
    return event(f"h{i:03d}", *args, **kwargs)


def created(
    i: int, order: str, when: str, total: float, phone: str, promised: str | None, **more: Any
) -> dict[str, Any]:
    data = {
        "total": total,
        "channel": "web",
        "customer": {"phone": phone},
        "items": [{"sku": "S1", "qty": 1, "price": total}],
    }
    if promised:
        data["promised_delivery_date"] = promised
    data.update(more)
    return ev(i, "order.created", order, when, data)


def events() -> list[dict[str, Any]]:
    cj, lotte = "carrier:cj", "carrier:lotte"
    return [
        # A: on time; packed green; pick error; exchange 3.5 d; ticket T1 answered by the bot in 1 min.
        created(1, "A", at("10-01", "09:00"), 100, "010-1111-0001", "2026-10-03", warehouse="W1"),
        ev(
            2,
            "fulfillment.pick_error",
            "A",
            at("10-01", "11:00"),
            {"expected_sku": "S1", "scanned_sku": "S2"},
            "wms",
        ),
        ev(3, "fulfillment.packed", "A", at("10-01", "12:00"), {"packaging": "green"}, "wms"),
        ev(4, "shipment.handed_over", "A", at("10-01", "15:00"), {"carrier": "cj"}, cj, shipment_id="sA"),
        ev(
            5,
            "shipment.eta_updated",
            "A",
            at("10-02", "20:00"),
            {"eta_min": at("10-03", "08:00"), "eta_max": at("10-03", "12:00")},
            cj,
            shipment_id="sA",
        ),
        ev(6, "shipment.delivered", "A", at("10-03", "09:00"), {}, cj, shipment_id="sA"),
        ev(7, "exchange.requested", "A", at("10-10", "10:00"), {"items": [], "reason": "size"}),
        ev(8, "exchange.completed", "A", at("10-13", "22:00")),
        # B: late (promised 10-04, delivered 10-06) but told in time; damage claim; return refunded in 2 d.
        created(10, "B", at("10-02", "10:00"), 200, "010-1111-0002", "2026-10-04"),
        ev(11, "fulfillment.packed", "B", at("10-02", "16:00"), {"packaging": "standard"}, "wms"),
        ev(12, "shipment.handed_over", "B", at("10-03", "10:00"), {"carrier": "cj"}, cj, shipment_id="sB"),
        ev(
            13,
            "shipment.eta_updated",
            "B",
            at("10-03", "11:00"),
            {"eta_min": at("10-04", "09:00"), "eta_max": at("10-04", "18:00")},
            cj,
            shipment_id="sB",
        ),
        ev(14, "shipment.delivered", "B", at("10-06", "10:00"), {}, cj, shipment_id="sB"),
        ev(15, "claim.opened", "B", at("10-07", "09:00"), {"kind": "damage"}, "crm"),
        ev(16, "return.requested", "B", at("10-07", "10:00"), {"items": [], "reason": "broken"}),
        ev(17, "return.refunded", "B", at("10-09", "10:00"), {"amount": 200}),
        # C: same customer as A (repeat); handed over BY HAND; late, never told; wrong item claim.
        created(20, "C", at("10-03", "08:00"), 300, "010-1111-0001", "2026-10-05"),
        ev(
            21,
            "shipment.handed_over",
            "C",
            at("10-03", "20:00"),
            {"carrier": "lotte"},
            "ui",
            shipment_id="sC",
            manual=True,
        ),
        ev(22, "shipment.delivered", "C", at("10-07", "08:00"), {}, lotte, shipment_id="sC"),
        ev(23, "claim.opened", "C", at("10-08", "09:00"), {"kind": "wrong_item"}, "crm"),
        # D: duplicate order, cancelled.
        created(30, "D", at("10-04", "12:00"), 400, "010-1111-0003", None),
        ev(31, "order.cancelled", "D", at("10-04", "13:00"), {"reason": "duplicate order"}),
        # E: stock shortage; handed over 10-06 and silent since (stale at month end).
        created(40, "E", at("10-05", "09:00"), 50, "010-1111-0004", None),
        ev(
            41,
            "inventory.shortage",
            "E",
            at("10-05", "10:00"),
            {"sku": "S1", "requested": 1, "available": 0},
            "wms",
        ),
        ev(42, "shipment.handed_over", "E", at("10-06", "09:00"), {"carrier": "cj"}, cj, shipment_id="sE"),
        # F: handed over 10-31 10:00, scanned 20:00 (fresh at month end).
        created(50, "F", at("10-30", "10:00"), 150, "010-1111-0005", None),
        ev(51, "shipment.handed_over", "F", at("10-31", "10:00"), {"carrier": "cj"}, cj, shipment_id="sF"),
        ev(
            52, "shipment.tracking", "F", at("10-31", "20:00"), {"status": "in_transit"}, cj, shipment_id="sF"
        ),
        # G: a claim in September only (previous period of claims_count).
        ev(60, "claim.opened", "G", "2026-09-15T10:00:00+09:00", {"kind": "other"}, "crm"),
        # Customer notices.
        ev(
            70,
            "x-notification.sent",
            "A",
            at("10-01", "09:01"),
            {"stage": "received", "automatic": True},
            "notify",
        ),
        ev(
            71,
            "x-notification.sent",
            "A",
            at("10-01", "15:05"),
            {"stage": "handed_over", "automatic": True},
            "notify",
        ),
        ev(
            72,
            "x-notification.sent",
            "A",
            at("10-03", "09:30"),
            {"stage": "delivered", "automatic": True},
            "notify",
        ),
        ev(
            73,
            "x-notification.sent",
            "B",
            at("10-02", "10:02"),
            {"stage": "received", "automatic": False},
            "notify",
        ),
        ev(
            74,
            "x-notification.sent",
            "B",
            at("10-04", "09:00"),
            {"kind": "delay", "automatic": True},
            "notify",
        ),
        # C's customer heard of the order (the notifier knew C), but never of its delay.
        ev(
            75,
            "x-notification.sent",
            "C",
            at("10-03", "08:30"),
            {"stage": "received", "automatic": True},
            "notify",
        ),
        # Tickets.
        ev(
            80,
            "ticket.created",
            "A",
            at("10-02", "10:00"),
            {"ticket_id": "T1", "channel": "chat", "text": "언제 와요?", "category": "delivery_delay"},
            "chatbot",
        ),
        ev(81, "ticket.replied", "A", at("10-02", "10:01"), {"ticket_id": "T1", "by": "bot"}, "chatbot"),
        ev(82, "ticket.resolved", "A", at("10-02", "10:30"), {"ticket_id": "T1"}, "chatbot"),
        ev(
            83,
            "ticket.created",
            "B",
            at("10-06", "09:00"),
            {"ticket_id": "T2", "channel": "chat", "text": "파손", "category": "damaged"},
            "crm",
        ),
        ev(84, "ticket.replied", "B", at("10-06", "09:30"), {"ticket_id": "T2", "by": "agent"}, "crm"),
        ev(85, "ticket.resolved", "B", at("10-06", "12:00"), {"ticket_id": "T2"}, "crm"),
        ev(
            86,
            "ticket.created",
            "C",
            at("10-08", "09:00"),
            {"ticket_id": "T3", "channel": "phone", "text": "오배송"},
            "crm",
        ),
        ev(87, "ticket.replied", "C", at("10-09", "11:00"), {"ticket_id": "T3", "by": "agent"}, "crm"),
        ev(
            88,
            "ticket.created",
            "E",
            at("10-20", "09:00"),
            {"ticket_id": "T4", "channel": "chat", "text": "재고?"},
            "crm",
        ),
        # Surveys.
        ev(90, "survey.answered", "A", at("10-04", "10:00"), {"csat": 5}, "crm"),
        ev(91, "survey.answered", "B", at("10-07", "10:00"), {"csat": 2}, "crm"),
        ev(92, "survey.answered", "C", at("10-09", "10:00"), {"csat": 4}, "crm"),
        ev(93, "survey.answered", "A", at("10-04", "11:00"), {"nps": 10}, "crm"),
        ev(94, "survey.answered", "B", at("10-07", "11:00"), {"nps": 9}, "crm"),
        ev(95, "survey.answered", "C", at("10-09", "11:00"), {"nps": 3}, "crm"),
        # Costs and an inventory count.
        ev(
            100,
            "cost.recorded",
            "A",
            at("10-01", "10:00"),
            {"kind": "shipping", "amount": 30, "currency": "KRW"},
            "erp",
        ),
        ev(
            101,
            "cost.recorded",
            None,
            at("10-02", "10:00"),
            {"kind": "shipping", "amount": 10, "currency": "KRW"},
            "erp",
        ),
        ev(
            102,
            "cost.recorded",
            None,
            at("10-03", "10:00"),
            {"kind": "logistics", "amount": 40, "currency": "KRW"},
            "erp",
        ),
        ev(
            103,
            "inventory.snapshot",
            None,
            at("10-15", "18:00"),
            {
                "warehouse": "W1",
                "counts": {"S1": 10, "S2": 5, "S3": 7, "S4": 0},
                "system": {"S1": 10, "S2": 6, "S3": 7, "S4": 0},
            },
            "wms",
        ),
    ]


EXPECTED: dict[str, float | None] = {
    "on_time_delivery_rate": 1 / 3,  # A on time; B, C late
    "delivery_delay_rate": 2 / 3,
    "delay_unnotified_rate": 1 / 2,  # B told on 10-04 (≤ promised), C never
    "avg_delivery_days": (2 + 4 + 4) / 3,  # A 2 d, B 4 d, C 4 d
    "avg_transit_days": (1.75 + 3 + 3.5) / 3,  # A 42 h, B 72 h, C 84 h
    "order_processing_hours": (3 + 6 + 12 + 24 + 24) / 5,  # ready = first of packed / handed over
    "order_processing_hours_p50": 12.0,  # [3, 6, 12, 24, 24]
    "order_processing_hours_p95": 24.0,
    "misdelivery_rate": 1 / 3,  # C wrong item
    "order_error_rate": 3 / 6,  # A pick error, C wrong item, D duplicate
    "damage_rate": 1 / 3,  # B
    "return_rate": 1 / 3,  # B
    "return_processing_days": 2.0,
    "exchange_completion_days": 3.5,
    "stockout_rate": 1 / 6,  # E
    "inventory_accuracy": 3 / 4,  # S2 differs
    "inventory_sync_error_rate": 1 / 4,
    "tracking_stale_rate": 1 / 2,  # in flight at 11-01 00:00: E (silent since 10-06) and F (scan 10-31 20:00)
    "stage_automation_rate": 18 / 19,  # 19 stage rows, C's handover by hand
    # Owed a notice: the 9 customer-facing changes of A, B, C (a notifier knew them); D, E, F's 6 changes
    # were never owed one (no notifier knew those orders) and are left out, counted in `excluded`.
    "notification_automation_rate": 4 / 9,  # A's three and C's received have automatic notices
    "notification_missing_rate": 6 / 9,  # in time: A received (1'), A handed over (5'), B received (2')
    "cs_first_response_minutes": (1 + 30 + 1560) / 3,
    "cs_first_response_minutes_p50": 30.0,
    "cs_first_response_minutes_p90": 30 + 0.8 * 1530,
    "cs_resolution_hours": (0.5 + 3) / 2,
    "voc_response_rate": 2 / 4,  # T1, T2 within 24 h; T3 after 26 h; T4 never
    "cs_automation_rate": 1 / 4,  # T1 resolved by the bot alone
    "claims_count": 2.0,
    "csat": 2 / 3,
    "csat_mean": 11 / 3,
    "nps": (2 - 1) / 3 * 100,  # promoters A (10), B (9); detractor C (3)
    "shipping_cost_to_sales": 40 / 800,  # revenue: A+B+C+E+F (D cancelled)
    "logistics_cost_to_revenue": 80 / 800,
    "green_packaging_rate": 1 / 2,
    "eta_accuracy": 1 / 2,  # A inside its window, B not
    "aov": 800 / 5,
    "repeat_purchase_rate": 1 / 5,  # five customers; A/C's customer has two orders
    "training_completion_rate": 0.9,  # manual value
}


def _hub(tmp_path: Path, master_key: str, db_url: str | None = None) -> Any:
    from deliveryhub.kernel.clock import ManualClock

    hub = make_hub(tmp_path, master_key, db_url, clock=ManualClock(NOW), features=False)

    results = hub.ingest.ingest(events())
    assert [r.status for r in results] == ["accepted"] * len(results), [
        r.as_dict() for r in results if r.status != "accepted"
    ]
    bad = [
        {"event_id": "q1", "source": "oms", "type": "order.created", "order_id": "Q"},
        {
            "event_id": "q2",
            "source": "oms",
            "type": "nope",
            "occurred_at": at("10-01", "00:00"),
            "order_id": "Q",
        },
    ]
    assert [r.status for r in hub.ingest.ingest(bad)] == ["rejected", "rejected"]
    drain(hub)  # the backbone's per-hour receipt counts (source_stats) come from its consumer
    import sqlalchemy as sa

    from deliveryhub.kpi.tables import kpi_manual_values

    with hub.db.write() as conn:
        conn.execute(
            sa.insert(kpi_manual_values).values(
                key="training_completion_rate",
                period=datetime(2026, 10, 1).date(),
                grp="",
                value=0.9,
                entered_by="test",
                entered_at=NOW,
            )
        )
    return hub


def _check_all(hub: Any) -> None:
    from deliveryhub.kpi.catalog import load_catalog
    from deliveryhub.kpi.engine import KpiEngine

    engine = KpiEngine(hub.db, now=hub.clock.now)
    res = engine.compute("2026-10-01", "2026-10-31", "month", None, "Asia/Seoul")
    kpis = res["kpis"]
    for key, want in EXPECTED.items():
        got = kpis[key]["value"]
        assert got is not None, (key, kpis[key].get("reason"))
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (key, got, want)
        assert kpis[key]["series"] == [{"period": "2026-10", "group": None, "value": pytest.approx(want)}], (
            key
        )
    # Every KPI of KPIS.md (the table's keys) is in the catalog and checked above.
    spec = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "KPIS.md"
    if spec.exists():
        keys = {
            line.split("`")[1]
            for line in spec.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")
        }
        assert keys <= set(EXPECTED) | {"data_quarantine_rate"}, keys - set(EXPECTED)
        assert keys <= set(load_catalog())
    # Targets and status: delay 2/3 vs < 0.03 is a breach; claims 2 vs previous 1 × 0.6 is a breach.
    assert kpis["delivery_delay_rate"]["status"] == "breach" and kpis["delivery_delay_rate"]["target"] == 0.03
    assert kpis["claims_count"]["target"] == pytest.approx(0.6) and kpis["claims_count"]["status"] == "breach"
    assert kpis["avg_delivery_days"]["status"] == "no_target"
    # What stands behind a value: the sample and count, the rows left out and why, and the minimum-sample
    # rule — 9 owed notices are too few to raise an alarm (low_sample, "표본 부족"), never a breach.
    missing = kpis["notification_missing_rate"]
    assert (missing["sample"], missing["count"], missing["min_sample"]) == (9, 6, 20)
    assert missing["status"] == "low_sample" and missing["excluded"]["count"] == 6
    assert "과거 이력" in missing["excluded"]["reason_ko"]
    assert (kpis["tracking_stale_rate"]["sample"], kpis["tracking_stale_rate"]["count"]) == (2, 1)  # E, F
    unnotified = kpis["delay_unnotified_rate"]
    assert (unnotified["sample"], unnotified["count"], unnotified["excluded"]["count"]) == (2, 1, 0)
    # Quarantine rate is attributed by receipt: everything arrived "now" (November).
    q = engine.compute("2026-11-01", "2026-11-30", "month", None, "Asia/Seoul", ["data_quarantine_rate"])
    assert q["kpis"]["data_quarantine_rate"]["value"] == pytest.approx(2 / (len(events()) + 2))
    assert kpis["data_quarantine_rate"]["value"] is None and kpis["data_quarantine_rate"]["reason"]
    # Splits: by carrier (cj: A on time, B late; lotte: C late), by stage, by week.
    by = engine.compute(
        "2026-10-01",
        "2026-10-31",
        "month",
        "carrier",
        "Asia/Seoul",
        ["on_time_delivery_rate", "stage_automation_rate"],
    )
    assert by["kpis"]["on_time_delivery_rate"]["series"] == [
        {"period": "2026-10", "group": "cj", "value": 0.5},
        {"period": "2026-10", "group": "lotte", "value": 0.0},
    ]
    st = engine.compute("2026-10-01", "2026-10-31", "month", "stage", "Asia/Seoul", ["stage_automation_rate"])
    handed = [s for s in st["kpis"]["stage_automation_rate"]["series"] if s["group"] == "handed_over"]
    assert handed == [{"period": "2026-10", "group": "handed_over", "value": 0.8}]  # 4 of A, B, C, E, F
    wk = engine.compute("2026-10-01", "2026-10-31", "week", None, "Asia/Seoul", ["on_time_delivery_rate"])
    assert wk["kpis"]["on_time_delivery_rate"]["series"] == [
        {"period": "2026-W40", "group": None, "value": 1.0},
        {"period": "2026-W41", "group": None, "value": 0.0},
    ]
    # Drill-down: the late orders of October are B and C.
    late = engine.orders_behind("delivery_delay_rate", "2026-10-01", "2026-10-31", "Asia/Seoul")
    assert sorted(o["order_id"] for o in late["orders"]) == ["B", "C"]
    # Time zone matters: C's delivery (10-07 08:00 KST) falls on 10-06 in UTC.
    kst = engine.compute("2026-10-01", "2026-10-31", "day", None, "Asia/Seoul", ["avg_delivery_days"])
    assert [s["period"] for s in kst["kpis"]["avg_delivery_days"]["series"]] == [
        "2026-10-03",
        "2026-10-06",
        "2026-10-07",
    ]
    utc = engine.compute("2026-10-01", "2026-10-31", "day", None, "UTC", ["avg_delivery_days"])
    assert [s["period"] for s in utc["kpis"]["avg_delivery_days"]["series"]] == ["2026-10-03", "2026-10-06"]


def test_every_kpi_by_hand_sqlite(tmp_path: Path, master_key: str) -> None:
    hub = _hub(tmp_path, master_key)
    try:
        _check_all(hub)
    finally:
        hub.close()


@pytest.mark.postgres
def test_every_kpi_by_hand_postgresql(tmp_path: Path, master_key: str, pg_url: str) -> None:
    hub = _hub(tmp_path, master_key, pg_url)
    try:
        _check_all(hub)
    finally:
        hub.close()


def test_absent_inputs_are_null_with_reason(tmp_path: Path, master_key: str) -> None:
    from deliveryhub.kpi.engine import KpiEngine

    hub = make_hub(tmp_path, master_key, features=False)
    try:
        hub.ingest.ingest([events()[0]])
        res = KpiEngine(hub.db).compute("2026-10-01", "2026-10-31", "month", None, "Asia/Seoul")["kpis"]
        for key in ("on_time_delivery_rate", "misdelivery_rate", "csat", "cs_first_response_minutes", "nps"):
            assert res[key]["value"] is None and res[key]["reason"], key
            assert res[key]["status"] == "no_data"
        assert res["aov"]["value"] == 100.0
    finally:
        hub.close()


def test_incremental_refresh_sees_new_events(tmp_path: Path, master_key: str) -> None:
    from deliveryhub.kpi.engine import KpiEngine

    hub = make_hub(tmp_path, master_key, features=False)
    try:
        evs = events()
        hub.ingest.ingest(evs[:6])  # order A, delivered on time
        engine = KpiEngine(hub.db)
        first = engine.compute(
            "2026-10-01", "2026-10-31", "month", None, "Asia/Seoul", ["on_time_delivery_rate"]
        )
        assert first["kpis"]["on_time_delivery_rate"]["value"] == 1.0
        hub.ingest.ingest([e for e in evs if e["order_id"] == "B"])
        second = engine.compute(
            "2026-10-01", "2026-10-31", "month", None, "Asia/Seoul", ["on_time_delivery_rate"]
        )
        assert engine.store.last_refresh["mode"] == "incremental"
        assert second["kpis"]["on_time_delivery_rate"]["value"] == 0.5
        engine.compute("2026-10-01", "2026-10-31", "month", None, "Asia/Seoul", ["on_time_delivery_rate"])
        assert engine.store.last_refresh["mode"] == "cached"
    finally:
        hub.close()
