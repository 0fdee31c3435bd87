"""Return pickups of marketplace orders: a Naver order's return is booked at the carrier port and registered
in Naver's claim flow with that waybill (once, across a Naver 500 and an "already requested" answer); a
Coupang order's is refused with the seller centre to use."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from effects_kit import AT, CUSTOMER, effects_hub, rows
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse

from deliveryhub.adapters.connectors.naver.auth import TOKEN_PATH, TOKENS, verify_sign
from deliveryhub.adapters.outside.marketplace import return_request_path
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.service_layer.ports import ReturnAsk
from dh_testkit import drain, event, handed_over, order_created, serving, waybill
from providers.outside_servers import OutsideServers

CLIENT_ID = "effects-naver-app"
CLIENT_SECRET = "$2a$10$abcdefghijklmnopqrstuv"


@dataclass
class Naver:
    """The seller's Naver claims: return requests received, product orders whose return is open."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    requested: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)


def naver_app(naver: Naver) -> FastAPI:
    """Naver's token endpoint (signature checked) and the seller's return request."""
    app = FastAPI()

    @app.post(TOKEN_PATH)
    def token(
        client_id: str = Form(...), timestamp: str = Form(...), client_secret_sign: str = Form(...)
    ) -> Any:
        if client_id != CLIENT_ID or not verify_sign(
            CLIENT_ID, CLIENT_SECRET, int(timestamp), client_secret_sign
        ):
            return JSONResponse({"code": "GW.AUTHN", "message": "권한 없음"}, status_code=401)
        value = secrets.token_hex(8)
        naver.tokens.add(value)
        return {"access_token": value, "expires_in": 10800, "token_type": "Bearer"}

    @app.post(return_request_path("{po_id}"))
    async def request_return(po_id: str, request: Request) -> Any:
        if request.headers.get("authorization", "")[7:] not in naver.tokens:
            return JSONResponse({"code": "GW.AUTHN", "message": "권한 없음"}, status_code=401)
        body = await request.json()
        naver.calls.append((po_id, body))
        if naver.fail_next:
            return JSONResponse(
                {"code": "GW.INTERNAL", "message": "일시 오류"}, status_code=naver.fail_next.pop(0)
            )
        if po_id in naver.requested:
            return JSONResponse(
                {"code": "104105", "message": "이미 반품 요청된 상품주문입니다."}, status_code=400
            )
        naver.requested.add(po_id)
        return {
            "timestamp": AT,
            "traceId": "t",
            "data": {"successProductOrderIds": [po_id], "failProductOrderInfos": []},
        }

    return app


@pytest.fixture
def naver(monkeypatch: pytest.MonkeyPatch, servers: OutsideServers) -> Iterator[Naver]:
    state = Naver()
    with serving(naver_app(state)) as base:
        monkeypatch.setenv("DELIVERYHUB_NAVER_BASE_URL", base)
        monkeypatch.setenv("DELIVERYHUB_NAVER_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("DELIVERYHUB_NAVER_CLIENT_SECRET", CLIENT_SECRET)
        TOKENS.drop((base, CLIENT_ID))
        yield state


def _delivered_marketplace_order(hub: Any, oid: str, source: str, product_order_ids: list[str]) -> None:
    items = [{"sku": "SKU-A", "qty": 1, "price": 20000}, {"sku": "SKU-B", "qty": 2, "price": 5000}]
    market = {"source": source, "order_id": oid, "product_order_ids": product_order_ids}
    shipped = "2026-11-29T12:00:00+09:00"
    raws = [
        order_created(
            f"{oid}-c",
            oid,
            "2026-11-28T10:00:00+09:00",
            CUSTOMER,
            items=items,
            source=source,
            marketplace=market,
        ),
        waybill(f"{oid}-w", oid, shipped, "cj", "612345678901"),
        handed_over(f"{oid}-h", oid, shipped, "cj"),
        event(f"{oid}-d", "shipment.delivered", oid, AT, {}, source="carrier:cj", shipment_id="P1"),
    ]
    assert {r.status for r in hub.ingest.ingest(raws)} == {"accepted"}
    drain(hub)


@pytest.fixture
def hub(tmp_path: Path, master_key: str, clock: ManualClock, naver: Naver) -> Iterator[Any]:
    """A hub built once the local Naver is configured, closed after the test."""
    built = effects_hub(tmp_path, master_key, clock)
    try:
        yield built
    finally:
        built.close()


def test_a_naver_return_is_booked_and_registered_at_naver_once(
    hub: Any, clock: ManualClock, servers: OutsideServers, naver: Naver
) -> None:
    _delivered_marketplace_order(hub, "N-1", "naver", ["PO-1", "PO-2"])
    ask = ReturnAsk("N-1", "return", "파손됐어요", "damaged", [{"sku": "SKU-B", "qty": 2}], "chatbot")
    decision = hub.returns.open(ask)
    assert decision.ok, decision
    drain(hub)
    key = f"pickup:{decision.return_id}"
    naver.fail_next.append(500)
    hub.effects.driver.run(clock.now())
    assert rows(hub)[key].status == "pending"
    clock.advance(timedelta(seconds=30))
    hub.effects.driver.run(clock.now())
    drain(hub)
    assert rows(hub)[key].status == "done"
    assert servers.pickup.keys("/pickups") == [key, key] and len(servers.pickup.done("/pickups")) == 1
    assert [po for po, _ in naver.calls] == ["PO-2", "PO-2"]  # only the returned item's product order
    assert naver.calls[-1][1] == {
        "returnReason": "BROKEN",
        "collectDeliveryMethod": "DELIVERY",
        "collectDeliveryCompany": "CJGLS",
        "collectTrackingNumber": "R600000001",
        "returnQuantity": 2,
    }
    assert naver.requested == {"PO-2"}


def test_naver_already_having_the_return_counts_as_done(
    hub: Any, clock: ManualClock, servers: OutsideServers, naver: Naver
) -> None:
    _delivered_marketplace_order(hub, "N-2", "naver", ["PO-9"])
    naver.requested.add("PO-9")  # a previous attempt reached Naver, its answer was lost
    decision = hub.returns.open(ReturnAsk("N-2", "return", None, "change_of_mind", [], "chatbot"))
    drain(hub)
    hub.effects.driver.run(clock.now())
    assert rows(hub)[f"pickup:{decision.return_id}"].status == "done"
    assert naver.calls[0][1]["returnReason"] == "INTENT_CHANGED"


def test_a_coupang_return_is_refused_with_the_seller_centre(
    hub: Any, clock: ManualClock, servers: OutsideServers
) -> None:
    _delivered_marketplace_order(hub, "C-1", "coupang", [])
    decision = hub.returns.open(ReturnAsk("C-1", "return", None, "defective", [], "chatbot"))
    drain(hub)
    hub.effects.driver.run(clock.now())
    row = rows(hub)[f"pickup:{decision.return_id}"]
    assert row.status == "failed" and "쿠팡 Wing" in row.last_error
    assert servers.pickup.requests == []
