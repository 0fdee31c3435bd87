"""Inbound pushes over real HTTP (uvicorn on loopback): the IP allowlist against the real peer address, and
the fraud chain of issue 13 — anonymous "delivered" push → damage claim in chat → automatic refund."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deliveryhub.adapters.connectors.signatures import sign_push
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.monitors.tables import compensations
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, event, make_hub, serving
from e2e.connectors_web.connectors_kit import CJ_DELIVERED, CJ_NUMBER, waybill_order

NUMBER, PUSH = CJ_NUMBER, CJ_DELIVERED


class Live:
    """A hub served by uvicorn on 127.0.0.1 (so the peer address is real) and an admin key."""

    def __init__(self, hub: Any, base: str, key: str) -> None:
        self.hub, self.base, self.auth = hub, base, {"authorization": f"Bearer {key}"}
        self.http = httpx.Client(base_url=base, timeout=60)

    def push(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post("/v1/webhooks/carriers/cj", content=body, headers=headers or {})

    def signed(self, body: bytes, secret: str = "cj-e2e-secret") -> dict[str, str]:
        return sign_push(secret, body, int(self.hub.clock.now().timestamp()))

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/orders/{order_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def seed(self, order_id: str, number: str, total: int = 19900) -> None:
        items = waybill_order(order_id, "cj", number, total=total)
        response = self.http.post("/v1/events", json={"events": items}, headers=self.auth)
        assert response.status_code == 200, response.text


def _serve(tmp_path: Path, master_key: str, **overrides: Any) -> Iterator[Live]:
    hub = make_hub(tmp_path, master_key, **overrides)
    try:
        # proxy_headers off: this test checks the route's own peer logic, not uvicorn's
        # (see entrypoints/api/security.py scope_ip).
        with serving(create_app(hub, run_worker=False), proxy_headers=False) as base:
            live = Live(hub, base, create_api_key(hub.db, "e2e-admin", "admin"))
            try:
                yield live
            finally:
                live.http.close()
    finally:
        hub.close()


def _cj_rows(live: Live) -> int:
    with live.hub.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(t.inbox).where(t.inbox.c.source == "carrier:cj")
        return int(conn.execute(query).scalar_one())


# ------------------------------------------------------------------------------------------- allowlist


def test_ip_allowlist_checks_the_real_peer_not_x_forwarded_for(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS", "10.0.0.0/8, 192.0.2.7")
    for live in _serve(tmp_path, master_key):
        live.seed("ORD-IP-1", NUMBER)
        body = json.dumps(PUSH, ensure_ascii=False).encode()
        # Loopback is not in the list; a forged X-Forwarded-For inside it changes nothing (trust_proxy off).
        for headers in ({}, {"x-forwarded-for": "10.1.2.3"}, {"x-forwarded-for": "192.0.2.7, 10.9.9.9"}):
            refused = live.push(body, headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "ip_not_allowed" and "127.0.0.1" in refused.text
        assert _cj_rows(live) == 0 and live.order("ORD-IP-1")["stage"] != "delivered"


def test_ip_allowlist_lets_the_listed_peer_in(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS", "127.0.0.1/32")
    for live in _serve(tmp_path, master_key):
        live.seed("ORD-IP-2", NUMBER)
        allowed = live.push(json.dumps(PUSH, ensure_ascii=False).encode())
        assert allowed.status_code == 200 and allowed.json()["auth"] == "allowlist", allowed.text
        drain(live.hub)
        assert live.order("ORD-IP-2")["stage"] == "delivered"


def test_allowlist_and_secret_together_need_both(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS", "127.0.0.1/32")
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", "cj-e2e-secret")
    for live in _serve(tmp_path, master_key):
        live.seed("ORD-IP-3", NUMBER)
        body = json.dumps(PUSH, ensure_ascii=False).encode()
        assert live.push(body).status_code == 401  # right address, unsigned
        ok = live.push(body, live.signed(body))
        assert ok.status_code == 200 and ok.json()["auth"] == "signature+allowlist", ok.text


def test_behind_a_trusted_proxy_the_forwarded_client_is_checked(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS", "10.0.0.0/8")
    for live in _serve(tmp_path, master_key, trust_proxy=True, forwarded_allow_ips="127.0.0.1"):
        live.seed("ORD-IP-4", NUMBER)
        body = json.dumps(PUSH, ensure_ascii=False).encode()
        assert live.push(body).status_code == 403  # the proxy itself is not the carrier
        # The client prepends a forged allowed address; our proxy appends the real one (outside the list).
        spoofed = live.push(body, {"x-forwarded-for": "10.1.2.3, 203.0.113.9"})
        assert spoofed.status_code == 403 and "203.0.113.9" in spoofed.text
        ok = live.push(body, {"x-forwarded-for": "10.1.2.3"})
        assert ok.status_code == 200, ok.text


# ----------------------------------------------------------------------------------------- fraud chain


def _claim_damage_in_chat(live: Live, order_id: str) -> list[str]:
    """The customer reports damage in the public chat and verifies with the phone's last digits."""
    session = live.http.post("/v1/chat/sessions", json={})
    assert session.status_code == 200, session.text
    sid = session.json()["session_id"]
    replies = []
    for text in (f"{order_id} 상품이 파손됐어요", "5678"):
        turn = live.http.post(f"/v1/chat/sessions/{sid}/messages", json={"text": text})
        assert turn.status_code == 200, turn.text
        replies.append(turn.json()["reply"] or "")
    return replies


