"""쿠팡 Wing against a local Wing server (real HTTP, HMAC checked server-side): polling with nextToken paging,
429 Retry-After, 상품준비중 acknowledgement, the order in GET /v1/orders/{id}, 송장 upload once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import UpstreamError, WritebackRequest
from deliveryhub.adapters.connectors.coupang import CoupangSettings
from deliveryhub.adapters.connectors.coupang.client import CoupangClient, write_back
from deliveryhub.adapters.connectors.coupang.mapper import KST
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.coupang_poll import CoupangPoller, read_cursor
from deliveryhub.connectors.writeback import WritebackJob
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, make_hub, serving, waybill
from integration.connectors_coupang.fake_wing import (
    ACCESS,
    SECRET,
    VENDOR,
    Wing,
    build,
    exchange_request,
    return_request,
    sheet,
)


@pytest.fixture
def wing() -> Iterator[tuple[Wing, str]]:
    state = Wing()
    with serving(build(state)) as base:
        yield state, base


@pytest.fixture
def hub(
    tmp_path: Path, master_key: str, wing: tuple[Wing, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    for name, value in {
        "BASE_URL": wing[1],
        "VENDOR_ID": VENDOR,
        "ACCESS_KEY": ACCESS,
        "SECRET_KEY": SECRET,
        "MAX_PER_PAGE": "1",
    }.items():
        monkeypatch.setenv(f"DELIVERYHUB_COUPANG_{name}", value)
    hub = make_hub(tmp_path, master_key)
    try:
        yield hub
    finally:
        hub.close()


def _ordered(minutes_ago: int = 5) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S")


def _settings(base: str, **extra: Any) -> CoupangSettings:
    return CoupangSettings(base_url=base, vendor_id=VENDOR, access_key=ACCESS, secret_key=SECRET, **extra)


def test_a_wrong_key_is_refused_by_the_server(wing: tuple[Wing, str]) -> None:
    state, base = wing
    bad = CoupangClient(_settings(base).model_copy(update={"secret_key": SecretStr("x")}))
    with pytest.raises(UpstreamError) as caught:
        bad.acknowledge([1])
    assert caught.value.status == 401 and "Invalid signature" in str(caught.value)
    assert state.refused_auth == 1 and state.calls == []


def test_poll_pages_backs_off_on_429_and_acknowledges_once(hub: Any, wing: tuple[Wing, str]) -> None:
    state, _ = wing
    state.sheets += [
        sheet(91000000000001, 5001, "ACCEPT", _ordered(), [7001]),
        sheet(91000000000002, 5002, "ACCEPT", _ordered(), [7002, 7003]),
        sheet(91000000000003, 5003, "INSTRUCT", _ordered(), [7004]),
    ]
    state.fail["/ordersheets"] = [(429, {"Retry-After": "7"}, {"code": 429, "message": "Too many requests"})]
    # The hub's wiring registered the job once (connectors/marketplace_jobs.POLLERS).
    assert [j.name for j in hub.jobs].count("connectors.coupang") == 1
    poller = CoupangPoller(hub)

    first = poller.run(force=True)
    assert first.error is not None and first.error.startswith("RateLimited")
    assert poller.backoff_until is not None and poller.backoff_until > datetime.now(UTC) + timedelta(
        seconds=5
    )
    assert read_cursor(hub) == (None, None)
    assert poller.run().pages == 0  # still backing off: nothing asked

    second = poller.run(force=True)
    assert second.error is None and second.unmapped == []
    accept_pages = [c for c in state.calls_to("/ordersheets") if c[2]["status"] == "ACCEPT"]
    assert [c[2].get("nextToken") for c in accept_pages] == [None, None, "1"]  # the 429, page 1, page 2
    assert {c[2]["searchType"] for c in accept_pages} == {"timeFrame"}
    assert sorted(second.acknowledged) == [5001, 5002]
    acks = state.calls_to("/ordersheets/acknowledgement")
    assert len(acks) == 1 and sorted(acks[0][3]["shipmentBoxIds"]) == [5001, 5002]
    assert acks[0][3]["vendorId"] == VENDOR
    cursor, _ = read_cursor(hub)
    assert cursor is not None

    third = poller.run(force=True)  # acknowledged boxes are INSTRUCT now: no second acknowledgement
    assert third.error is None and third.acknowledged == [] and third.accepted == 0
    assert len(state.calls_to("/ordersheets/acknowledgement")) == 1
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(ct.connector_cursors.c.source)).scalars().all()
    assert sorted(rows) == ["coupang", "coupang:lease", "coupang:rescan"]
    other_worker = CoupangPoller(hub)
    assert other_worker.run().window is None  # the cycle was just taken: a second worker does nothing
    assert len(state.calls_to("/ordersheets/acknowledgement")) == 1


def test_an_older_order_shipped_from_wing_is_found_by_the_daily_rescan(
    hub: Any, wing: tuple[Wing, str]
) -> None:
    state, _ = wing
    old = sheet(94000000000001, 8101, "DEPARTURE", _ordered(minutes_ago=3 * 24 * 60), [9101])
    old.update(deliveryCompanyName="CJ 대한통운", invoiceNumber="640099990001", inTrasitDateTime=_ordered(60))
    state.sheets.append(old)
    report = CoupangPoller(hub).run(force=True)
    assert report.error is None and report.rescanned and report.accepted >= 4
    minute = [c[2] for c in state.calls_to("/ordersheets") if c[2].get("searchType") == "timeFrame"]
    day = [c[2] for c in state.calls_to("/ordersheets") if "searchType" not in c[2]]
    assert {p["status"] for p in day} == {"INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY"}
    assert all(len(p["createdAtFrom"]) == 10 for p in day) and all(
        len(p["createdAtFrom"]) == 16 for p in minute
    )
    drain(hub)
    with TestClient(create_app(hub, run_worker=False)) as client:
        auth = {"authorization": f"Bearer {create_api_key(hub.db, 't-admin', 'admin')}"}
        body = client.get("/v1/orders/94000000000001", headers=auth).json()
    assert body["stage"] == "handed_over", body
    # Coupang's own invoice is not uploaded back to Coupang
    WritebackJob(hub).run(datetime.now(UTC))
    assert state.calls_to("/orders/invoices") == []
    with hub.db.read() as conn:
        queued = conn.execute(sa.select(ct.connector_writebacks.c.status)).scalars().all()
    assert queued == []  # a waybill the marketplace told us of is never queued to be told back
    assert CoupangPoller(hub).run().rescanned is False  # not due again yet


def test_e2e_order_reaches_the_hub_and_its_waybill_is_uploaded_once(hub: Any, wing: tuple[Wing, str]) -> None:
    state, _ = wing
    order_id, box = "92000000000001", 6001
    state.sheets.append(sheet(int(order_id), box, "ACCEPT", _ordered(), [8001, 8002]))
    report = CoupangPoller(hub).run(force=True)
    assert report.error is None and report.accepted >= 2
    drain(hub)
    with TestClient(create_app(hub, run_worker=False)) as client:
        auth = {"authorization": f"Bearer {create_api_key(hub.db, 't-admin', 'admin')}"}
        body = client.get(f"/v1/orders/{order_id}", headers=auth).json()
        assert body["order_id"] == order_id and body["stage"] == "received", body
        found = client.get("/v1/orders", params={"q": order_id}, headers=auth)
        assert found.status_code == 200

        # The hub creates the waybill; the TMS sends it twice; Coupang answers the first upload with a 500.
        at = datetime.now(UTC).isoformat()
        hub.ingest.ingest([waybill("tms-wb-1", order_id, at, "cj", "640012345678", shipment_id=str(box))])
        hub.ingest.ingest(
            [waybill("tms-wb-1-again", order_id, at, "cj", "640012345678", shipment_id=str(box))]
        )
        drain(hub)
        assert client.get(f"/v1/orders/{order_id}", headers=auth).json()["stage"] == "waybill_created"

    state.fail["/orders/invoices"] = [(500, {}, {"code": 500, "message": "Internal Server Error"})]
    job = WritebackJob(hub)
    now = datetime.now(UTC)
    assert job.run(now) == 0  # the 500: retried later
    assert job.run(now) == 0  # not due yet: nothing sent
    assert job.run(now + timedelta(hours=1)) == 1
    assert job.run(now + timedelta(hours=2)) == 0
    uploads = state.calls_to("/orders/invoices")
    assert len(uploads) == 2 and state.invoices == {box: "640012345678"}
    dtos = uploads[1][3]["orderSheetInvoiceApplyDtos"]
    assert [d["vendorItemId"] for d in dtos] == [8001, 8002]
    assert dtos[0] == {
        "shipmentBoxId": box,
        "orderId": int(order_id),
        "vendorItemId": 8001,
        "deliveryCompanyCode": "CJGLS",
        "invoiceNumber": "640012345678",
        "splitShipping": False,
        "preSplitShipped": False,
        "estimatedShippingDate": "2026-12-08",
    }
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(ct.connector_writebacks)).all()
    assert [(r.source, r.status, r.attempts) for r in rows] == [("coupang", "done", 2)]


def test_a_box_with_an_invoice_gets_the_invoice_update(wing: tuple[Wing, str]) -> None:
    state, base = wing
    market = {
        "source": "coupang",
        "boxes": [{"shipment_box_id": "7001", "vendor_item_ids": ["9"], "estimated_shipping_date": None}],
    }
    request = WritebackRequest("93000000000001", "7001", "hanjin", "4300111", {"marketplace": market})
    write_back(_settings(base), request)
    write_back(
        _settings(base), request
    )  # Coupang: 이미 송장이 등록되었습니다 -> 송장 수정 with the same number
    assert len(state.calls_to("/orders/invoices")) == 2 and state.invoices == {7001: "4300111"}
    assert len(state.calls_to("/orders/updateInvoices")) == 1
    corrected = WritebackRequest("93000000000001", "7001", "hanjin", "4300222", {"marketplace": market})
    write_back(_settings(base), corrected)  # a new waybill for the same box replaces Coupang's invoice
    assert state.invoices == {7001: "4300222"}
    update = state.calls_to("/orders/updateInvoices")[-1][3]["orderSheetInvoiceApplyDtos"]
    assert [(d["shipmentBoxId"], d["vendorItemId"], d["invoiceNumber"]) for d in update] == [
        (7001, 9, "4300222")
    ]
    with pytest.raises(UpstreamError):
        write_back(
            _settings(base), WritebackRequest("1", "7001", "pigeon-post", "1", {"marketplace": market})
        )


def test_return_and_exchange_requests_are_polled_in_the_window(hub: Any, wing: tuple[Wing, str]) -> None:
    state, _ = wing
    state.sheets.append(sheet(95000000000001, 9501, "INSTRUCT", _ordered(30), [9601]))
    delivered = sheet(95000000000002, 9502, "FINAL_DELIVERY", _ordered(40), [9602])
    delivered.update(
        deliveryCompanyName="한진택배", invoiceNumber="430012341234", inTrasitDateTime=_ordered(30)
    )
    state.sheets.append({**delivered, "deliveredDate": _ordered(20).replace("T", " ")})
    state.returns += [
        return_request(95000000000001, 700001, "RU", _ordered(10), 9501, 9601),
        return_request(95000000000002, 700002, "UC", _ordered(10), 9502, 9602),
        return_request(95000000000002, 700009, "UC", _ordered(5 * 24 * 60), 9502, 9602),  # before the window
    ]
    state.exchanges += [
        exchange_request(95000000000002, 800001 + i, _ordered(10 + i), 9502, 9602) for i in range(3)
    ]
    report = CoupangPoller(hub, settings=None).run(force=True)
    assert report.error is None and report.unmapped == []
    returns = [c for c in state.calls_to("/returnRequests") if "cancelType" not in c[2]]
    assert {c[2]["status"] for c in returns} == {"RU", "UC"}
    assert [c[2].get("nextToken") for c in state.calls_to("/exchangeRequests")] == [None, "1", "2"]
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.inbox.c.event_id, t.inbox.c.type, t.inbox.c.data).where(
                t.inbox.c.type.in_(["return.requested", "exchange.requested"])
            )
        ).all()
    found = sorted((r.event_id, r.type) for r in rows)
    assert found == [
        ("coupang:exchange:800001", "exchange.requested"),
        ("coupang:exchange:800002", "exchange.requested"),
        ("coupang:exchange:800003", "exchange.requested"),
        ("coupang:return:700001", "return.requested"),
        ("coupang:return:700002", "return.requested"),
    ]
    stop = next(r.data for r in rows if r.event_id == "coupang:return:700001")
    assert stop["stop_shipment"] is True and stop["reason"] == "CHANGEMIND"


def test_an_unknown_delivery_company_is_quarantined_by_name(hub: Any, wing: tuple[Wing, str]) -> None:
    state, _ = wing
    odd = sheet(96000000000001, 9701, "DEPARTURE", _ordered(15), [9801])
    odd.update(deliveryCompanyCode="PIGEONPOST", invoiceNumber="77001", inTrasitDateTime=_ordered(10))
    state.sheets.append(odd)
    report = CoupangPoller(hub).run(force=True)
    assert report.error is None
    # seen by the window and by the daily rescan: reported each time, quarantined once
    assert set(report.unmapped) == {"ordersheet 96000000000001/9701: unknown delivery company 'PIGEONPOST'"}
    with hub.db.read() as conn:
        rows = conn.execute(sa.select(t.quarantine.c.source, t.quarantine.c.reason)).all()
    assert [(r.source, r.reason) for r in rows] == [
        ("coupang", "coupang: ordersheet 96000000000001/9701: unknown delivery company 'PIGEONPOST'")
    ]
    drain(hub)
    with TestClient(create_app(hub, run_worker=False)) as client:
        auth = {"authorization": f"Bearer {create_api_key(hub.db, 't-admin', 'admin')}"}
        body = client.get("/v1/orders/96000000000001", headers=auth).json()
    assert body["stage"] == "handed_over"  # the rest of the sheet still counts


def test_a_5xx_keeps_the_window_for_later(hub: Any, wing: tuple[Wing, str]) -> None:
    state, _ = wing
    state.sheets.append(sheet(97000000000001, 9901, "ACCEPT", _ordered(5), [9911]))
    state.fail["/ordersheets"] = [(503, {}, {"code": 503, "message": "Service Unavailable"})]
    poller = CoupangPoller(hub)
    failed = poller.run(force=True)
    assert failed.error is not None and failed.error.startswith("UpstreamUnavailable")
    assert read_cursor(hub) == (None, None) and state.calls_to("/ordersheets/acknowledgement") == []
    assert poller.backoff_until is not None
    again = poller.run(force=True)
    assert again.error is None and again.acknowledged == [9901]
    assert read_cursor(hub)[0] is not None
