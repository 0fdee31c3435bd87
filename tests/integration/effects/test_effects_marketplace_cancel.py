"""A cancel made through the hub reaches the marketplace the order came from, once: Naver's seller cancel
request per product order, Coupang Wing's 상품준비중 취소 (HMAC-signed), Cafe24's order cancellation — each
across a 500 (retried with one call that counts); a cancel the marketplace sent itself is not echoed; an
order that did not come from a marketplace sends nothing to any of them; a shipped state is refused with the
seller centre to use."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from effects_kit import AT, CUSTOMER, effects_hub, inbox, new_order, rows, say
from fastapi import Request
from fastapi.responses import JSONResponse

from deliveryhub.adapters.connectors.cafe24.cancel import cancellation_path
from deliveryhub.adapters.connectors.cafe24.client import forget_tokens
from deliveryhub.adapters.connectors.coupang.cancel import cancel_path
from deliveryhub.adapters.connectors.naver.auth import TOKENS
from deliveryhub.adapters.connectors.naver.cancel import cancel_request_path
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer import commands
from dh_testkit import drain, order_created, serving
from integration.connectors_cafe24 import fake_cafe24
from integration.connectors_coupang import fake_wing
from integration.connectors_naver import fake_naver
from providers.outside_servers import OutsideServers

ITEMS = [{"sku": "SKU-A", "qty": 1, "price": 20000}, {"sku": "SKU-B", "qty": 2, "price": 5000}]


# ------------------------------------------------------------------------------------------ the marketplaces
@dataclass
class Marketplaces:
    """What each local marketplace received, and answers queued to fail."""

    naver: fake_naver.State = field(default_factory=fake_naver.State)
    naver_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    naver_cancelled: set[str] = field(default_factory=set)
    naver_shipped: set[str] = field(default_factory=set)
    naver_fail: list[int] = field(default_factory=list)
    wing: fake_wing.Wing = field(default_factory=fake_wing.Wing)
    wing_cancelled: dict[int, set[int]] = field(default_factory=dict)
    wing_shipped: set[int] = field(default_factory=set)
    cafe24: fake_cafe24.State = field(default_factory=fake_cafe24.State)
    cafe24_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cafe24_cancelled: set[str] = field(default_factory=set)
    cafe24_fail: list[int] = field(default_factory=list)

    def calls(self) -> int:
        """Every cancel call any marketplace received."""
        return len(self.naver_calls) + len(self.wing.calls_to("/cancel")) + len(self.cafe24_calls)


def _naver(m: Marketplaces) -> Any:
    app = fake_naver.naver_app(m.naver)

    @app.post(cancel_request_path("{po_id}"))
    async def cancel(po_id: str, request: Request) -> Any:
        if request.headers.get("authorization", "")[7:] not in m.naver.tokens:
            return JSONResponse({"code": "GW.AUTHN", "message": "권한 없음"}, status_code=401)
        body = await request.json()
        m.naver_calls.append((po_id, body))
        if m.naver_fail:  # Naver cancelled it, then the answer was lost
            m.naver_cancelled.add(po_id)
            return JSONResponse(
                {"code": "GW.INTERNAL", "message": "일시 오류"}, status_code=m.naver_fail.pop(0)
            )
        if po_id in m.naver_shipped:
            return JSONResponse(
                {"code": "104442", "message": "상품 주문 상태 확인 필요", **fake_naver.TRACE}, status_code=400
            )
        if po_id in m.naver_cancelled:
            fails = [{"productOrderId": po_id, "code": "105306", "message": "이미 취소된 상품주문입니다."}]
            return {
                **fake_naver.TRACE,
                "data": {"successProductOrderIds": [], "failProductOrderInfos": fails},
            }
        m.naver_cancelled.add(po_id)
        return {**fake_naver.TRACE, "data": {"successProductOrderIds": [po_id], "failProductOrderInfos": []}}

    return app


def _wing(m: Marketplaces) -> Any:
    app = fake_wing.build(m.wing)

    @app.post(cancel_path(fake_wing.VENDOR, "{order_id}"))
    async def cancel(order_id: int, request: Request) -> Any:
        body = await request.json()
        if body.get("userId") != "wing-login" or body.get("vendorId") != fake_wing.VENDOR:
            return JSONResponse(
                {"code": 400, "message": "업체 ID에 맞는 올바른 유저 ID를 입력해주세요."}, 400
            )
        if order_id in m.wing_shipped:
            words = f"[{body['vendorItemIds'][0]}]<= 해당 벤더아이템이 결제완료/상품지시 중 상태가 아닙니다."
            return JSONResponse({"code": 400, "message": words}, status_code=400)
        done = m.wing_cancelled.setdefault(order_id, set())
        items = set(body["vendorItemIds"])
        if items <= done:
            words = f"[{min(items)}]<= 취소 가능한 개수보다 요청한 개수가 더 많습니다."
            return JSONResponse({"code": 400, "message": words}, status_code=400)
        done |= items
        receipt = {"receiptId": 44698107, "receiptType": "STOP_SHIPMENT", "vendorItemIds": sorted(items)}
        data = {"receiptMap": {**receipt, "totalCount": sum(body["receiptCounts"])}, "orderId": order_id}
        return {"code": "SUCCESS", "message": "", "data": {**data, "failedVendorItemIds": []}}

    return app


def _cafe24(m: Marketplaces) -> Any:
    app = fake_cafe24.cafe24_app(m.cafe24)

    @app.post("/api/v2/admin/orders/{order_id}/cancellation")
    async def cancel(order_id: str, request: Request) -> Any:
        body = await request.json()
        m.cafe24_calls.append((order_id, body))
        if order_id in m.cafe24_cancelled:
            return JSONResponse(
                {"error": {"code": 422, "message": "이미 취소된 주문입니다."}}, status_code=422
            )
        m.cafe24_cancelled.add(order_id)
        if m.cafe24_fail:  # cancelled, then the answer was lost
            return JSONResponse(
                {"error": {"code": 500, "message": "Internal"}}, status_code=m.cafe24_fail.pop(0)
            )
        req = body["request"]
        answer = {
            "shop_no": body["shop_no"],
            "order_id": order_id,
            "status": req["status"],
            "claim_code": "C20261201-0000001",
            "items": req.get("items") or [],
        }
        return JSONResponse({"cancellation": answer}, status_code=201)

    return app


@pytest.fixture
def markets(monkeypatch: pytest.MonkeyPatch, servers: OutsideServers) -> Iterator[Marketplaces]:
    """Naver, Coupang Wing and a Cafe24 mall on loopback, the seller's credentials in the environment."""
    m = Marketplaces()
    with serving(_naver(m)) as naver, serving(_wing(m)) as wing, serving(_cafe24(m)) as cafe24:
        env = {
            "DELIVERYHUB_NAVER_BASE_URL": naver,
            "DELIVERYHUB_NAVER_CLIENT_ID": fake_naver.CLIENT_ID,
            "DELIVERYHUB_NAVER_CLIENT_SECRET": fake_naver.CLIENT_SECRET,
            "DELIVERYHUB_COUPANG_BASE_URL": wing,
            "DELIVERYHUB_COUPANG_VENDOR_ID": fake_wing.VENDOR,
            "DELIVERYHUB_COUPANG_ACCESS_KEY": fake_wing.ACCESS,
            "DELIVERYHUB_COUPANG_SECRET_KEY": fake_wing.SECRET,
            "DELIVERYHUB_COUPANG_WING_USER_ID": "wing-login",
            "DELIVERYHUB_CAFE24_BASE_URL": cafe24,
            "DELIVERYHUB_CAFE24_MALL_ID": "myshop",
            "DELIVERYHUB_CAFE24_ACCESS_TOKEN": "fresh-token",
            "DELIVERYHUB_CAFE24_REFRESH_TOKEN": "refresh-1",
            "DELIVERYHUB_CAFE24_CLIENT_ID": fake_cafe24.CLIENT_ID,
            "DELIVERYHUB_CAFE24_CLIENT_SECRET": fake_cafe24.CLIENT_SECRET,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        TOKENS.drop((naver, fake_naver.CLIENT_ID))
        forget_tokens()
        yield m
    forget_tokens()


# ------------------------------------------------------------------------------------------------ orders
def _marketplace_order(hub: Any, oid: str, source: str, market: dict[str, Any], items: list[Any]) -> None:
    raw = order_created(f"{oid}-c", oid, AT, CUSTOMER, items=items, source=source, marketplace=market)
    assert hub.ingest.ingest([raw])[0].status == "accepted"
    drain(hub)


def _run_through_a_500(hub: Any, clock: ManualClock, key: str) -> Any:
    """Drive the action: the first answer is a 500 (retry), the second is done."""
    hub.effects.driver.run(clock.now())
    assert rows(hub)[key].status == "pending"
    clock.advance(timedelta(minutes=2))
    hub.effects.driver.run(clock.now())
    drain(hub)
    row = rows(hub)[key]
    assert row.status == "done", row.last_error
    return row


@pytest.fixture
def hub(tmp_path: Path, master_key: str, clock: ManualClock, markets: Marketplaces) -> Iterator[Any]:
    """A hub built once the marketplaces' servers is configured, closed after the test."""
    built = effects_hub(tmp_path, master_key, clock)
    try:
        yield built
    finally:
        built.close()


def test_a_cs_cancel_of_a_naver_order_reaches_naver_once(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    market = {"source": "naver", "order_id": "N-10", "product_order_ids": ["PO-1", "PO-2"]}
    _marketplace_order(hub, "N-10", "naver", market, ITEMS)
    assert commands.cancel_order(hub, "N-10", "고객 요청", actor="cs").ok
    drain(hub)
    markets.naver_fail.append(500)
    row = _run_through_a_500(hub, clock, "marketplace-cancel:N-10")
    assert row.system == "marketplace" and row.action == "cancel_order"
    # PO-1 cancelled under the lost answer, then both asked again: PO-1 "already", PO-2 cancelled.
    assert [po for po, _ in markets.naver_calls] == ["PO-1", "PO-1", "PO-2"]
    assert markets.naver_calls[-1][1] == {
        "cancelReason": "INTENT_CHANGED",
        "cancelDetailedReason": "고객 요청",
    }
    assert markets.naver_cancelled == {"PO-1", "PO-2"}
    assert [r.type for r in inbox(hub, "act:marketplace-cancel:")] == ["action.completed"]
    hub.effects.driver.run(clock.now() + timedelta(hours=1))
    assert len(markets.naver_calls) == 3  # done: never sent again


def test_a_chatbot_cancel_of_a_coupang_order_reaches_wing_once(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    items = [
        {"sku": "SKU-1", "qty": 2, "price": 10000, "vendor_item_id": "3145181065"},
        {"sku": "SKU-2", "qty": 1, "price": 10000, "vendor_item_id": "3145181067"},
    ]
    box = {"shipment_box_id": "642538971006401429", "status": "INSTRUCT"}
    market = {
        "source": "coupang",
        "shipment_box_ids": [box["shipment_box_id"]],
        "vendor_item_ids": ["3145181065", "3145181067"],
        "boxes": [{**box, "vendor_item_ids": ["3145181065", "3145181067"]}],
    }
    _marketplace_order(hub, "2000006593044", "coupang", market, items)
    markets.wing.fail["/cancel"] = [(500, {}, {"code": 500, "message": "내부 오류"})]
    assert commands.cancel_order(hub, "2000006593044", "품절", actor="chatbot").ok
    drain(hub)
    row = _run_through_a_500(hub, clock, "marketplace-cancel:2000006593044")
    calls = markets.wing.calls_to("/cancel")
    assert len(calls) == 2 and markets.wing.refused_auth == 0  # HMAC-signed both times
    assert calls[0][1] == cancel_path(fake_wing.VENDOR, "2000006593044")
    assert calls[1][3] == {
        "orderId": 2000006593044,
        "vendorItemIds": [3145181065, 3145181067],
        "receiptCounts": [2, 1],
        "bigCancelCode": "CANERR",
        "middleCancelCode": "CCTTER",
        "vendorId": fake_wing.VENDOR,
        "userId": "wing-login",
    }
    assert markets.wing_cancelled == {2000006593044: {3145181065, 3145181067}}
    assert row.ref == "44698107"


def test_coupang_answering_nothing_left_to_cancel_counts_as_done(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    market = {"source": "coupang", "vendor_item_ids": ["31"], "boxes": [{"shipment_box_id": "9"}]}
    _marketplace_order(hub, "2000000000031", "coupang", market, ITEMS)
    markets.wing_cancelled[2000000000031] = {31}  # an earlier attempt reached Wing, its answer lost
    say(hub, "cs-cancel-31", "order.cancelled", "2000000000031", {"reason": "고객 요청"}, source="cs")
    hub.effects.driver.run(clock.now())
    assert rows(hub)["marketplace-cancel:2000000000031"].status == "done"


def test_a_ui_cancel_of_a_cafe24_order_creates_one_cancellation(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    oid = "20261201-0000011"
    market = {"source": "cafe24", "mall_id": "myshop", "order_item_codes": [f"{oid}-01", f"{oid}-02"]}
    _marketplace_order(hub, oid, "cafe24", market, ITEMS)
    markets.cafe24_fail.append(500)
    say(hub, "ui-cancel-1", "order.cancelled", oid, {"reason": "고객 변심"}, source="ui")
    _run_through_a_500(hub, clock, f"marketplace-cancel:{oid}")
    assert [o for o, _ in markets.cafe24_calls] == [oid, oid]
    assert markets.cafe24_calls[0][1] == {
        "shop_no": 1,
        "request": {
            "status": "canceled",
            "payment_gateway_cancel": "T",
            "recover_inventory": "T",
            "reason": "고객 변심",
            "claim_reason_type": "A",
            "items": [
                {"order_item_code": f"{oid}-01", "quantity": 1},
                {"order_item_code": f"{oid}-02", "quantity": 2},
            ],
        },
    }
    assert markets.cafe24_cancelled == {oid}
    assert [s[1] for s in markets.cafe24.seen if s[0] == "POST"] == [cancellation_path(oid)] * 2


def test_a_cancel_the_marketplace_sent_is_not_echoed_and_other_orders_send_nothing(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    market = {"source": "naver", "order_id": "N-20", "product_order_ids": ["PO-20"]}
    _marketplace_order(hub, "N-20", "naver", market, ITEMS)
    say(
        hub,
        "naver:cancelled:N-20",
        "order.cancelled",
        "N-20",
        {"reason": "구매 의사 취소"},
        source="naver",
    )
    c_market = {"source": "coupang", "vendor_item_ids": ["77"]}
    _marketplace_order(hub, "2000000000077", "coupang", c_market, ITEMS)
    say(hub, "coupang:cancel:1", "order.cancelled", "2000000000077", {"reason": "x"}, source="coupang")
    new_order(hub, "ORD-OWN-1")  # the shop's own OMS order
    assert commands.cancel_order(hub, "ORD-OWN-1", "고객 요청", actor="cs").ok
    drain(hub)
    hub.effects.driver.run(clock.now())
    drain(hub)
    assert not [k for k in rows(hub) if k.startswith("marketplace-cancel:")]
    assert markets.calls() == 0
    assert "release:ORD-OWN-1" in rows(hub)  # the WMS release still goes out


def test_a_shipped_naver_order_is_refused_with_the_seller_centre(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    market = {"source": "naver", "order_id": "N-30", "product_order_ids": ["PO-30"]}
    _marketplace_order(hub, "N-30", "naver", market, ITEMS)
    markets.naver_shipped.add("PO-30")  # dispatched at Naver before the hub heard of it
    say(hub, "cs-cancel-30", "order.cancelled", "N-30", {"reason": "고객 요청"}, source="cs")
    hub.effects.driver.run(clock.now())
    drain(hub)
    row = rows(hub)["marketplace-cancel:N-30"]
    assert row.status == "failed"
    assert "스마트스토어센터" in row.last_error and "Smartstore Center" in row.last_error
    assert "104442" in row.last_error
    failed = inbox(hub, "actfail:marketplace-cancel:N-30")
    assert [r.type for r in failed] == ["action.failed"]


def test_a_coupang_order_past_instruct_is_refused_with_wing(
    hub: Any, clock: ManualClock, markets: Marketplaces
) -> None:
    market = {"source": "coupang", "vendor_item_ids": ["55"]}
    _marketplace_order(hub, "2000000000055", "coupang", market, ITEMS)
    markets.wing_shipped.add(2000000000055)
    say(hub, "cs-cancel-55", "order.cancelled", "2000000000055", {"reason": "고객 요청"}, source="cs")
    hub.effects.driver.run(clock.now())
    row = rows(hub)["marketplace-cancel:2000000000055"]
    assert row.status == "failed" and "쿠팡 Wing" in row.last_error and "Coupang Wing" in row.last_error
