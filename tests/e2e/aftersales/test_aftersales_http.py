"""The returns API over real HTTP (uvicorn on a loopback port) on a hub with a pinned clock: the 청약철회
window on day 7 and day 8, a damaged item on day 8 at the shop's cost, the desk steps, the list the ops
screen reads, roles, audit, and bad input answered 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, handed_over, make_hub, order_created, serve_hub, waybill

KST = ZoneInfo("Asia/Seoul")
DELIVERED = datetime(2026, 3, 2, 11, 0, tzinfo=KST)


class World:
    def __init__(self, hub: Any, base: str, clock: ManualClock) -> None:
        self.hub, self.base, self.clock = hub, base, clock
        self.keys = {
            role: create_api_key(hub.db, f"k-{role}", role) for role in ("cs_agent", "analyst", "ops")
        }

    def call(self, method: str, path: str, role: str = "cs_agent", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def delivered(self, order_id: str, total_items: list[dict[str, Any]] | None = None) -> None:
        t0 = DELIVERED - timedelta(days=2)
        raws = [
            order_created(
                f"{order_id}-c",
                order_id,
                t0.isoformat(),
                {"phone": "010-2222-3333"},
                items=total_items or [{"sku": "MUG", "qty": 2, "price": 20000}],
            ),
            event(
                f"{order_id}-p",
                "order.paid",
                order_id,
                t0.isoformat(),
                {"amount": 40000, "payment_key": f"pk-{order_id}", "provider": "toss"},
            ),
            waybill(
                f"{order_id}-w", order_id, (t0 + timedelta(hours=5)).isoformat(), "cj", f"55{order_id[-2:]}"
            ),
            handed_over(f"{order_id}-h", order_id, (t0 + timedelta(hours=6)).isoformat(), "cj"),
            event(
                f"{order_id}-d",
                "shipment.delivered",
                order_id,
                DELIVERED.isoformat(),
                {},
                source="carrier:cj",
                shipment_id="P1",
            ),
        ]
        assert all(r.status == "accepted" for r in self.hub.ingest.ingest(raws))
        drain(self.hub)


@pytest.fixture
def world(tmp_path: Path, master_key: str) -> Iterator[World]:
    clock = ManualClock(DELIVERED)
    hub = make_hub(tmp_path, master_key, clock=clock)
    with serve_hub(hub, run_worker=False) as base:
        yield World(hub, base, clock)


def test_day_8_change_of_mind_is_refused_damage_is_accepted(world: World) -> None:
    world.delivered("ORD-H1")
    world.clock.set(datetime(2026, 3, 9, 23, 59, tzinfo=KST))  # day 7, one minute before midnight
    day7 = world.call("POST", "/v1/orders/ORD-H1/returns", json={"reason_code": "change_of_mind"})
    assert day7.status_code == 200, day7.text
    assert day7.json()["fee"] == 6000 and day7.json()["fee_payer"] == "customer"

    world.delivered("ORD-H2")
    world.clock.set(datetime(2026, 3, 10, 0, 0, tzinfo=KST))  # day 8
    r = world.call("POST", "/v1/orders/ORD-H2/returns", json={"kind": "return", "reason": "단순 변심이에요"})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "not_eligible" and err["reason"] == "window_passed"
    assert "7일" in err["message"] and "7 days" in err["message_en"]

    r = world.call(
        "POST", "/v1/orders/ORD-H2/returns", json={"kind": "return", "reason": "상자가 파손돼서 왔어요"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["fee"] == 0 and body["fee_payer"] == "shop" and body["status"] == "requested"
    rid = body["return_id"]

    got = world.call("GET", f"/v1/returns/{rid}", role="analyst")
    assert got.status_code == 200
    assert got.json()["reason_code"] == "damaged" and got.json()["steps"][0]["step"] == "requested"

    # the desk: received, then inspected (pass): a refund of the goods' full value (the shop pays the fee)
    assert world.call("POST", f"/v1/returns/{rid}/inspection", json={"result": "pass"}).status_code == 409
    rec = world.call("POST", f"/v1/returns/{rid}/received")
    assert rec.status_code == 200 and rec.json()["status"] == "received"
    ins = world.call(
        "POST",
        f"/v1/returns/{rid}/inspection",
        json={"result": "pass", "note": "파손 확인", "photo_id": "ph-9"},
    )
    assert ins.status_code == 200, ins.text
    detail = ins.json()
    assert detail["status"] == "inspected" and detail["inspection"]["photo_id"] == "ph-9"
    assert detail["refund"]["amount"] == 40000 and detail["refund"]["status"] == "queued"
    again = world.call("POST", f"/v1/returns/{rid}/inspection", json={"result": "pass"})
    assert again.status_code == 200 and again.json()["code"] == "already_inspected"
    other = world.call("POST", f"/v1/returns/{rid}/inspection", json={"result": "fail"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "already_inspected"

    listed = world.call("GET", "/v1/returns?status=open", role="ops").json()["returns"]
    assert [x["return_id"] for x in listed] == [rid, day7.json()["return_id"]]  # newest first
    entry = listed[0]
    assert {
        "return_id",
        "order_id",
        "kind",
        "status",
        "reason_code",
        "fee",
        "fee_payer",
        "requested_at",
        "due_at",
        "overdue",
        "steps",
    } <= set(entry)
    assert entry["overdue"] is False
    assert world.call("GET", "/v1/returns?order_id=ORD-H1").json()["returns"][0]["order_id"] == "ORD-H1"

    # every act is in the audit log
    from deliveryhub.security.tables import audit_log  # noqa: PLC0415

    with world.hub.db.read() as conn:
        actions = [r.action for r in conn.execute(sa.select(audit_log.c.action))]
    assert actions.count("return.open") == 3 and "return.received" in actions
    assert actions.count("return.inspected") == 4


def test_roles_and_bad_input(world: World) -> None:
    world.delivered("ORD-H3")
    world.clock.set(DELIVERED + timedelta(days=1))
    body = {"kind": "exchange", "reason_code": "wrong_item"}
    r = world.call("POST", "/v1/orders/ORD-H3/returns", role="analyst", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert httpx.post(world.base + "/v1/orders/ORD-H3/returns", json=body, timeout=30).status_code == 401
    assert world.call("GET", "/v1/returns", role="analyst").status_code == 200

    bad = world.call("POST", "/v1/orders/ORD-H3/returns", json={"kind": "refund", "reason": "x"})
    assert bad.status_code == 422
    bad = world.call("POST", "/v1/orders/ORD-H3/returns", json={"kind": "return"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason"
    bad = world.call("POST", "/v1/orders/ORD-H3/returns", json={"reason": "불량", "items": ["NOPE"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "items"
    assert world.call("POST", "/v1/orders/NO-SUCH/returns", json={"reason": "불량"}).status_code == 404
    assert world.call("GET", "/v1/returns?status=lost").status_code == 422
    assert world.call("GET", "/v1/returns/RT-NOPE").status_code == 404
    assert world.call("POST", "/v1/returns/RT-NOPE/received").status_code == 404
    assert world.call("POST", "/v1/returns/RT-NOPE/inspection", json={"result": "maybe"}).status_code == 422

    ok = world.call("POST", "/v1/orders/ORD-H3/returns", json={**body, "items": [{"sku": "MUG", "qty": 1}]})
    assert ok.status_code == 200 and ok.json()["return_id"].startswith("EX-")
    same = world.call("POST", "/v1/orders/ORD-H3/returns", json=body)
    assert same.status_code == 200 and same.json()["code"] == "already_open"
    assert same.json()["return_id"] == ok.json()["return_id"]