def _comp_rows(live: Live, order_id: str) -> list[Any]:
    with live.hub.db.read() as conn:
        return list(conn.execute(sa.select(compensations).where(compensations.c.order_id == order_id)))


def _issued(live: Live, order_id: str) -> int:
    with live.hub.db.read() as conn:
        query = (
            sa.select(sa.func.count())
            .select_from(t.inbox)
            .where(t.inbox.c.order_id == order_id, t.inbox.c.type == "compensation.issued")
        )
        return int(conn.execute(query).scalar_one())


def _settle(live: Live) -> None:
    """Run the consumers and every due monitor timer (issuing what is issuable) until quiet."""
    monitors = live.hub.monitors
    assert monitors is not None
    for _ in range(3):
        drain(live.hub)
        monitors.fire_due()
    drain(live.hub)


def test_fraud_chain_delivered_push_then_damage_claim_pays_nothing_without_a_human(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", "cj-e2e-secret")
    for live in _serve(tmp_path, master_key):
        assert live.hub.monitors is not None
        victim, control = "ORD-2026-000901", "ORD-2026-000902"
        live.seed(victim, NUMBER)
        body = json.dumps(PUSH, ensure_ascii=False).encode()

        # 1. The anonymous "delivered" push of the probe: refused, the order stays undelivered.
        for url in ("/v1/webhooks/carriers/cj", f"/v1/webhooks/carriers/cj?order_id={victim}"):
            anonymous = live.http.post(url, content=body)
            assert anonymous.status_code == 401, anonymous.text
        _settle(live)
        assert live.order(victim)["stage"] != "delivered" and _cj_rows(live) == 0

        # 2. Even a correctly signed push (a compromised or mistaken carrier) cannot move money alone.
        pushed = live.push(body, live.signed(body))
        assert pushed.status_code == 200 and pushed.json()["accepted"] >= 2, pushed.text
        _settle(live)
        assert live.order(victim)["stage"] == "delivered"
        replies = _claim_damage_in_chat(live, victim)
        _settle(live)
        rows = _comp_rows(live, victim)
        assert rows, f"the damage claim must reach the compensation rules: {replies}"
        assert all(r.status == "pending_approval" and r.decided_by is None for r in rows), rows
        assert rows[0].evidence["approval_reason"] == "pushed_facts"
        assert rows[0].evidence["pushed_by"] == ["webhook:cj"]
        assert _issued(live, victim) == 0
        listed = live.http.get("/v1/compensations", headers=live.auth, params={"status": "pending_approval"})
        assert listed.status_code == 200 and victim in listed.text

        # 3. Control: the same claim on an order delivered by the operator's own system is paid as before,
        #    so the test above fails if the policy goes away.
        live.seed(control, "553825406605")
        operator = event(
            f"{control}-d",
            "shipment.delivered",
            control,
            "2026-11-21T15:00:00+09:00",
            {"carrier": "cj"},
            source="tms",
            shipment_id="553825406605",
        )
        assert live.http.post("/v1/events", json=operator, headers=live.auth).status_code == 200
        _settle(live)
        _claim_damage_in_chat(live, control)
        _settle(live)
        assert [r.status for r in _comp_rows(live, control)] == ["issued"]
        assert _issued(live, control) == 1

        # 4. A named person approves: only then is the victim's compensation issued, with decided_by set.
        comp_id = rows[0].id
        approved = live.http.post(f"/v1/compensations/{comp_id}/approve", headers=live.auth, json={})
        assert approved.status_code == 200, approved.text
        _settle(live)
        final = _comp_rows(live, victim)[0]
        assert final.status == "issued" and final.decided_by, final
        assert _issued(live, victim) == 1


def test_operator_may_raise_the_pushed_money_threshold(
    tmp_path: Path, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webhook_money_approval_krw=20000: a 19,900원 claim on a pushed delivery is paid without approval."""
    monkeypatch.setenv("DELIVERYHUB_CJ_WEBHOOK_SECRET", "cj-e2e-secret")
    for live in _serve(tmp_path, master_key, webhook_money_approval_krw=20000):
        order_id = "ORD-2026-000903"
        live.seed(order_id, NUMBER)
        body = json.dumps(PUSH, ensure_ascii=False).encode()
        assert live.push(body, live.signed(body)).status_code == 200
        _settle(live)
        _claim_damage_in_chat(live, order_id)
        _settle(live)
        assert [r.status for r in _comp_rows(live, order_id)] == ["issued"]
