"""An ingest batch before it touches the database: validation, duplicates within the batch, carrier
status derivation, per-item results and counts, and the data a retried transaction starts from."""

from __future__ import annotations

from typing import Any

from deliveryhub.service_layer.ingest.batch import automatic, projects, raw_id, validate
from deliveryhub.service_layer.ingest.emit import messages

AT = "2026-11-03T14:05:00+09:00"


def ev(event_id: str, type_: str = "order.paid", source: str = "oms", **over: Any) -> dict[str, Any]:
    raw = {
        "event_id": event_id,
        "source": source,
        "type": type_,
        "occurred_at": AT,
        "order_id": "O1",
        "data": {},
    }
    raw.update(over)
    return raw


def test_results_follow_item_order_with_duplicates_and_rejections() -> None:
    batch = validate([ev("a"), {"event_id": "bad"}, ev("a"), ev("b")], None)
    assert [i for i, _ in batch.valid] == [0, 3]
    assert [i for i, _, _ in batch.rejected] == [1]
    accepted = batch.finish([batch.valid[1][1]])  # "a" was stored before: a duplicate
    assert [e.event_id for e in accepted] == ["b"]
    assert [(r.event_id, r.status) for r in batch.item_results()] == [
        ("a", "duplicate"),
        ("bad", "rejected"),
        ("a", "duplicate"),
        ("b", "accepted"),
    ]
    assert (batch.stats.accepted, batch.stats.duplicate, batch.stats.rejected) == (1, 2, 1)


def test_a_carrier_raw_code_is_mapped_or_marked_unknown() -> None:
    def derive(carrier: str, code: str | None, text: str | None) -> tuple[str | None, str | None, bool]:
        return ("in_transit", "hub scan", True) if code == "20" else (None, None, False)

    tracking = {"type": "shipment.tracking", "source": "carrier:cj", "shipment_id": "P1"}
    batch = validate(
        [ev("k", **tracking, data={"raw_code": "20"}), ev("u", **tracking, data={"raw_code": "99"})], derive
    )
    known, unknown = (e for _, e in batch.valid)
    assert known.data["status"] == "in_transit" and known.data["reason"] == "hub scan"
    assert unknown.data.get("status_unknown") is True
    assert batch.stats.unknown_statuses == [("cj", "99")]


def test_a_tracking_event_without_status_needs_a_carrier_source() -> None:
    batch = validate([ev("t", type="shipment.tracking", shipment_id="P1", data={"raw_code": "1"})], None)
    assert batch.rejected and batch.rejected[0][2].field == "data.status"


def test_restore_gives_a_retried_transaction_the_validated_data() -> None:
    batch = validate([ev("a", data={"memo": "x"})], None)
    event = batch.events[0]
    event.data.pop("memo")
    batch.restore()
    assert event.data == {"memo": "x"}


def test_helpers_tell_manual_extension_and_raw_ids() -> None:
    batch = validate([ev("a", source="ui:kim"), ev("b", type="x-note"), ev("c", source="oms")], None)
    a, b, c = batch.events
    assert not automatic(a) and automatic(c)
    assert not projects(b) and projects(c)
    assert raw_id({"event_id": 42}) == "42" and raw_id("nope") is None


def test_messages_put_events_before_stage_changes() -> None:
    batch = validate([ev("a", type="order.created", data={"total": 1})], None)
    event = batch.events[0]
    from deliveryhub.domain.order import Order

    order = Order("O1")
    transitions = order.apply(event.type, event.data, event.occurred_at, event.source, True)
    out = messages([event], transitions, 16)
    assert [m.topic for m in out] == ["order.created", "order.stage_changed"]
    assert out[1].payload["stage"] == "received" and out[0].payload["manual"] is False
