"""The canonical contract: what is accepted, and how rejections name the field."""

from __future__ import annotations

import pytest

from deliveryhub.contracts.events import ContractError, parse_event


def base(**over):
    ev = {
        "event_id": "e1",
        "source": "oms",
        "type": "order.paid",
        "occurred_at": "2026-11-03T14:05:00+09:00",
        "order_id": "O1",
        "data": {"amount": 1000},
    }
    ev.update(over)
    return ev


def reject(raw) -> ContractError:
    with pytest.raises(ContractError) as info:
        parse_event(raw)
    return info.value


def test_valid_event_is_normalised_and_keeps_unknown_data_fields():
    ev = parse_event(base(data={"amount": 1000, "method": "card", "pg_tid": "T-77"}))
    assert ev.type == "order.paid"
    assert ev.occurred_at.utcoffset().total_seconds() == 9 * 3600
    assert ev.data["pg_tid"] == "T-77"


def test_naive_timestamp_is_rejected_naming_occurred_at():
    err = reject(base(occurred_at="2026-11-03T14:05:00"))
    assert err.code == "naive_timestamp"
    assert err.field == "occurred_at"


def test_unknown_type_needs_x_prefix_but_custom_types_are_stored():
    assert reject(base(type="order.teleported")).field == "type"
    assert parse_event(base(type="x-shop.note", data={"anything": [1, 2]})).data == {"anything": [1, 2]}


def test_missing_order_id_is_named():
    raw = base()
    del raw["order_id"]
    err = reject(raw)
    assert err.field == "order_id"
    assert err.code == "missing_field"


def test_orderless_types_do_not_need_an_order():
    ev = parse_event(
        base(type="inventory.snapshot", order_id=None, data={"warehouse": "W1", "counts": {"A": 3}})
    )
    assert ev.order_id is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "teleport", "amount": 1}, "data.kind"),
        ({"kind": "coupon", "amount": -5}, "data.amount"),
    ],
)
def test_data_errors_name_the_data_field(data, field):
    err = reject(base(type="compensation.issued", data=data))
    assert err.field == field


def test_tracking_status_must_be_one_of_the_nine_tags():
    err = reject(base(type="shipment.tracking", data={"status": "teleported"}))
    assert err.field == "data.status"
    ok = parse_event(base(type="shipment.tracking", data={"status": "out_for_delivery", "raw_code": "82"}))
    assert ok.data["status"] == "out_for_delivery"


def test_non_object_items_and_bad_sources_are_rejected():
    assert reject(["not", "an", "object"]).code == "invalid_item"
    assert reject(base(source="Bad Source!")).field == "source"


def test_survey_needs_a_score():
    assert reject(base(type="survey.answered", data={"comment": "좋아요"})).code == "invalid_field"
    assert parse_event(base(type="survey.answered", data={"csat": 5})).data["csat"] == 5
