"""A Naver order of two product orders against the local Commerce API: when one is cancelled, the poller
reads the details of both (the other one did not change in the window) and the order stays open
(x-order.partially_cancelled); when the second is cancelled too, the order is cancelled, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors.naver.client import QUERY_PATH
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.connectors.naver_poll import NaverPollJob
from dh_testkit import drain, make_hub, serving
from integration.connectors_naver.fake_naver import CLIENT_ID, CLIENT_SECRET, State, naver_app

ORDER = "2026120677770001"
PARTIAL = "x-order.partially_cancelled"


def _detail(po_id: str, status: str, at: datetime, cancelled_at: datetime | None = None) -> dict[str, Any]:
    stamp = at.isoformat(timespec="milliseconds")
    detail: dict[str, Any] = {
        "order": {"orderId": ORDER, "orderDate": stamp, "paymentDate": stamp, "ordererName": "이하준"},
        "productOrder": {
            "productOrderId": po_id,
            "productOrderStatus": status,
            "sellerProductCode": f"SKU-{po_id[-2:]}",
            "quantity": 1,
            "unitPrice": 9000,
            "totalPaymentAmount": 9000,
            "shippingAddress": {"zipCode": "04524", "baseAddress": "서울특별시 중구 세종대로 110"},
        },
    }
    if cancelled_at is not None:
        done = cancelled_at.isoformat(timespec="milliseconds")
        detail["productOrder"].update(claimType="CANCEL", claimStatus="CANCEL_DONE")
        detail["cancel"] = {
            "claimStatus": "CANCEL_DONE",
            "cancelReason": "INTENT_CHANGED",
            "claimRequestDate": done,
            "cancelCompletedDate": done,
        }
    return detail


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


def _cancels(hub: Any) -> list[tuple[str, str]]:
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.inbox.c.type, t.inbox.c.data)
            .where(t.inbox.c.type.in_(["order.cancelled", PARTIAL]), t.inbox.c.order_id == ORDER)
            .order_by(t.inbox.c.id)
        ).all()
    return [(r.type, str(r.data.get("product_order_id"))) for r in rows]


def _side_state(hub: Any) -> str | None:
    drain(hub)
    with hub.db.read() as conn:
        return conn.execute(  # type: ignore[no-any-return]
            sa.select(t.orders.c.side_state).where(t.orders.c.order_id == ORDER)
        ).scalar_one_or_none()


def test_one_cancelled_product_order_of_two_keeps_the_order(
    tmp_path: Path, master_key: str, config: Any
) -> None:
    now = datetime.now(UTC)
    placed = now - timedelta(hours=1)
    first, second = f"{ORDER}01", f"{ORDER}02"
    state = State()
    state.place(_detail(first, "PAYED", placed), placed.isoformat())
    state.place(_detail(second, "PAYED", placed), placed.isoformat())
    with serving(naver_app(state)) as base:
        config(base)
        hub = make_hub(tmp_path, master_key)
        try:
            poll = NaverPollJob(hub)
            assert poll.run(now) > 0

            cancelled = now + timedelta(minutes=1)
            state.place(_detail(first, "CANCELED", placed, cancelled), cancelled.isoformat())
            poll.run(now + timedelta(minutes=2))
            queried = [q["ids"].split(",") for m, p, q in state.seen if p == QUERY_PATH]
            assert sorted(queried[-1]) == [first, second]  # the unchanged sibling is read too
            assert _cancels(hub) == [(PARTIAL, first)]
            assert _side_state(hub) is None

            again = now + timedelta(minutes=3)
            state.place(_detail(second, "CANCELED", placed, again), again.isoformat())
            poll.run(now + timedelta(minutes=4))
            assert _cancels(hub) == [(PARTIAL, first), ("order.cancelled", "None")]
            assert _side_state(hub) == "cancelled"
        finally:
            hub.close()
