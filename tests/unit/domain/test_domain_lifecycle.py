"""The seven-stage lifecycle: forward only, earliest time per stage, parcels and side states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deliveryhub.domain.order import Order

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_stages_advance_in_order():
    s = Order("O1")
    for i, kind in enumerate(
        [
            "order.created",
            "inventory.reserved",
            "fulfillment.packed",
            "shipment.waybill_created",
            "shipment.handed_over",
        ]
    ):
        s.apply(kind, {"carrier": "cj", "tracking_no": "1"}, at(i), "oms", True, None)
    assert s.current_stage == "handed_over"
    assert list(s.stages) == [
        "received",
        "stock_confirmed",
        "picked_packed",
        "waybill_created",
        "handed_over",
    ]


def test_late_event_never_moves_the_order_backwards_but_fills_the_timeline():
    s = Order("O1")
    s.apply("order.created", {}, at(0), "oms", True, None)
    s.apply("shipment.delivered", {}, at(48), "carrier:cj", True, None)
    reached = s.apply("shipment.handed_over", {"carrier": "cj"}, at(10), "carrier:cj", True, None)
    assert s.current_stage == "delivered"
    assert [r.stage for r in reached] == ["handed_over"]
    assert reached[0].current is False
    assert sorted(s.stages, key=s.stages.__getitem__) == ["received", "handed_over", "delivered"]


def test_duplicate_stage_keeps_the_earliest_time():
    s = Order("O1")
    s.apply("fulfillment.packed", {}, at(5), "wms", True, None)
    s.apply("fulfillment.packed", {}, at(3), "wms", False, None)
    assert s.stages["picked_packed"] == at(3)


def test_order_is_delivered_only_when_every_parcel_is():
    s = Order("O1")
    s.apply("shipment.waybill_created", {"carrier": "cj", "tracking_no": "1"}, at(1), "tms", True, "P1")
    s.apply("shipment.waybill_created", {"carrier": "cj", "tracking_no": "2"}, at(1), "tms", True, "P2")
    s.apply("shipment.delivered", {}, at(30), "carrier:cj", True, "P1")
    assert s.current_stage == "waybill_created"
    assert s.delivered_at is None
    s.apply("shipment.delivered", {}, at(40), "carrier:cj", True, "P2")
    assert s.current_stage == "delivered"
    assert s.delivered_at == at(40)


def test_side_states_and_redelivery():
    s = Order("O1")
    s.apply("shipment.handed_over", {}, at(1), "carrier:cj", True, None)
    s.apply("shipment.delivery_failed", {"reason": "부재"}, at(20), "carrier:cj", True, None)
    assert s.current_stage == "delivery_failed"
    s.apply("shipment.delivered", {}, at(44), "carrier:cj", True, None)
    assert s.current_stage == "delivered"


def test_cancel_is_a_side_state_and_manual_flag_is_kept():
    s = Order("O1")
    s.apply("order.created", {}, at(0), "oms", True, None)
    reached = s.apply("order.cancelled", {}, at(1), "cs", False, None)
    assert s.current_stage == "cancelled"
    assert reached[0].automatic is False and reached[0].current is True


def test_tracking_statuses_map_to_stages():
    s = Order("O1")
    s.apply("shipment.tracking", {"status": "out_for_delivery"}, at(30), "carrier:cj", True, "P1")
    assert s.current_stage == "out_for_delivery"
    s.apply("shipment.tracking", {"status": "attempt_fail"}, at(31), "carrier:cj", True, "P1")
    assert s.current_stage == "delivery_failed"
    assert s.parcel("P1").status == "attempt_fail"
