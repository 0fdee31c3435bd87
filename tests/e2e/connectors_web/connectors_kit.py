"""Test data shared by the connectors' e2e and integration tests (import it as
``e2e.connectors_web.connectors_kit``: the tests root is on sys.path)."""

from __future__ import annotations

from typing import Any

from dh_testkit import event

CJ_NUMBER = "553825406594"  # a real CJ number (korean_tracking/)

# A signed CJ push a forger would like to send: picked up, then delivered.
CJ_DELIVERED = {
    "tracking_no": CJ_NUMBER,
    "events": [
        {"time": "2026-11-21 09:00", "code": "11", "status": "집화처리", "location": "곤지암"},
        {"time": "2026-11-21 15:00", "status": "배달완료", "location": "강남"},
    ],
}


def waybill_order(
    order_id: str,
    carrier: str,
    tracking_no: str,
    *,
    created: str = "2026-11-20T10:00:00+09:00",
    shipped: str = "2026-11-20T12:00:00+09:00",
    total: int = 10000,
) -> list[dict[str, Any]]:
    """An order (a customer with a phone and an address, one item) and its waybill with ``carrier``."""
    order = {
        "customer": {"name": "김민수", "phone": "010-1234-5678"},
        "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 1"},
        "items": [{"sku": "A", "qty": 1, "price": total}],
        "total": total,
        "channel": "web",
    }
    waybill = {"carrier": carrier, "tracking_no": tracking_no}
    return [
        event(f"{order_id}-c", "order.created", order_id, created, order),
        event(
            f"{order_id}-w",
            "shipment.waybill_created",
            order_id,
            shipped,
            waybill,
            source="tms",
            shipment_id=tracking_no,
        ),
    ]
