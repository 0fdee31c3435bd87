"""Naver end to end against a local Commerce API: the bcrypt-signed token verified server side, a 429 with
Retry-After, `more` paging, the detail query, orders visible at GET /v1/orders/{id}, and 발송처리 written back
exactly once for a waybill reported twice whose first dispatch call got a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.naver.client import LAST_CHANGED_PATH
from deliveryhub.connectors.naver_poll import NaverPollJob, read_cursor, write_cursor
from deliveryhub.connectors.writeback import WritebackJob
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, make_hub, serving
from integration.connectors_naver.fake_naver import CLIENT_ID, CLIENT_SECRET, State, naver_app

KST_ORDER_A = "2026120611110001"


def _count(hub: Any, table: sa.Table) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _detail(order_id: str, po_id: str, status: str, at: datetime) -> dict[str, Any]:
    stamp = at.isoformat(timespec="milliseconds")
    return {
        "order": {
            "orderId": order_id,
            "orderDate": stamp,
            "paymentDate": stamp,
            "paymentMeans": "신용카드",
            "ordererName": "김민지",
            "ordererTel": "010-1234-5678",
        },
        "productOrder": {
            "productOrderId": po_id,
            "productOrderStatus": status,
            "sellerProductCode": f"SKU-{po_id[-2:]}",
            "quantity": 1,
            "unitPrice": 19000,
            "totalPaymentAmount": 19000,
            "shippingAddress": {
                "zipCode": "06236",
                "baseAddress": "서울특별시 강남구 테헤란로 152",
                "detailedAddress": "12층",
                "name": "김민지",
                "tel1": "010-1234-5678",
            },
        },
    }


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    def write(base: str) -> None:
        path = tmp_path / "connectors.json"
        naver = {
            "base_url": base,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "poll_interval_s": 60,
        }
        path.write_text(json.dumps({"naver": naver}))
        monkeypatch.setenv("DELIVERYHUB_CONNECTORS_CONFIG", str(path))

    return write


def test_poll_then_write_back_exactly_once(tmp_path: Path, master_key: str, config: Any) -> None:
    now = datetime.now(UTC)
    state = State()
    placed = now - timedelta(hours=1)
    state.place(_detail(KST_ORDER_A, f"{KST_ORDER_A}01", "PAYED", placed), placed.isoformat())
    state.place(_detail(KST_ORDER_A, f"{KST_ORDER_A}02", "PAYED", placed), placed.isoformat())
    later = placed + timedelta(minutes=5)
    state.place(_detail("2026120611110002", "2026120611110002" + "01", "PAYED", later), later.isoformat())
    waiting = placed + timedelta(minutes=9)
    state.place(
        _detail("2026120611110003", "2026120611110003" + "01", "PAYMENT_WAITING", waiting),
        waiting.isoformat(),
    )
    state.rate_limit_once = True
    with serving(naver_app(state)) as base:
        config(base)
        hub = make_hub(tmp_path, master_key)
        try:
            poll = NaverPollJob(hub)
            assert poll.run(now) == 0  # 429: backed off for its Retry-After, cursor not moved
            assert read_cursor(hub) is None
            assert poll.run(now + timedelta(seconds=1)) == 0  # still inside Retry-After: no request
            assert len(state.seen) == 1
            # 2 orders x (created + paid) + the unpaid order's created
            assert poll.run(now + timedelta(seconds=3)) == 5
            assert state.token_requests == 1 and state.bad_signatures == 0
            pages = [q.get("moreSequence") for m, p, q in state.seen if p == LAST_CHANGED_PATH]
            assert pages == [None, None, "2"]  # the 429, then page 1 and page 2 through data.more
            cursor = read_cursor(hub)
            assert cursor is not None and cursor <= now + timedelta(seconds=3)
            assert poll.run(now + timedelta(seconds=30)) == 0  # not due yet (poll_interval_s)
            requests = len(state.seen)
            assert NaverPollJob(hub).run(now + timedelta(seconds=31)) == 0  # a second worker: not claimed
            assert len(state.seen) == requests
            assert poll.run(now + timedelta(minutes=2)) == 0  # overlap re-read: all duplicates
            assert state.token_requests == 1  # the token is cached until it expires

            drain(hub)
            key = create_api_key(hub.db, "t-admin", "admin")
            auth = {"authorization": f"Bearer {key}"}
            with TestClient(create_app(hub, run_worker=False)) as client:
                order = client.get(f"/v1/orders/{KST_ORDER_A}", headers=auth)
                assert order.status_code == 200, order.text
                body = order.json()
                assert body["order_id"] == KST_ORDER_A
                assert body["stage"] == "received"
                found = client.get("/v1/orders", params={"q": KST_ORDER_A}, headers=auth)
                assert found.status_code == 200

            # A waybill created in the hub, reported twice: one write-back row, one dispatch.
            for n in (1, 2):
                waybill = event(
                    f"tms-wb-{n}",
                    "shipment.waybill_created",
                    KST_ORDER_A,
                    (now + timedelta(hours=1)).isoformat(),
                    {"carrier": "cj", "tracking_no": "553825406594"},
                    source="tms",
                    shipment_id="S1",
                )
                hub.ingest.ingest([waybill], source_hint="tms")
            drain(hub)
            assert _count(hub, ct.connector_writebacks) == 1
            state.fail_next_dispatch = True
            job = WritebackJob(hub)
            assert job.run(now + timedelta(hours=1)) == 0  # 500: retried later
            assert job.run(now + timedelta(hours=3)) == 1
            assert job.run(now + timedelta(hours=5)) == 0  # done: nothing more to send
            assert state.dispatched == [f"{KST_ORDER_A}01", f"{KST_ORDER_A}02"]
            assert len(state.dispatch_calls) == 2
            sent = state.dispatch_calls[-1][0]
            assert sent["deliveryMethod"] == "DELIVERY" and sent["deliveryCompanyCode"] == "CJGLS"
            assert sent["trackingNumber"] == "553825406594" and sent["dispatchDate"].endswith("+09:00")
            with hub.db.read() as conn:
                row = conn.execute(sa.select(ct.connector_writebacks)).one()
            assert (row.status, row.attempts) == ("done", 2)

            # Naver now reports the dispatch: its waybill and hand-over land on the hub's own parcel S1.
            for po_id in state.dispatched:  # the job's clock runs ahead of the wall clock in this test
                state.changed[po_id] = (now + timedelta(hours=3, minutes=1)).isoformat()
            assert poll.run(now + timedelta(hours=4)) >= 2
            drain(hub)
            with TestClient(create_app(hub, run_worker=False)) as client:
                body = client.get(f"/v1/orders/{KST_ORDER_A}", headers=auth).json()
            assert body["stage"] == "handed_over", body
            assert [p["shipment_id"] for p in body["parcels"]] == ["S1"], body["parcels"]
            assert job.run(now + timedelta(hours=6)) == 0 and len(state.dispatch_calls) == 2  # no echo
        finally:
            hub.close()


def test_a_wrong_secret_is_refused_by_the_server(tmp_path: Path, master_key: str, config: Any) -> None:
    state = State()
    with serving(naver_app(state)) as base:
        config(base)
        path = tmp_path / "connectors.json"
        data = json.loads(path.read_text())
        data["naver"]["client_secret"] = "$2a$10$zyxwvutsrqponmlkjihgfe"
        path.write_text(json.dumps(data))
        hub = make_hub(tmp_path, master_key)
        try:
            poll = NaverPollJob(hub)
            assert poll.run(datetime.now(UTC)) == 0
            assert state.bad_signatures == 1 and poll.last_error is not None
            assert "zyxw" not in poll.last_error  # the secret never appears in an error
            assert read_cursor(hub) is None
        finally:
            hub.close()


def test_a_hub_that_was_down_catches_up_day_by_day(tmp_path: Path, master_key: str, config: Any) -> None:
    now = datetime.now(UTC)
    state = State()
    old, recent = now - timedelta(hours=49), now - timedelta(hours=1)
    state.place(_detail("2026120400000001", "202612040000000101", "PAYED", old), old.isoformat())
    state.place(_detail("2026120600000002", "202612060000000201", "PAYED", recent), recent.isoformat())
    with serving(naver_app(state)) as base:
        config(base)
        hub = make_hub(tmp_path, master_key)
        try:
            write_cursor(hub, now - timedelta(hours=50), now - timedelta(hours=50))
            assert NaverPollJob(hub).run(now) == 4  # both orders: created + paid
            windows = [q["lastChangedFrom"] for m, p, q in state.seen if p == LAST_CHANGED_PATH]
            assert len(windows) == 3  # 24 h each (Naver's longest), then the rest up to now
            assert read_cursor(hub) == now
        finally:
            hub.close()
