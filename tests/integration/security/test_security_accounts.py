"""Accounts and sessions: argon2, login throttling, expiry, TOTP, the login page (CSRF, cookies), limits."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security import users
from deliveryhub.security.tables import users as users_table

PW = "a long enough password"


@pytest.fixture
def clock(hub: Any) -> ManualClock:
    hub.clock = ManualClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    hub.security.audit.now = hub.clock.now
    return hub.clock


def _login(client: TestClient, email: str, password: str, **extra: Any) -> Any:
    return client.post("/v1/auth/login", json={"email": email, "password": password, **extra})


def test_password_is_argon2_and_failures_throttle_the_address_not_the_owner(
    hub: Any, client: TestClient, clock: ManualClock
) -> None:
    users.create_user(hub, "Agent@Example.com", "cs_agent", PW)
    with hub.db.read() as conn:
        stored = conn.execute(sa.select(users_table.c.password_hash)).scalar()
    assert stored.startswith("$argon2id$") and PW not in stored
    answers = [_login(client, "agent@example.com", "wrong password!") for _ in range(5)]
    assert {(r.status_code, r.text) for r in answers} == {(401, answers[0].text)}
    # The guesser's address is slowed down: even the right password is refused there, with the same answer.
    blocked = _login(client, "agent@example.com", PW)
    assert (blocked.status_code, blocked.text) == (401, answers[0].text)
    # The owner, from their own address, is not locked out by a stranger's guesses.
    with TestClient(client.app, client=("198.51.100.20", 50000)) as owner:
        assert _login(owner, "agent@example.com", PW).status_code == 200
    # And the block ends by itself (backoff, not a permanent lock).
    clock.advance(timedelta(seconds=31))
    assert _login(client, "agent@example.com", PW).status_code == 200
    # Unknown accounts: the very same answers, including when "blocked".
    unknown = [_login(client, "nobody@example.com", PW) for _ in range(6)]
    assert {(r.status_code, r.text) for r in unknown} == {(401, answers[0].text)}
    failed = hub.security.audit.entries(50, action="user.login_failed")
    reasons = [e["details"]["reason"] for e in failed]
    assert reasons.count("wrong_password") == 5 and reasons.count("unknown_account") == 5
    assert reasons.count("throttled") == 2
    with hub.db.read() as conn:
        assert conn.execute(sa.select(users_table.c.locked_until)).scalar() is None
        alerts = conn.execute(
            sa.text("SELECT rule_id FROM notification_jobs WHERE rule_id = 'ops:login_throttled'")
        ).all()
        assert len(alerts) == 1  # ops hear about the guessing of the real account, once


def test_session_expires_when_idle_and_after_twelve_hours(hub: Any, client: TestClient,
                                                          clock: ManualClock) -> None:
    users.create_user(hub, "ops@example.com", "ops", PW)
    token = _login(client, "ops@example.com", PW).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/orders", headers=auth).status_code == 200
    clock.advance(timedelta(minutes=20))
    users._session_cache.clear()
    assert client.get("/v1/orders", headers=auth).status_code == 200  # still active
    clock.advance(timedelta(minutes=31))
    users._session_cache.clear()
    assert client.get("/v1/orders", headers=auth).status_code == 401  # idle too long
    token = _login(client, "ops@example.com", PW).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(25):  # active all the time, but the absolute lifetime still ends it
        clock.advance(timedelta(minutes=29))
        users._session_cache.clear()
        client.get("/v1/orders", headers=auth)
    assert client.get("/v1/orders", headers=auth).status_code == 401
    # Role change ends sessions at once.
    token = _login(client, "ops@example.com", PW).json()["token"]
    users.set_role(hub, 1, "analyst", "test")
    assert client.get("/v1/orders", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_totp_is_required_once_enabled(hub: Any, client: TestClient, admin_key: str) -> None:
    uid = users.create_user(hub, "admin@example.com", "admin", PW)
    r = client.post(f"/v1/users/{uid}/totp", headers={"Authorization": f"Bearer {admin_key}"})
    assert r.status_code == 200 and r.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert _login(client, "admin@example.com", PW).json()["error"]["code"] == "totp_required"
    assert _login(client, "admin@example.com", PW, totp="000000").status_code == 401
    code = pyotp.TOTP(users.totp_secret(hub, uid)).now()
    assert _login(client, "admin@example.com", PW, totp=code).status_code == 200
    # The same code again, inside its 30-second window, is a replay: refused.
    replay = _login(client, "admin@example.com", PW, totp=code)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_credentials"
    failed = hub.security.audit.entries(10, action="user.login_failed")
    assert failed[0]["details"]["reason"] == "totp_replayed"


def test_login_page_csrf_cookie_flags_and_cookie_csrf(hub: Any, client: TestClient) -> None:
    users.create_user(hub, "desk@example.com", "cs_agent", PW)
    page = client.get("/login")
    assert page.status_code == 200 and "로그인" in page.text
    assert "Sign in" in client.get("/login?lang=en").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"email": "desk@example.com", "password": PW, "next": "/tickets"}
    assert client.post("/login", data={**form, "csrf": "forged"}, follow_redirects=False).status_code == 403
    r = client.post("/login", data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tickets"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("dh_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    # Open redirects are refused.
    assert client.post("/login", data={**form, "csrf": client.cookies["dh_csrf"], "next": "//evil.example"},
                       follow_redirects=False).headers["location"] == "/"
    assert client.get("/v1/orders").status_code == 200  # the cookie authenticates reads
    # A state-changing cookie request without the CSRF header or same-origin headers is refused.
    r = client.post("/v1/quarantine/1/replay")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    r = client.post("/v1/quarantine/1/replay", headers={"X-CSRF-Token": client.cookies["dh_csrf"]})
    assert r.status_code != 403 or r.json()["error"]["code"] != "csrf_failed"
    client.get("/logout", follow_redirects=False)
    assert client.get("/v1/orders").status_code == 401


def test_login_and_chat_are_rate_limited(hub: Any, client: TestClient) -> None:
    hub.security.limits.reset()  # moving windows of a minute: the (slow, argon2) logins all fall in one
    statuses = [_login(client, f"u{i}@example.com", "whatever-pass").status_code for i in range(25)]
    assert statuses[:20] == [401] * 20 and 429 in statuses[20:]
    r = _login(client, "u@example.com", "x")
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited" and "retry-after" in r.headers
    chat = [client.post("/v1/chat/sessions/s1/messages", json={"text": "hi"}).status_code for _ in range(40)]
    assert chat.count(429) >= 5  # one chat session: 30 burst


def test_users_create_cli_prints_a_generated_password(tmp_path: Path, master_key: str) -> None:
    env = {"DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/cli.db", "DELIVERYHUB_MASTER_KEY": master_key,
           "DELIVERYHUB_DATA_DIR": str(tmp_path), "DELIVERYHUB_ENV": "test", "PATH": "/usr/bin:/bin"}
    cli = str(Path(sys.executable).parent / "deliveryhub")
    r = subprocess.run([cli, "users", "create", "--email", "lead@example.com", "--role", "ops"], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    password = r.stdout.strip().splitlines()[-1]
    assert len(password) >= 15
    from dh_testkit import make_hub

    hub = make_hub(tmp_path, master_key, db_url=f"sqlite:///{tmp_path}/cli.db")
    try:
        assert users.authenticate(hub, "lead@example.com", password).role == "ops"
    finally:
        hub.close()
