"""API keys (expiry, scopes, last use), the password policy over HTTP and CLI, audit of every privileged
action wherever it is made (CLI included), /metrics behind metrics:read, forged proxy headers."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.kernel.clock import ManualClock
from deliveryhub.security import apikeys, users
from dh_testkit import make_hub

PW = "a long enough password"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def clock(hub: Any) -> ManualClock:
    hub.clock = ManualClock(datetime(2026, 11, 30, 23, 50, tzinfo=UTC))
    hub.security.audit.now = hub.clock.now
    return hub.clock


def test_an_expired_key_is_refused(hub: Any, client: TestClient, admin_key: str, clock: ManualClock) -> None:
    r = client.post("/v1/keys", json={"name": "shop", "role": "integration", "expires_in_days": 1},
                    headers=_auth(admin_key))
    assert r.status_code == 201 and r.json()["expires_at"].startswith("2026-12-01T23:50")
    key = r.json()["key"]
    assert client.get("/v1/orders", headers=_auth(key)).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/v1/orders", headers=_auth(key)).status_code == 401  # also on a cache hit
    apikeys.clear_cache()
    assert client.get("/v1/orders", headers=_auth(key)).status_code == 401
    past = client.post("/v1/keys", json={"name": "x", "role": "ops", "expires_in_days": 0},
                       headers=_auth(admin_key))
    assert past.status_code == 422


def test_a_scoped_key_calls_only_routes_in_its_scopes(hub: Any, client: TestClient, admin_key: str) -> None:
    r = client.post("/v1/keys", json={"name": "wms", "role": "integration", "scopes": ["events:write"]},
                    headers=_auth(admin_key))
    assert r.status_code == 201 and r.json()["scopes"] == ["events:write"]
    key = r.json()["key"]
    posted = client.post("/v1/events", json={"events": [{"event_id": "x"}]}, headers=_auth(key))
    assert posted.status_code == 200
    refused = client.get("/v1/orders", headers=_auth(key))  # the role may read orders; the scope may not
    assert refused.status_code == 403 and "scope" in refused.json()["error"]["message"]
    assert client.get("/v1/integrations", headers=_auth(key)).status_code == 403
    # Scopes are permission names the role holds: anything else is a clear 422.
    for scopes in (["events:everything"], ["keys:admin"]):
        bad = client.post("/v1/keys", json={"name": "w", "role": "integration", "scopes": scopes},
                          headers=_auth(admin_key))
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "scopes", bad.text


def test_last_used_at_is_written_but_not_on_every_request(hub: Any, client: TestClient) -> None:
    key = apikeys.create_api_key(hub.db, "busy", "ops")
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    sa.event.listen(hub.db.engine, "before_cursor_execute", count)
    try:
        for _ in range(30):
            apikeys.clear_cache()  # even with every lookup going to the database
            assert client.get("/v1/orders", headers=_auth(key)).status_code == 200
    finally:
        sa.event.remove(hub.db.engine, "before_cursor_execute", count)
    assert len(writes) == 1
    listed = apikeys.list_api_keys(hub.db)
    assert [k["last_used_at"] is not None for k in listed if k["name"] == "busy"] == [True]


@pytest.mark.parametrize(
    "password, says",
    [
        ("aaaaaaaaaaaaaaaa", "different characters"),
        (" " * 16, "only spaces"),
        ("short pw 1", "at least 12"),
        ("Password123456!", "common"),
        ("qwertyuiop1234", "common"),
        ("123456789012", "sequence"),
    ],
)
def test_weak_passwords_are_refused_with_a_clear_message(
    hub: Any, client: TestClient, admin_key: str, password: str, says: str
) -> None:
    r = client.post("/v1/users", json={"email": "new@example.com", "role": "ops", "password": password},
                    headers=_auth(admin_key))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "password" and says in error["message"] and "비밀번호" in error["message"]


def _cli(tmp: Path, master_key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DELIVERYHUB_DB_URL": f"sqlite:///{tmp}/cli.db", "DELIVERYHUB_MASTER_KEY": master_key,
           "DELIVERYHUB_DATA_DIR": str(tmp), "DELIVERYHUB_ENV": "test", "PATH": "/usr/bin:/bin",
           "USER": "kim", "LOGNAME": "kim"}
    return subprocess.run([sys.executable, "-m", "deliveryhub.entrypoints.cli", *args], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_cli_key_and_user_changes_are_audited(tmp_path: Path, master_key: str) -> None:
    r = _cli(tmp_path, master_key, "keys", "create", "--name", "warehouse", "--role", "integration",
             "--scopes", "events:write", "--expires-days", "90")
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("dhk_")
    bad = _cli(tmp_path, master_key, "keys", "create", "--name", "w", "--role", "integration",
               "--scopes", "x")
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
    weak = _cli(tmp_path, master_key, "users", "create", "--email", "a@example.com", "--role", "ops",
                "--password", "aaaaaaaaaaaaaaa")
    assert weak.returncode == 2 and "password" in weak.stderr
    assert _cli(tmp_path, master_key, "keys", "revoke", "1").returncode == 0
    assert _cli(tmp_path, master_key, "keys", "revoke", "99").returncode == 2
    hub = make_hub(tmp_path, master_key, db_url=f"sqlite:///{tmp_path}/cli.db")
    try:
        entries = hub.security.audit.entries(20)
        created = [e for e in entries if e["action"] == "api_key.created"]
        assert len(created) == 1
        assert created[0]["actor"] == "cli:kim" and created[0]["target"] == f"api_key:{key[:10]}"
        assert created[0]["details"]["name"] == "warehouse" and created[0]["details"]["role"] == "integration"
        assert created[0]["details"]["scopes"] == ["events:write"] and created[0]["details"]["expires_at"]
        assert [e["target"] for e in entries if e["action"] == "api_key.revoked"] == ["api_key:1"]
        assert key not in str(entries)
        assert hub.security.audit.verify().ok
    finally:
        hub.close()


def test_privileged_http_actions_are_audited(hub: Any, client: TestClient, admin_key: str) -> None:
    audit = hub.security.audit
    # A single failed login (no lock involved).
    wrong = client.post("/v1/auth/login", json={"email": "x@example.com", "password": "nope"})
    assert wrong.status_code == 401
    failed = audit.entries(5, action="user.login_failed")
    assert [e["details"]["reason"] for e in failed] == ["unknown_account"]
    # Bearer logout.
    users.create_user(hub, "ops@example.com", "ops", PW)
    token = client.post("/v1/auth/login", json={"email": "ops@example.com", "password": PW}).json()["token"]
    assert client.post("/v1/auth/logout", headers=_auth(token)).json() == {"revoked": True}
    out = audit.entries(5, action="user.logout")
    assert len(out) == 1 and out[0]["details"] == {"kind": "bearer"} and token not in str(out)
    # Quarantine replay.
    client.post("/v1/events", json={"events": [{"event_id": "broken"}]}, headers=_auth(admin_key))
    with hub.db.read() as conn:
        item = conn.execute(sa.select(t.quarantine.c.id)).scalar()
    assert client.post(f"/v1/quarantine/{item}/replay", headers=_auth(admin_key)).status_code == 200
    replayed = audit.entries(5, action="quarantine.replayed")
    assert [e["target"] for e in replayed] == [f"quarantine:{item}"]
    assert replayed[0]["actor"].endswith("test-admin")
    # KPI export.
    r = client.get("/v1/kpis/export?from=2026-11-01&to=2026-11-30&format=csv", headers=_auth(admin_key))
    assert r.status_code == 200
    exported = audit.entries(5, action="kpi.exported")
    assert [e["target"] for e in exported] == ["kpis:2026-11-01..2026-11-30"]
    assert audit.verify().ok


def test_metrics_permission_and_the_public_switch(hub: Any, client: TestClient, tmp_path: Path,
                                                  master_key: str) -> None:
    assert client.get("/metrics").status_code == 401
    cs = apikeys.create_api_key(hub.db, "desk", "cs_agent")
    assert client.get("/metrics", headers=_auth(cs)).status_code == 403
    scoped = apikeys.create_api_key(hub.db, "prom-scoped", "ops", ["orders:read"])
    assert client.get("/metrics", headers=_auth(scoped)).status_code == 403
    prom = apikeys.create_api_key(hub.db, "prometheus", "ops", ["metrics:read"])
    assert client.get("/metrics", headers=_auth(prom)).status_code == 200
    public = make_hub(tmp_path / "pub", master_key, metrics_public=True)
    try:
        with TestClient(create_app(public, run_worker=False)) as anon:
            assert anon.get("/metrics").status_code == 200
    finally:
        public.close()


def _failed_login_ips(hub: Any) -> list[str | None]:
    return [e["ip"] for e in hub.security.audit.entries(50, action="user.login_failed")]


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(hub: Any, client: TestClient,
                                                               tmp_path: Path, master_key: str) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9"}
    client.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"}, headers=forged)
    assert _failed_login_ips(hub) == ["testclient"]
    # Behind configured proxies, the right-most hop that is not a proxy is the client; whatever the
    # client itself prepended is ignored.
    behind = make_hub(tmp_path / "proxy", master_key, trust_proxy=True,
                      forwarded_allow_ips="testclient, 10.0.0.0/8")
    try:
        with TestClient(create_app(behind, run_worker=False)) as via_proxy:
            via_proxy.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"},
                           headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.1.2.3"})
        assert _failed_login_ips(behind) == ["198.51.100.4"]
    finally:
        behind.close()


def test_throttle_totp_guard_and_key_expiry_on_postgresql(
    tmp_path: Path, master_key: str, pg_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import pyotp

    hub = make_hub(tmp_path, master_key, db_url=pg_url, clock=ManualClock(datetime(2026, 12, 31, 23, 0,
                                                                                    tzinfo=UTC)))
    try:
        hub.security.audit.now = hub.clock.now
        uid = users.create_user(hub, "lead@example.com", "ops", PW)

        def attempt(_i: int) -> str:
            try:
                users.authenticate(hub, "lead@example.com", "not the password", ip="203.0.113.5")
            except users.AuthError as exc:
                return exc.code
            return "ok"

        with ThreadPoolExecutor(4) as pool:  # concurrent failures of one pair: counted, never a crash
            assert set(pool.map(attempt, range(8))) == {"invalid_credentials"}
        with pytest.raises(users.AuthError):
            users.authenticate(hub, "lead@example.com", PW, ip="203.0.113.5")  # that pair waits
        assert users.authenticate(hub, "lead@example.com", PW, ip="198.51.100.1").id == uid
        users.enable_totp(hub, uid, "test")
        code = pyotp.TOTP(users.totp_secret(hub, uid)).at(hub.clock.now())
        assert users.authenticate(hub, "lead@example.com", PW, code, ip="198.51.100.1").id == uid
        with pytest.raises(users.AuthError):
            users.authenticate(hub, "lead@example.com", PW, code, ip="198.51.100.1")
        key = apikeys.create_api_key(hub.db, "pg", "ops", ["orders:read"],
                                     hub.clock.now() + timedelta(hours=1), hub.clock.now())
        assert apikeys.authenticate_key(hub.db, key, hub.clock.now()) is not None
        apikeys.clear_cache()
        assert apikeys.authenticate_key(hub.db, key, hub.clock.now() + timedelta(hours=2)) is None
        assert hub.security.audit.verify().ok
    finally:
        hub.close()
