"""A small shop for the order-page, search, tracking-page and drill-down tests, on a pinned clock.

O-LATE: promised Mon 23 Nov, still in transit on Thu 26 Nov, two parcels (CJ with scans and locations,
Hanjin with an ETA past the promise), a delay claim, notices sent, the delivery_delay exception open.
O-OK: promised Sat 28 Nov, handed over, ordered through Naver (marketplace no. in its data).
O-DONE: delivered late on Tue 24 Nov (behind the delay rate, but nothing left to act on)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deliveryhub.kernel.clock import ManualClock
from dh_testkit import drain, event, handed_over, make_hub, order_created, parcel_event, tracking, waybill

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # Thu 26 Nov 10:00 KST
PHONE = "010-2345-6789"
MARKET_NO = "2026112012345678"


def _order(oid: str, created: str, promised: str, phone: str, **data: Any) -> list[dict[str, Any]]:
    customer = {"name": "김민수", "phone": phone, "email": f"{oid.lower()}@example.com"}
    return [
        order_created(f"{oid}-c", oid, created, customer, promised_delivery_date=promised, **data),
        event(f"{oid}-p", "order.paid", oid, created.replace("T01", "T02"), {"amount": 30000}),
        event(f"{oid}-k", "fulfillment.packed", oid, created.replace("T01", "T05"), {}, source="wms"),
    ]


def shop_events() -> list[dict[str, Any]]:
    """Every canonical event of the three orders."""
    late = _order("O-LATE", "2026-11-20T01:00:00+00:00", "2026-11-23", PHONE, channel="own")
    late += [
        waybill("O-LATE-w1", "O-LATE", "2026-11-20T06:00:00+00:00", "cj", "553825406594", "P1"),
        waybill("O-LATE-w2", "O-LATE", "2026-11-20T06:05:00+00:00", "hanjin", "4123-5678-9012", "P2"),
        handed_over("O-LATE-h1", "O-LATE", "2026-11-20T08:00:00+00:00", "cj", "P1"),
        handed_over("O-LATE-h2", "O-LATE", "2026-11-20T08:10:00+00:00", "hanjin", "P2"),
        tracking(
            "O-LATE-t1",
            "O-LATE",
            "2026-11-21T03:00:00+00:00",
            "cj",
            "P1",
            status="in_transit",
            location="곤지암 Hub",
            raw_status="간선상차",
        ),
        tracking(
            "O-LATE-t2",
            "O-LATE",
            "2026-11-24T02:00:00+00:00",
            "cj",
            "P1",
            status="exception",
            location="대전 HUB",
            raw_status="배송 지연",
            reason="weather_delay",
        ),
        tracking(
            "O-LATE-t3",
            "O-LATE",
            "2026-11-21T04:00:00+00:00",
            "hanjin",
            "P2",
            status="in_transit",
            location="옥천 HUB",
        ),
        parcel_event(
            "O-LATE-e2",
            "shipment.eta_updated",
            "O-LATE",
            "2026-11-24T03:00:00+00:00",
            {"eta_min": "2026-11-27T05:00:00+00:00", "eta_max": "2026-11-27T07:00:00+00:00"},
            "P2",
            source="carrier:hanjin",
        ),
        event(
            "O-LATE-cl",
            "claim.opened",
            "O-LATE",
            "2026-11-25T01:00:00+00:00",
            {"kind": "delay", "amount": 3000},
            source="cs",
        ),
    ]
    ok = _order(
        "O-OK",
        "2026-11-25T01:00:00+00:00",
        "2026-11-28",
        "010-9999-0000",
        channel="naver",
        marketplace_order_id=MARKET_NO,
    )
    ok += [
        waybill("O-OK-w", "O-OK", "2026-11-25T06:00:00+00:00", "cj", "553825406601"),
        handed_over("O-OK-h", "O-OK", "2026-11-25T08:00:00+00:00", "cj"),
    ]
    done = _order("O-DONE", "2026-11-19T01:00:00+00:00", "2026-11-21", "010-7777-1111", channel="own")
    done += [
        waybill("O-DONE-w", "O-DONE", "2026-11-19T06:00:00+00:00", "logen", "12345678901"),
        handed_over("O-DONE-h", "O-DONE", "2026-11-19T08:00:00+00:00", "logen"),
        parcel_event(
            "O-DONE-d",
            "shipment.delivered",
            "O-DONE",
            "2026-11-24T05:00:00+00:00",
            {},
            source="carrier:logen",
        ),
    ]
    return late + ok + done


def shop_hub(tmp_path: Path, master_key: str, **overrides: Any) -> Any:
    """The hub with the three orders ingested, monitors run and notices sent at NOW."""
    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW), **overrides)
    hub.ingest.ingest(shop_events())
    drain(hub)
    for name in ("timers", "monitors", "notifications.send"):
        for job in hub.jobs:
            if job.name == name:
                job.run(NOW)
        drain(hub)
    return hub
