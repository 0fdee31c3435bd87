"""The one order type's read side (current stage, closed, reached, carrier, parcels in id order) and the
messages it emits (stable partitions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deliveryhub.domain.messages import Consumer, Message, partition_of
from deliveryhub.domain.order import Order, Parcel, parcel_rank

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_a_newer_side_state_is_the_current_stage_an_older_one_is_not() -> None:
    o = Order("O1", stage="picked_packed", stage_rank=2, stage_at=T0)
    assert o.current_stage == "picked_packed"
    o.side_state, o.side_state_at = "delivery_failed", T0 + timedelta(hours=1)
    assert o.current_stage == "delivery_failed"
    o.side_state_at = T0 - timedelta(hours=1)
    assert o.current_stage == "picked_packed"
    assert Order("O2", side_state="cancelled").current_stage == "cancelled"


def test_closed_means_cancelled_or_returned() -> None:
    assert Order("O1", cancelled_at=T0).closed
    assert Order("O1", side_state="returned").closed
    assert not Order("O1", side_state="delivery_failed").closed


def test_reached_counts_the_timeline_and_the_rank() -> None:
    o = Order("O1", stage_rank=3, stages={"delivery_failed": T0})
    assert o.reached("picked_packed") and o.reached("waybill_created") and not o.reached("handed_over")
    assert o.reached("delivery_failed")


def test_parcels_stay_in_shipment_id_order_and_the_first_carrier_names_the_order() -> None:
    o = Order("O1")
    o.parcel("P2").carrier = "cj"
    o.parcel("P1")
    assert [p.shipment_id for p in o.parcels] == ["P1", "P2"]
    assert o.parcel("P2") is o.find_parcel("P2") and o.find_parcel("P9") is None
    assert o.carrier == "cj"


def test_a_stored_parcel_status_gives_its_rank() -> None:
    assert parcel_rank(None) == parcel_rank("info_received") == 3
    assert parcel_rank("in_transit") == 5 and parcel_rank("delivered") == 7
    assert Parcel("P1").rank == -1


def test_messages_of_one_order_share_a_partition() -> None:
    a = Message.new("order.created", "O1", {}, 8)
    b = Message.new("order.paid", "O1", {"x": 1}, 8)
    assert a.partition == b.partition == partition_of("O1", 8) and 0 <= a.partition < 8
    assert a.id == 0 and Message.new("t", None, {}).partition == partition_of(None)


def test_a_consumer_wants_its_topic_prefixes() -> None:
    c = Consumer("c", lambda conn, msgs: None, topics=("order.", "shipment.tracking"))
    assert c.wants("order.paid") and c.wants("shipment.tracking") and not c.wants("exception.opened")
    assert Consumer("all", lambda conn, msgs: None).wants("anything")
