"""The event contract as the first line of data hygiene: ids obey the id rule, free text and unknown
fields leave parse_event masked, the structured fields (and the customer, encrypted later) untouched."""

from __future__ import annotations

from typing import Any

import pytest

from deliveryhub.contracts.events import ContractError, parse_event
from dh_testkit import HIDDEN_PII, order_data_with_hidden_pii


def ev(type_: str = "order.paid", data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "event_id": "e-1",
        "source": "oms",
        "type": type_,
        "occurred_at": "2026-11-03T14:05:00+09:00",
        "order_id": "ORD-1",
        "data": data if data is not None else {"amount": 1000},
    }
    out.update(extra)
    return out


NUL, RLO, ZWSP, BOM = "\x00", "\u202e", "\u200b", "\ufeff"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (ev(event_id=f"e{NUL}1"), "event_id"),
        (ev(order_id=f"ORD{RLO}1-DRO"), "order_id"),
        (ev(order_id=f"ORD-1{ZWSP}"), "order_id"),
        (ev("shipment.handed_over", {"carrier": "cj"}, shipment_id=f"{BOM}S-1"), "shipment_id"),
        (
            ev("shipment.waybill_created", {"carrier": "cj", "tracking_no": f"6123{NUL}45"}),
            "data.tracking_no",
        ),
        (ev("order.created", {"items": [{"sku": f"SKU{RLO}1", "qty": 1}]}), "data.items.0.sku"),
        (ev("order.created", {"customer": {"external_id": "c\x1b[31m"}}), "data.customer.external_id"),
        (ev("inventory.shortage", {"sku": f"S{NUL}", "requested": 1, "available": 0}), "data.sku"),
        (ev("ticket.created", {"ticket_id": f"T{RLO}1"}), "data.ticket_id"),
        (ev("order.created", {"channel": f"app{NUL}"}), "data.channel"),
    ],
)
def test_ids_with_control_or_invisible_characters_are_refused_naming_the_field(
    raw: dict[str, Any], field: str
) -> None:
    with pytest.raises(ContractError) as info:
        parse_event(raw)
    err = info.value.as_dict()
    assert err["code"] == "invalid_id" and err["field"] == field, err
    assert err["message"].startswith(f"{field}: ")


def test_a_bad_dict_key_id_is_named_without_echoing_the_character() -> None:
    raw = ev("inventory.snapshot", {"warehouse": "W1", "counts": {f"SKU{NUL}": 3}}, order_id=None)
    with pytest.raises(ContractError) as info:
        parse_event(raw)
    assert info.value.code == "invalid_id" and NUL not in (info.value.field or "") + info.value.message


def test_personal_data_in_memo_gift_message_note_and_vendor_fields_is_masked() -> None:
    data = order_data_with_hidden_pii()
    out = parse_event(ev("order.created", data)).data
    assert out["memo"] == "문 앞에 놓아주세요 010-****-****"
    stored = repr({k: v for k, v in out.items() if k not in ("customer", "address")})
    for secret in HIDDEN_PII:
        assert secret not in stored, (secret, stored)
    # encrypted separately at ingest (the blind index needs the real phone): untouched here
    assert out["customer"] == data["customer"] and out["address"] == data["address"]
    assert out["items"][0]["sku"] == "MUG" and out["total"] == 12000 and out["channel"] == "app"


def test_structured_fields_are_never_altered_even_when_they_look_like_numbers() -> None:
    # a 16-digit Luhn-valid tracking number would be a "card" in free text; as an id it stays
    out = parse_event(
        ev(
            "shipment.waybill_created",
            {"carrier": "cj", "tracking_no": "4111111111111111"},
            shipment_id="S-1",
        )
    ).data
    assert out["tracking_no"] == "4111111111111111"


def test_carrier_text_fields_are_masked_but_stay_readable() -> None:
    data = {
        "status": "out_for_delivery",
        "raw_code": "82",
        "raw_status": "배송출발 (14~16시)",
        "message": "배송기사 홍길동 010-2222-3333",
        "location": "서울강남",
    }
    out = parse_event(ev("shipment.tracking", data, source="carrier:cj", shipment_id="S-1")).data
    assert out["raw_status"] == "배송출발 (14~16시)" and out["raw_code"] == "82"
    assert "홍길동" not in out["message"] and "2222-3333" not in out["message"]
    assert out["message"].startswith("배송기사 ")


def test_custom_event_types_are_masked_as_unknown_fields() -> None:
    out = parse_event(ev("x-shop.note", {"text": "call 010-4444-5555", "n": [1, 2]})).data
    assert out == {"text": "call 010-****-****", "n": [1, 2]}


def test_nul_in_free_text_is_removed_not_refused() -> None:
    out = parse_event(ev("order.cancelled", {"reason": f"고객{NUL} 변심{RLO}"})).data
    assert out["reason"] == "고객 변심"
