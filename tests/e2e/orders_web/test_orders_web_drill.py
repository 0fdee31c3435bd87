"""Over HTTP: a KPI's drill-down answers first with the orders someone can still act on (open, late or
with an open exception of the kinds that move that KPI), each with stage, days late, carrier and open
exception; the full list behind the number is still there (scope=all), now with the same columns."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dh_testkit import serve_hub

sys.path.insert(0, str(Path(__file__).parent))
from orders_web_kit import shop_hub  # noqa: E402

PASSWORD = "Drill-down-2026!strong"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    import base64
    import secrets

    from deliveryhub.security.users import authenticate, create_session, create_user

    hub = shop_hub(tmp_path_factory.mktemp("drill"), base64.b64encode(secrets.token_bytes(32)).decode())
    create_user(hub, "ops@example.com", "ops", PASSWORD)
    token = create_session(hub, authenticate(hub, "ops@example.com", PASSWORD)).token
    with (
        serve_hub(hub, run_worker=False) as base,
        httpx.Client(base_url=base, cookies={"dh_session": token}) as c,
    ):
        yield c


def _get(c: httpx.Client, key: str, **params: Any) -> dict[str, Any]:
    r = c.get(f"/v1/kpis/{key}/orders", params={"from": "2026-11-01", "to": "2026-11-30", **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_delay_drill_down_lists_the_late_order_in_transit_not_the_delivered_one(client: httpx.Client) -> None:
    d = _get(client, "delivery_delay_rate", scope="actionable")
    assert d["scope"] == "actionable" and d["total"] == 1
    (o,) = d["orders"]
    assert o["order_id"] == "O-LATE" and o["stage_label"] == "배송 중" and o["days_late"] == 3
    assert o["carrier_label"] == "CJ대한통운" and o["exception"] in ("delivery_delay", "delivery_failed")
    assert o["exception_label"] in ("배송 지연", "배송 실패")
    en = _get(client, "delivery_delay_rate", scope="actionable", lang="en")["orders"][0]
    assert en["stage_label"] == "In transit" and en["carrier_label"] == "CJ Logistics"
    # Every order behind the number: the late delivery of O-DONE, with the same columns.
    every = _get(client, "delivery_delay_rate", scope="all")
    done = {o["order_id"]: o for o in every["orders"]}["O-DONE"]
    assert (
        done["stage_label"] == "배송 완료" and done["days_late"] == 3 and done["carrier_label"] == "로젠택배"
    )


def test_focus_follows_the_kpi(client: httpx.Client) -> None:
    # Tracking staleness: only orders with an open tracking_stale exception; none here.
    assert _get(client, "tracking_stale_rate", scope="actionable")["orders"] == []
    # Misdelivery: the carrier's failed delivery of O-LATE's first parcel is open.
    assert [o["order_id"] for o in _get(client, "misdelivery_rate", scope="actionable")["orders"]] == [
        "O-LATE"
    ]
    assert client.get("/v1/kpis/nope/orders", params={"scope": "actionable"}).status_code == 404
    assert client.get("/v1/kpis/delivery_delay_rate/orders", params={"scope": "mine"}).status_code == 422
