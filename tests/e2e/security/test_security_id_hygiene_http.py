"""Over HTTP, as a clumsy or hostile client: ids carrying NUL, control characters, RTL overrides or
zero-width characters are refused with a 422 naming the field (or a per-item rejection inside a batch),
never a 500 and never stored; personal data hidden in free text is stored masked."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.bench.common import answers_healthz
from dh_testkit import event, free_port, make_hub

AT = "2026-11-03T14:05:00+09:00"
BAD_CHARS = [
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x9b",
    "\u202e",
    "\u202d",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200f",
    "\ufeff",
]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_batch_with_bad_ids_stores_the_good_events_and_names_each_bad_field(
    client: Any, hub: Any, admin_key: str
) -> None:
    body = {
        "events": [
            event("ok-1", "order.paid", "ORD-1", AT, {"amount": 1000}),
            event("e\x00", "order.paid", "ORD-1", AT, {"amount": 1}),
            event("e-2", "order.paid", "ORD\u202e1", AT, {"amount": 1}),
            event(
                "e-3",
                "shipment.waybill_created",
                "ORD-1",
                AT,
                {"carrier": "cj", "tracking_no": "61\u200b23"},
                shipment_id="S-1",
            ),
        ]
    }
    r = client.post("/v1/events", json=body, headers=auth(admin_key))
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted", "rejected", "rejected", "rejected"]
    assert [x["error"]["field"] for x in results[1:]] == ["event_id", "order_id", "data.tracking_no"]
    assert all(x["error"]["code"] == "invalid_id" for x in results[1:])
    assert "ID" in results[1]["error"]["message"] and "ids may not" in results[1]["error"]["message"]
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.inbox.c.event_id)).scalars().all() == ["ok-1"]


@pytest.mark.parametrize("char", BAD_CHARS)
def test_order_path_with_a_control_or_format_character_is_422_naming_order_id(
    client: Any, admin_key: str, char: str
) -> None:
    r = client.get("/v1/orders/" + quote(f"ORD{char}1", safe=""), headers=auth(admin_key))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_id" and r.json()["error"]["field"] == "order_id"


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/v1/customers/c%00x/preferences", "customer_id"),
        ("GET", "/v1/tickets/T%E2%80%AE1", "ticket_id"),
        ("POST", "/v1/chat/sessions/s%1B1/messages", "session_id"),
        ("GET", "/v1/orders?carrier=c%00j", "carrier"),
        ("GET", "/v1/notifications?order_id=ORD%E2%81%A61", "order_id"),
        ("GET", "/orders/ORD%00", "order_id"),
    ],
)
def test_every_router_refuses_bad_ids_before_auth_or_database(
    client: Any, method: str, path: str, field: str
) -> None:
    r = client.request(method, path)  # anonymous on purpose: nothing reaches a route or the database
    assert r.status_code == 422, r.text
    assert r.json()["error"] == {
        "code": "invalid_id",
        "message": r.json()["error"]["message"],
        "field": field,
    }


def test_valid_ids_are_not_touched_by_the_guard(client: Any, admin_key: str) -> None:
    body = event("한글-1", "order.paid", "주문-1 A", AT, {"amount": 1})
    assert client.post("/v1/events", json=body, headers=auth(admin_key)).json()["results"][0]["status"] == (
        "accepted"
    )
    assert client.get("/v1/orders/%EC%A3%BC%EB%AC%B8-1%20A", headers=auth(admin_key)).status_code == 200


def test_free_text_posted_over_http_is_stored_masked(client: Any, hub: Any, admin_key: str) -> None:
    body = event(
        "m-1",
        "order.paid",
        "ORD-M",
        AT,
        {
            "amount": 1,
            "memo": "문 앞에 놓아주세요 010-3141-5926",
            "vendor_note": {"buyer_email": "pi.lover@example.com"},
        },
    )
    assert client.post("/v1/events", json=body, headers=auth(admin_key)).status_code == 200
    with hub.db.read() as conn:
        data = conn.execute(sa.select(t.inbox.c.data).where(t.inbox.c.event_id == "m-1")).scalar_one()
    assert data["memo"] == "문 앞에 놓아주세요 010-****-****"
    assert "pi.lover" not in str(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.text(max_size=6),
    bad=st.sampled_from(BAD_CHARS),
    suffix=st.text(max_size=6),
    where=st.sampled_from(["event_id", "order_id", "shipment_id"]),
)
def test_fuzzed_bad_ids_are_never_a_500_and_never_stored(
    client: Any, hub: Any, admin_key: str, prefix: str, bad: str, suffix: str, where: str
) -> None:
    ev = event("fz-1", "shipment.handed_over", "ORD-F", AT, {"carrier": "cj"}, shipment_id="S-F")
    ev[where] = f"{prefix}{bad}{suffix}"
    r = client.post("/v1/events", json=ev, headers=auth(admin_key))
    assert r.status_code == 200
    result = r.json()["results"][0]
    assert result["status"] == "rejected" and result["error"]["field"] == where
    r = client.get("/v1/orders/" + quote(ev[where], safe=""), headers=auth(admin_key))
    assert r.status_code in (404, 422) and r.status_code != 500
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.inbox)).scalar_one() == 0


# ------------------------------------------------------------------ a real server


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Any]]:
    """`deliveryhub serve` on a free port: (base URL, admin key, hub on the same database)."""
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    hub = make_hub(tmp_path, master_key)
    from deliveryhub.security.apikeys import create_api_key

    key = create_api_key(hub.db, "id-probe", "admin")
    port = free_port()
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
        "DELIVERYHUB_MASTER_KEY": master_key,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_ENV": "test",
    }
    log = (tmp_path / "serve.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not answers_healthz(base, 90, proc):
            raise RuntimeError((tmp_path / "serve.log").read_text(errors="replace")[-2000:])
        yield base, key, hub
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        hub.close()


def _raw_get(base: str, target: bytes) -> int:
    """Send a request line with raw bytes (no client-side encoding); the answer's status code."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = s.recv(64)
    return int(head.split(b" ")[1])


def test_real_server_refuses_bad_ids_with_422_never_500(served: tuple[str, str, Any]) -> None:
    base, key, hub = served
    with httpx.Client(base_url=base, headers=auth(key), timeout=30) as http:
        r = http.post(
            "/v1/events",
            json={
                "events": [
                    event("ok-1", "order.paid", "ORD-1", AT, {"amount": 1}),
                    event("bad-1", "order.paid", "ORD\x001", AT, {"amount": 1}),
                ]
            },
        )
        assert r.status_code == 200
        assert [x["status"] for x in r.json()["results"]] == ["accepted", "rejected"]
        assert r.json()["results"][1]["error"]["field"] == "order_id"
        for path in ("/v1/orders/ORD%001", "/v1/orders/ORD%E2%80%AE1", "/v1/orders/%EF%BB%BFORD-1"):
            r = http.get(path)
            assert r.status_code == 422 and r.json()["error"]["field"] == "order_id", (path, r.text)
    # raw bytes in the request line: the HTTP parser or the guard refuses them, never a 500
    for target in (b"/v1/orders/ORD\xe2\x80\xae1", b"/v1/orders/ORD%00%0d%0a1"):
        assert _raw_get(base, target) in (400, 422)
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.inbox.c.event_id)).scalars().all() == ["ok-1"]
