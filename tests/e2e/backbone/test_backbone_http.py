"""The backbone over HTTP: auth, per-item results, size limits, pagination, metrics — and no 500s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, tracking, waybill


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def order_created(
    oid: str,
    phone: str = "010-2345-6789",
    name: str = "박서준",
    email: str = "seojun@example.com",
    at: str = "2026-11-01T10:00:00+09:00",
) -> dict[str, Any]:
    return event(
        f"{oid}-created",
        "order.created",
        oid,
        at,
        {
            "customer": {"name": name, "phone": phone, "email": email},
            "address": {"zip": "06236", "line1": "서울특별시 강남구 테헤란로 152"},
            "items": [{"sku": "MUG", "qty": 1, "price": 12000}],
            "total": 15000,
            "channel": "app",
        },
    )


def test_events_need_credentials_and_the_right_role(client: Any, hub: Any) -> None:
    body = {"events": [order_created("H-1")]}
    assert client.post("/v1/events", json=body).status_code == 401
    analyst = create_api_key(hub.db, "bi", "analyst")
    r = client.post("/v1/events", json=body, headers=auth(analyst))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    integration = create_api_key(hub.db, "oms", "integration")
    r = client.post("/v1/events", json=body, headers=auth(integration))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "accepted"
    # integration may read orders but never customers' personal data
    detail = client.get("/v1/orders/H-1", headers=auth(integration)).json()
    assert detail["customer"] is None
    assert "박서준" not in json.dumps(detail, ensure_ascii=False)


def test_single_event_and_batch_answers_and_duplicates(client: Any, admin_key: str) -> None:
    one = order_created("H-2")
    r = client.post("/v1/events", json=one, headers=auth(admin_key))
    assert r.json() == {"results": [{"event_id": "H-2-created", "status": "accepted"}]}
    r = client.post(
        "/v1/events",
        json={"events": [one, event("p", "order.paid", "H-2", "2026-11-01T11:00:00Z")]},
        headers=auth(admin_key),
    )
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "accepted"]


def test_order_detail_shows_timeline_parcels_and_customer_for_admin(
    client: Any, admin_key: str, hub: Any
) -> None:
    events = [
        order_created("H-3"),
        waybill("w", "H-3", "2026-11-01T16:00:00+09:00", "lotte", "309876543210", shipment_id="S1"),
        tracking(
            "t1",
            "H-3",
            "2026-11-02T08:00:00+09:00",
            "lotte",
            shipment_id="S1",
            raw_code="40",
            raw_status="배달전",
            message="배송기사 010-9876-5432",
        ),
    ]
    client.post("/v1/events", json={"events": events}, headers=auth(admin_key))
    drain(hub)
    d = client.get("/v1/orders/H-3", headers=auth(admin_key)).json()
    assert d["customer"]["name"] == "박서준" and d["customer"]["phone"] == "010-2345-6789"
    parcel = d["parcels"][0]
    scans = [x for x in parcel["tracking"] if x["type"] == "shipment.tracking"]
    assert parcel["carrier"] == "lotte" and scans[0]["raw_code"] == "40"
    assert scans[0]["status"] == "out_for_delivery", "status derived from Lotte's own code"
    assert d["stage"] == "out_for_delivery"
    assert "9876-5432" not in json.dumps(d), "carrier messages are masked before storage"
    assert [s["stage"] for s in d["timeline"]][0] == "received"
    assert client.get("/v1/orders/NOPE", headers=auth(admin_key)).status_code == 404


def test_cs_agent_sees_masked_personal_data(client: Any, hub: Any, admin_key: str) -> None:
    client.post("/v1/events", json=order_created("H-4"), headers=auth(admin_key))
    agent = create_api_key(hub.db, "agent", "cs_agent")
    d = client.get("/v1/orders/H-4", headers=auth(agent)).json()
    assert d["customer"]["phone"] == "010-****-****"
    assert d["customer"]["name"] == "박*준"


def test_list_orders_filters_and_paginates(client: Any, admin_key: str) -> None:
    events = [
        order_created(f"L-{i:02d}", phone=f"010-1111-{i:04d}", at=f"2026-11-{(i % 9) + 1:02d}T10:00:00+09:00")
        for i in range(12)
    ]
    client.post("/v1/events", json={"events": events}, headers=auth(admin_key))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/orders", params=params, headers=auth(admin_key)).json()
        seen += [o["order_id"] for o in page["orders"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(f"L-{i:02d}" for i in range(12)) and len(seen) == 12
    r = client.get(
        "/v1/orders",
        params={"stage": "received", "from": "2026-11-09", "to": "2026-11-09"},
        headers=auth(admin_key),
    )
    assert {o["order_id"] for o in r.json()["orders"]} == {"L-08"}
    bad = client.get("/v1/orders", params={"cursor": "!!!"}, headers=auth(admin_key))
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"


def test_size_and_batch_limits(client: Any, admin_key: str) -> None:
    too_many = {"events": [order_created(f"B-{i}") for i in range(1001)]}
    r = client.post("/v1/events", json=too_many, headers=auth(admin_key))
    assert r.status_code == 413 and r.json()["error"]["code"] == "batch_too_large"
    huge = b'{"events": ["' + b"x" * (6 * 1024 * 1024) + b'"]}'
    r = client.post(
        "/v1/events", content=huge, headers={**auth(admin_key), "content-type": "application/json"}
    )
    assert r.status_code == 413
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    r = client.post("/v1/events", json={"events": deep}, headers=auth(admin_key))
    assert r.status_code == 400 and r.json()["error"]["code"] == "too_deep"


def test_metrics_count_results(client: Any, admin_key: str) -> None:
    client.post(
        "/v1/events", json={"events": [order_created("M-1"), {"event_id": "x"}]}, headers=auth(admin_key)
    )
    text = client.get("/metrics", headers=auth(admin_key)).text
    assert 'deliveryhub_events_total{status="accepted"} 1.0' in text
    assert 'deliveryhub_events_total{status="rejected"} 1.0' in text


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
event_like = st.fixed_dictionaries(
    {
        "event_id": st.text(max_size=5) | st.integers(),
        "type": st.sampled_from(
            ["order.created", "order.paid", "shipment.tracking", "x-custom", "bogus", ""]
        ),
        "source": st.sampled_from(["oms", "carrier:cj", "", "BAD SOURCE"]),
        "occurred_at": st.sampled_from(["2026-11-01T10:00:00+09:00", "2026-11-01T10:00:00", "yesterday", ""]),
        "order_id": st.none() | st.text(max_size=5),
    },
    optional={"data": json_values, "shipment_id": json_values},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        json_values,
        event_like,
        st.fixed_dictionaries({"events": st.lists(event_like | json_values, max_size=5)}),
    )
)
def test_no_malformed_body_gets_a_500(client: Any, admin_key: str, body: Any) -> None:
    r = client.post("/v1/events", json=body, headers=auth(admin_key))
    assert r.status_code in (200, 400, 413, 422), r.text
    if r.status_code == 200:
        for item in r.json()["results"]:
            assert item["status"] in ("accepted", "duplicate", "rejected")
            if item["status"] == "rejected":
                assert item["error"]["message"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_no_raw_bytes_get_a_500(client: Any, admin_key: str, raw: bytes) -> None:
    r = client.post(
        "/v1/events", content=raw, headers={**auth(admin_key), "content-type": "application/json"}
    )
    assert r.status_code in (200, 400, 413, 422)


def test_sqlite_file_holds_no_personal_data_in_clear(tmp_path: Path, master_key: str) -> None:
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/pii.db",
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
    }
    cli = [sys.executable, "-m", "deliveryhub.entrypoints.cli"]
    out = subprocess.run(
        [*cli, "keys", "create", "--name", "ci", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("dhk_")
    from fastapi.testclient import TestClient

    from deliveryhub.bootstrap import bootstrap
    from deliveryhub.entrypoints.api.app import create_app

    hub = bootstrap(db_url=env["DELIVERYHUB_DB_URL"], master_key=master_key, data_dir=tmp_path, env="test")
    people = [
        ("이도윤", "010-3141-5926", "doyoon@example.kr"),
        ("최하은", "01027182818", "haeun.choi@example.com"),
    ]
    with TestClient(create_app(hub, run_worker=False)) as client:
        for i, (name, phone, email) in enumerate(people):
            r = client.post(
                "/v1/events",
                json=order_created(f"P-{i}", phone=phone, name=name, email=email),
                headers=auth(key),
            )
            assert r.json()["results"][0]["status"] == "accepted"
            bad = order_created(f"Q-{i}", phone=phone, name=name, email=email, at="2026-11-01T10:00:00")
            assert (
                client.post("/v1/events", json=bad, headers=auth(key)).json()["results"][0]["status"]
                == "rejected"
            )
    drain(hub)
    hub.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("pii.db*"))
    assert blob, "database files exist"
    for name, phone, email in people:
        for needle in (name, phone, phone.replace("-", ""), phone[-9:], email):
            assert needle.encode() not in blob, needle


def test_backbone_security_headers_on_every_response(client: Any, admin_key: str) -> None:
    """JSON, errors and pages carry the security headers; a handler's own header wins; HSTS on https."""
    for r in (
        client.get("/healthz"),
        client.get("/v1/orders", headers=auth(admin_key)),
        client.get("/v1/orders"),  # 401
        client.get("/v1/nope"),  # 404
    ):
        assert r.headers["x-content-type-options"] == "nosniff", r.url
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "strict-transport-security" not in r.headers
        assert r.headers.get_list("x-frame-options") == ["DENY"]
    from deliveryhub.notifications.tracking import make_token, tracking_key

    hub = client.app.state.hub
    hub.ingest.ingest([order_created("ORD-HDR-1")])
    tracking = client.get("/track/" + make_token(tracking_key(hub.keyring), "ORD-HDR-1"))
    assert tracking.status_code == 200
    assert tracking.headers["referrer-policy"] == "no-referrer"  # the page's own value wins
    assert tracking.headers.get_list("referrer-policy") == ["no-referrer"]
    from fastapi.testclient import TestClient

    secure = TestClient(client.app, base_url="https://hub.example")
    assert "max-age=" in secure.get("/healthz").headers["strict-transport-security"]
