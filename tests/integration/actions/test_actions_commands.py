"""Order actions through the service layer on a real SQLite hub: the address change is normalised and
confirmed before it is applied and refused after handover; a cancellation speaks of a refund only when
something was paid; returns and exchanges go through the returns desk (policy quote, day-8 change of
mind refused, damage at the shop's cost)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from actions_kit import seed_orders
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer import commands
from dh_testkit import drain, event, make_hub

KST = ZoneInfo("Asia/Seoul")
PACKED = "ORD-2026-000701"
SHIPPED = "ORD-2026-000702"
DELIVERED = "ORD-2026-000703"
CUSTOMER = {"name": "김민지", "phone": "010-2222-3333"}


def _types(hub: Any, order_id: str) -> list[str]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.inbox.c.type).where(t.inbox.c.order_id == order_id)).scalars())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 9, 0, tzinfo=KST))


@pytest.fixture
def shop(tmp_path: Path, master_key: str, clock: ManualClock) -> Iterator[Any]:
    hub = make_hub(tmp_path, master_key, clock=clock)
    item = {"sku": "SKU-COAT", "qty": 1, "price": 59000}
    seed_orders(
        hub,
        CUSTOMER,
        item,
        packed=PACKED,
        shipped=(SHIPPED, "600100200300"),
        delivered=(DELIVERED, "600100200301"),
    )
    try:
        yield hub
    finally:
        hub.close()


def test_an_address_is_normalised_and_confirmed_before_it_is_applied(shop: Any) -> None:
    ask = commands.change_address(shop, PACKED, "서울 강남구 테헤란로 152 강남파이낸스센터 10층 06236")
    assert ask.ok and ask.code == "confirm_address"
    addr = ask.data["address"]
    assert addr["zip"] == "06236" and addr["line1"] == "서울특별시 강남구 테헤란로 152"
    assert addr["line2"] == "강남파이낸스센터 10층" and not addr["extra_shipping"]
    assert "이 주소로 변경할까요? (네/아니요)" in ask.message_ko
    assert "order.address_changed" not in _types(shop, PACKED)  # nothing applied before the yes

    done = commands.change_address(
        shop, PACKED, {k: addr[k] for k in ("zip", "line1", "line2")}, actor="cs", confirm=True
    )
    assert done.ok and done.code == "address_changed" and done.event_ids
    assert _types(shop, PACKED).count("order.address_changed") == 1


def test_jeju_is_flagged_with_the_extra_shipping_note(shop: Any) -> None:
    ask = commands.change_address(shop, PACKED, "63309 제주 제주시 첨단로 242")
    assert ask.code == "confirm_address"
    assert ask.data["address"]["jeju"] and ask.data["address"]["extra_shipping"]
    assert "추가 배송비" in ask.message_ko and "extra" in ask.message_en.lower()


def test_an_unreadable_address_names_its_problems_and_changes_nothing(shop: Any) -> None:
    res = commands.change_address(shop, PACKED, "그냥 회사로 보내 주세요 부탁해요")
    assert not res.ok and res.code == "address_invalid"
    assert res.data["problems"] and all(p["message_ko"] for p in res.data["problems"])
    no_zip = commands.change_address(shop, PACKED, "서울 강남구 테헤란로 152")
    assert no_zip.code == "address_invalid"
    assert "no_zip" in [p["code"] for p in no_zip.data["problems"]] and "우편번호" in no_zip.message_ko
    assert "order.address_changed" not in _types(shop, PACKED)


def test_an_address_change_after_handover_is_refused_with_the_reason(shop: Any) -> None:
    res = commands.change_address(shop, SHIPPED, "06236 서울 강남구 테헤란로 152", confirm=True)
    assert not res.ok and res.code == "too_late" and "택배사에 인계" in res.message_ko
    assert "order.address_changed" not in _types(shop, SHIPPED)


def test_cancel_without_payment_promises_no_refund(shop: Any) -> None:
    res = commands.cancel_order(shop, PACKED, "고객 요청")
    assert res.ok and res.code == "cancelled" and "환불" not in res.message_ko
    assert res.data["refund_amount"] == 0
    assert "order.cancelled" in _types(shop, PACKED)
    shipped = commands.cancel_order(shop, SHIPPED)
    assert not shipped.ok and shipped.code == "already_shipped"


def test_cancel_after_payment_speaks_of_the_refund(shop: Any) -> None:
    shop.ingest.ingest(
        [
            event(
                "a3",
                "order.paid",
                PACKED,
                "2026-11-20T08:05:00+09:00",
                {"amount": 59000, "payment_key": "tgen_20261120_abc", "provider": "tosspayments"},
            )
        ]
    )
    drain(shop)
    with shop.db.read() as conn:
        paid = shop.refunds.refundable(conn, PACKED)
    assert paid == 59000
    res = commands.cancel_order(shop, PACKED, "고객 요청")
    assert res.ok and "59,000원" in res.message_ko and "환불" in res.message_ko


def test_a_return_quote_follows_the_policy_day_8_change_of_mind_refused_damage_accepted(
    shop: Any, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=KST))  # delivered 12 Nov: day 7
    day7 = commands.quote_return(shop, DELIVERED, "change_of_mind")
    assert day7.ok and day7.data["fee"] == 6000 and day7.data["fee_payer"] == "customer"
    assert "6,000원" in day7.message_ko
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=KST))  # day 8
    late = commands.request_return(shop, DELIVERED, reason="단순 변심", reason_code="change_of_mind")
    assert not late.ok and "7일" in late.message_ko
    assert "return.requested" not in _types(shop, DELIVERED)
    damaged = commands.request_return(shop, DELIVERED, reason="상자가 찌그러지고 파손", reason_code=None)
    assert damaged.ok and damaged.data["fee_payer"] == "shop" and damaged.data["fee"] == 0
    assert damaged.data.get("return_id")
    assert "return.requested" in _types(shop, DELIVERED)


def test_a_return_before_handover_is_a_cancellation(shop: Any) -> None:
    res = commands.request_return(shop, PACKED, reason_code="change_of_mind")
    assert not res.ok and res.code == "not_shipped"
    missing = commands.request_return(shop, "ORD-2026-999999", kind="exchange")
    assert missing.code == "not_found"
