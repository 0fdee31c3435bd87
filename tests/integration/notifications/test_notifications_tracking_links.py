"""Tracking links as an attacker sees them: the link a customer got by e-mail (real SMTP server) is
replayed after cancel, erasure, expiry (pinned clock), staff revocation and key rotation, forged and
tampered, and looked for in the database, the console channel's file and the log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.notifications.links import make_token, tracking_key
from deliveryhub.notifications.tables import notification_jobs, tracking_links
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.tables import audit_log
from dh_testkit import drain, event, make_hub
from notif_kit import SmtpSink, lifecycle, send_all

START = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # every time here is pinned: never today's date
OID = "O-LINK-1"
EMAIL = "minsu@example.com"
TOKEN_RE = re.compile(r"/track/([A-Za-z0-9_\-.]+)")
GONE_KO, GONE_EN = "더 이상 사용할 수 없어요", "no longer available"
EXPIRED_KO, EXPIRED_EN = "유효기간이 지났어요", "has expired"


@pytest.fixture(autouse=True)
def _shop_env(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELIVERYHUB_SHOP_CONTACT", "1588-0000")


class World:
    """A hub with a pinned clock, a real SMTP sink, and a TestClient."""

    def __init__(self, hub: Any, clock: ManualClock, smtp: SmtpSink, client: TestClient) -> None:
        self.hub, self.clock, self.smtp, self.client = hub, clock, smtp, client

    def ingest(self, events: list[dict[str, Any]]) -> None:
        self.hub.ingest.ingest(events)
        drain(self.hub)
        send_all(self.hub)

    def links_received(self) -> list[str]:
        """Tokens of every tracking link the customer received, in order."""
        out = []
        for _rcpt, msg in self.smtp.messages:
            text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            out += TOKEN_RE.findall(text)
        return out

    def key(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {create_api_key(self.hub.db, f'k-{role}', role)}"}


@contextmanager
def _world(
    tmp_path: Path, master_key: str, smtp: SmtpSink, db_url: str | None = None, **kw: Any
) -> Iterator[World]:
    """A World on a fresh hub (clock pinned at START); the hub is closed afterwards."""
    clock = ManualClock(START)
    hub = make_hub(tmp_path, master_key, db_url=db_url, clock=clock, smtp_url=smtp.url, **kw)
    try:
        with TestClient(create_app(hub, run_worker=False)) as client:
            yield World(hub, clock, smtp, client)
    finally:
        hub.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: Any, tmp_path: Path, master_key: str, smtp: SmtpSink) -> Iterator[World]:
    db_url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with _world(tmp_path, master_key, smtp, db_url) as w:
        yield w


@pytest.fixture
def lite(tmp_path: Path, master_key: str, smtp: SmtpSink) -> Iterator[World]:
    with _world(tmp_path, master_key, smtp) as w:
        yield w


def _customer() -> dict[str, str]:
    return {"name": "이민수", "email": EMAIL, "phone": "010-3141-5926"}


def _assert_gone(resp: Any, *, expired: bool) -> None:
    """410, polite in Korean and English, how to reach the shop, and nothing about the order."""
    assert resp.status_code == 410, resp.text
    body = resp.text
    assert (EXPIRED_KO in body and EXPIRED_EN in body) if expired else (GONE_KO in body and GONE_EN in body)
    assert "고객센터(1588-0000)" in body and "(1588-0000)" in body
    for secret in (OID, "이**", "이민수", "CJ", "123456789012", "배송 출발", "주문 접수", "timeline"):
        assert secret not in body, secret
    assert resp.headers["cache-control"] == "no-store"


def test_link_from_the_notice_dies_when_the_order_is_cancelled(world: World) -> None:
    world.ingest(lifecycle(OID, START, _customer())[:2])
    token = world.links_received()[-1]
    page = world.client.get(f"/track/{token}")
    assert page.status_code == 200 and OID in page.text
    assert world.hub.links.order_for_token(token) == OID
    world.clock.advance(timedelta(minutes=30))
    world.ingest([event("c1", "order.cancelled", OID, (START + timedelta(minutes=25)).isoformat())])
    _assert_gone(world.client.get(f"/track/{token}"), expired=False)
    _assert_gone(world.client.get(f"/track/{token}?lang=en"), expired=False)
    # The chatbot's check is the same one: a cancelled order's link proves nothing any more.
    assert world.hub.links.order_for_token(token) is None
    with world.hub.db.read() as conn:
        row = conn.execute(sa.select(tracking_links).where(tracking_links.c.order_id == OID)).one()
    assert row.closed_reason == "cancelled"
    # The cancellation notice itself carries no new link, and staff cannot reissue one.
    assert world.links_received()[-1] == token
    r = world.client.post(f"/v1/orders/{OID}/tracking-link/reissue", headers=world.key("ops"))
    assert r.status_code == 409 and r.json()["error"]["code"] == "links_closed"


def test_link_dies_when_the_customer_is_erased(world: World) -> None:
    world.ingest(lifecycle(OID, START, _customer())[:6])
    token = world.links_received()[-1]
    assert world.client.get(f"/track/{token}").status_code == 200
    with world.hub.db.read() as conn:
        customer_id = conn.execute(
            sa.text("SELECT customer_id FROM orders WHERE order_id = :o"), {"o": OID}
        ).scalar()
    assert world.hub.security is not None
    world.hub.security.erase_customer(customer_id, "user:dpo", "erasure request")
    _assert_gone(world.client.get(f"/track/{token}"), expired=False)
    assert world.hub.links.order_for_token(token) is None
    with world.hub.db.read() as conn:
        row = conn.execute(sa.select(tracking_links).where(tracking_links.c.order_id == OID)).one()
    assert row.closed_reason == "erased"
    # A link minted afterwards (a late notice, a staff reissue) is refused as well.
    assert world.hub.links.issue(OID) is None
    r = world.client.post(f"/v1/orders/{OID}/tracking-link/reissue", headers=world.key("admin"))
    assert r.status_code == 409


def test_link_expires_after_delivery_by_the_pinned_clock(lite: World) -> None:
    w = lite
    w.ingest(lifecycle(OID, START, _customer()))  # delivered at START + 80 min
    token = w.links_received()[-1]
    delivered = START + timedelta(minutes=80)
    w.clock.set(delivered + timedelta(days=30) - timedelta(seconds=1))
    assert w.client.get(f"/track/{token}").status_code == 200
    w.clock.set(delivered + timedelta(days=30))
    _assert_gone(w.client.get(f"/track/{token}"), expired=True)
    _assert_gone(w.client.get(f"/track/{token}?lang=en"), expired=True)
    assert w.hub.links.order_for_token(token) is None
    # A link freshly issued for a long-delivered order is expired too: the window is the order's.
    assert w.client.get(TOKEN_RE.search(w.hub.links.issue(OID)).group(0)).status_code == 410  # type: ignore[union-attr]


def test_days_after_delivery_is_configurable_and_undelivered_links_hit_the_hard_cap(
    tmp_path: Path, master_key: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_TRACKING_LINK_MAX_DAYS", "60")
    with _world(tmp_path, master_key, smtp, tracking_link_days_after_delivery=2) as w:
        clock, client = w.clock, w.client
        w.ingest(lifecycle(OID, START, _customer()))
        w.ingest(lifecycle("O-STUCK", START, {"name": "박지은", "email": "jieun@example.com"})[:7])
        delivered_token = next(t for t in w.links_received() if OID.encode() in _order_of(t))
        stuck_token = next(t for t in w.links_received() if b"O-STUCK" in _order_of(t))
        clock.set(START + timedelta(days=2, minutes=79))
        assert client.get(f"/track/{delivered_token}").status_code == 200
        clock.set(START + timedelta(days=2, minutes=80))
        _assert_gone(client.get(f"/track/{delivered_token}"), expired=True)
        # Never delivered: alive for the cap after it was sent, not a second more.
        assert client.get(f"/track/{stuck_token}").status_code == 200
        clock.set(START + timedelta(days=59, hours=23))
        assert client.get(f"/track/{stuck_token}").status_code == 200
        clock.set(START + timedelta(days=60, hours=1))
        assert client.get(f"/track/{stuck_token}").status_code == 410


def _order_of(token: str) -> bytes:
    head = token.split(".")[0]
    return base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))


def test_staff_revoke_needs_the_permission_is_audited_and_reissue_works(world: World) -> None:
    world.ingest(lifecycle(OID, START, _customer())[:6])
    old = world.links_received()[-1]
    url = f"/v1/orders/{OID}/tracking-link/revoke"
    assert world.client.post(url).status_code == 401  # anonymous
    for role in ("cs_agent", "analyst", "auditor", "integration"):
        r = world.client.post(url, headers=world.key(role), json={"reason": "try"})
        assert r.status_code == 403, role
    assert world.client.get(f"/track/{old}").status_code == 200  # nothing was revoked by them
    ops = world.key("ops")
    r = world.client.post(url, headers=ops, json={"reason": "고객 휴대폰 분실"})
    assert r.status_code == 200 and r.json()["revoked"] is True
    _assert_gone(world.client.get(f"/track/{old}"), expired=False)
    assert world.hub.links.order_for_token(old) is None
    # The revoked link opens no chat for the order either (the chatbot asks the same resolve_link).
    chat = world.client.post("/v1/chat/sessions", json={"token": old})
    assert chat.status_code == 422 and OID not in chat.text
    with world.hub.db.read() as conn:
        entry = conn.execute(sa.select(audit_log).where(audit_log.c.action == "tracking_link.revoked")).one()
    assert entry.actor.startswith("api_key:") and entry.target == f"order:{OID}"
    assert "고객 휴대폰 분실" in entry.details and old not in entry.details

    r = world.client.post(f"/v1/orders/{OID}/tracking-link/reissue", headers=world.key("cs_agent"))
    assert r.status_code == 403
    r = world.client.post(f"/v1/orders/{OID}/tracking-link/reissue", headers=ops, json={"reason": "resend"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    new = TOKEN_RE.search(r.json()["url"]).group(1)  # type: ignore[union-attr]
    page = world.client.get(f"/track/{new}")
    assert page.status_code == 200 and OID in page.text
    assert world.hub.links.order_for_token(new) == OID
    assert world.client.post("/v1/chat/sessions", json={"token": new}).status_code == 200
    assert world.client.get(f"/track/{old}").status_code == 410
    with world.hub.db.read() as conn:
        reissued = conn.execute(
            sa.select(audit_log).where(audit_log.c.action == "tracking_link.reissued")
        ).one()
    assert new not in reissued.details and r.json()["url"] not in reissued.details
    # A second reissue kills the first reissued link.
    again = world.client.post(f"/v1/orders/{OID}/tracking-link/reissue", headers=ops).json()["url"]
    assert world.client.get(f"/track/{new}").status_code == 410
    assert world.client.get(TOKEN_RE.search(again).group(0)).status_code == 200  # type: ignore[union-attr]
    # The next notice carries a link of the current generation, which works.
    world.ingest(lifecycle(OID, START, _customer())[6:8])
    assert world.client.get(f"/track/{world.links_received()[-1]}").status_code == 200


def test_revoke_refuses_bad_and_unknown_orders(lite: World) -> None:
    ops = lite.key("ops")
    r = lite.client.post("/v1/orders/NOPE-1/tracking-link/revoke", headers=ops)
    assert r.status_code == 404 and r.json()["error"]["field"] == "order_id"
    r = lite.client.post("/v1/orders/NOPE-1/tracking-link/reissue", headers=ops)
    assert r.status_code == 404
    r = lite.client.post("/v1/orders/O%01X/tracking-link/revoke", headers=ops)
    assert r.status_code == 422 and "control" in r.json()["error"]["message"]
    r = lite.client.post("/v1/orders/O-1/tracking-link/revoke", headers=ops, json={"reason": "x" * 501})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = lite.client.post("/v1/orders/O-1/tracking-link/revoke", headers=ops, json={"reason": 5})
    assert r.status_code == 422
    r = lite.client.post("/v1/orders/" + "O" * 129 + "/tracking-link/revoke", headers=ops)
    assert r.status_code == 422


def test_forged_and_tampered_tokens_get_404_and_no_data(lite: World) -> None:
    w = lite
    w.ingest(lifecycle(OID, START, _customer())[:8])
    w.ingest(lifecycle("O-OTHER", START, {"name": "박지은", "email": "jieun@example.com"})[:3])
    good = next(t for t in w.links_received() if _order_of(t) == OID.encode())
    other = next(t for t in w.links_received() if _order_of(t) == b"O-OTHER")
    head, gen, at, mac = good.split(".")
    flip = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    forged = [
        f"{head}.{gen}.{at}.{flip}",  # one signature character changed
        f"{other.split('.')[0]}.{gen}.{at}.{mac}",  # another order with my signature
        f"{head}.{int(gen) + 1}.{at}.{mac}",  # a guessed next generation (after a revoke)
        f"{head}.{gen}.{int(at) + 86400 * 365}.{mac}",  # a later issue time to outlive the cap
        make_token(b"k" * 32, OID),  # signed with another key
        make_token(tracking_key(w.hub.keyring), "O-NOT-THERE"),  # genuine signature, no such order
        good[:-1],
        good + "A",
        f"{head}.{mac}",
        "garbage",
        "...",
        f"{head}.{gen}.{at}.한글",
        "A" * 401,
    ]
    for bad in forged:
        r = w.client.get(f"/track/{bad}")
        assert r.status_code == 404, (bad, r.status_code)
        for secret in (OID, "O-OTHER", "이**", "123456789012", "배송"):
            assert secret not in r.text
        assert w.hub.links.order_for_token(bad) is None
    assert w.client.get(f"/track/{good}").status_code == 200


def test_permanent_links_of_the_first_kind_are_shown_expired(lite: World) -> None:
    w = lite
    w.ingest(lifecycle(OID, START, _customer())[:3])
    key = w.hub.keyring.master.derive("tracking links v1")
    mac = base64.urlsafe_b64encode(hmac.new(key, b"track:" + OID.encode(), hashlib.sha256).digest())
    head = base64.urlsafe_b64encode(OID.encode()).decode().rstrip("=")
    legacy = f"{head}.{mac.decode().rstrip('=')[:22]}"
    _assert_gone(w.client.get(f"/track/{legacy}"), expired=True)
    assert w.hub.links.order_for_token(legacy) is None
    assert w.client.get(f"/track/{head}.{'A' * 22}").status_code == 404


def test_key_rotation_ends_links_signed_before_it(lite: World) -> None:
    from deliveryhub.security.rotation import rotate

    w = lite
    w.ingest(lifecycle(OID, START, _customer())[:6])
    before = w.links_received()[-1]
    assert w.client.get(f"/track/{before}").status_code == 200
    rotate(w.hub, pause=0, grace=0)
    _assert_gone(w.client.get(f"/track/{before}"), expired=False)
    assert w.hub.links.order_for_token(before) is None
    w.ingest(lifecycle(OID, START, _customer())[6:8])  # the next notice carries a working link
    after = w.links_received()[-1]
    assert after != before and w.client.get(f"/track/{after}").status_code == 200


def test_no_usable_token_in_the_database_the_console_file_or_the_log(
    tmp_path: Path, master_key: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    monkeypatch.setenv("DELIVERYHUB_CONSOLE_NOTIFICATIONS", "1")
    with _world(tmp_path, master_key, smtp) as w:
        hub, clock, client = w.hub, w.clock, w.client
        # One customer reachable by e-mail, one only through the console channel (no contact).
        w.ingest(lifecycle(OID, START, _customer())[:8])
        w.ingest(lifecycle("O-CONSOLE", START, {"name": "정하나"})[:8])
        mailed = w.links_received()
        assert mailed and all(client.get(f"/track/{t}").status_code == 200 for t in mailed[-1:])
        # The console customer's link is deterministic under the pinned clock: rebuild it exactly.
        console_token = make_token(tracking_key(hub.keyring), "O-CONSOLE", 1, clock.now())
        assert client.get(f"/track/{console_token}").status_code == 200
        console = (tmp_path / "notifications-console.jsonl").read_text(encoding="utf-8")
        assert "/track/[redacted]" in console
        lines = [json.loads(x) for x in console.splitlines()]
        assert any(x["link"] and x["link"].endswith("/track/[redacted]") for x in lines)
        assert oct((tmp_path / "notifications-console.jsonl").stat().st_mode & 0o777) == "0o600"
        with hub.db.read() as conn:
            contexts = [r.context for r in conn.execute(sa.select(notification_jobs))]
        assert contexts and all("link" not in c for c in contexts)
    out, err = capfd.readouterr()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    for token in {*mailed, console_token}:
        mac = token.rsplit(".", 1)[1]
        assert mac.encode() not in stored, "a tracking token is stored in clear"
        assert mac not in out and mac not in err, "a tracking token reached the log"


def test_staff_alerts_carry_no_customer_link(
    tmp_path: Path, master_key: str, smtp: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_OPS_EMAIL", "ops@shop.example")
    with _world(tmp_path, master_key, smtp) as w:
        failed = event(
            "f1",
            "shipment.delivery_failed",
            OID,
            (START + timedelta(minutes=75)).isoformat(),
            {"reason": "recipient_absent"},
            source="carrier:cj",
            shipment_id=f"{OID}-S1",
        )
        w.ingest([*lifecycle(OID, START, _customer())[:8], failed])
        mails = [(rcpt, _all_parts(m)) for rcpt, m in smtp.messages]
        ops = [text for rcpt, text in mails if rcpt == ["ops@shop.example"]]
        customer = [text for rcpt, text in mails if rcpt == [EMAIL]]
        assert ops and all("/track/" not in text for text in ops)
        assert customer and "/track/" in customer[-1]


def _all_parts(msg: Any) -> str:
    """Every text part of a mail (plain and HTML), decoded."""
    return "\n".join(str(p.get_content()) for p in msg.walk() if p.get_content_maintype() == "text")
