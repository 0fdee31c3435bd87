"""Secrets never reach the server log; forged proxy headers change nothing.

A real `deliveryhub serve` (uvicorn subprocess, default configuration) gets malformed, disconnecting
(Content-Length larger than the body, then the socket closed), oversized and hostile requests that all
carry a known API key and a live session cookie. After the server has stopped, neither secret appears
anywhere in its log, and the log grew by a few lines per request at most (the probe saw 3.9 MB for ten).
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deliveryhub.bench.common import answers_healthz
from dh_testkit import free_port, make_hub

PASSWORD = "correct horse battery staple 7"


class Served:
    """A `deliveryhub serve` subprocess with its log captured in a file."""

    def __init__(self, tmp: Path, **extra_env: str) -> None:
        self.tmp = tmp
        master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.hub = make_hub(tmp, master_key)
        from deliveryhub.security.apikeys import create_api_key
        from deliveryhub.security.tables import users as users_t
        from deliveryhub.security.users import create_session, create_user

        self.key = create_api_key(self.hub.db, "log-probe", "admin")
        user_id = create_user(self.hub, "ops@example.com", "ops", PASSWORD)
        with self.hub.db.read() as conn:
            row = conn.execute(sa.select(users_t).where(users_t.c.id == user_id)).one()
        self.cookie = create_session(self.hub, row).token
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "serve.log"
        env = {
            **os.environ,
            "DELIVERYHUB_DB_URL": f"sqlite:///{tmp}/hub.db",
            "DELIVERYHUB_MASTER_KEY": master_key,
            "DELIVERYHUB_DATA_DIR": str(tmp),
            "DELIVERYHUB_ENV": "test",
            "DELIVERYHUB_MAX_BODY_BYTES": "65536",
        }
        for name in ("DELIVERYHUB_TRUST_PROXY", "FORWARDED_ALLOW_IPS", "DELIVERYHUB_METRICS_PUBLIC"):
            env.pop(name, None)
        env.update(extra_env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deliveryhub.entrypoints.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        if not answers_healthz(self.base, 90):
            self.stop()
            raise RuntimeError("serve did not start: " + self.log.read_text()[-3000:])

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return self.log.read_text(errors="replace")

    def raw(self, data: bytes, *, read: bool = True) -> bytes:
        """Send raw bytes on a fresh connection; read the answer unless the caller hangs up at once."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(data)
            if not read:
                return b""
            chunks = []
            try:
                while chunk := s.recv(65536):
                    chunks.append(chunk)
            except TimeoutError:
                pass
            return b"".join(chunks)

    def stop(self) -> int:
        """SIGTERM and wait: every request in flight has finished logging when this returns."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A fresh served hub; stopped afterwards."""
    s = Served(tmp_path)
    try:
        yield s
    finally:
        s.stop()
        s.hub.close()


def _head(method: str, path: str, served: Served, length: int | None, extra: str = "") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{served.port}",
        f"Authorization: Bearer {served.key}",
        f"Cookie: dh_session={served.cookie}; dh_csrf=abc",
        "Content-Type: application/json",
        "Connection: close",
    ]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def test_hostile_requests_leave_no_secret_and_little_text_in_the_log(served: Served) -> None:
    before = served.log_text()
    requests = 0
    # 1. The probe's attack: the body is shorter than its Content-Length and the client hangs up.
    for path in ("/v1/events", "/v1/auth/login", "/v1/quarantine/1/replay", "/login", "/v1/keys"):
        for _ in range(2):
            served.raw(_head("POST", path, served, 5000) + b'{"event_type": "order_', read=False)
            requests += 1
    # The routes that read their body themselves log one line per disconnect; wait until they have (the
    # server handles a hang-up asynchronously) so that stopping it cannot cut the handling short.
    deadline = time.monotonic() + 120
    while served.log_text()[len(before):].count("client_disconnected") < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    # 2. Malformed bodies answered with a 4xx naming the problem, never a 500.
    bodies = [b"{not json", b"[" * 5000, b'{"password": "' + PASSWORD.encode() + b'"}', b"\x00\xff\xfe"]
    for body in bodies:
        answer = served.raw(_head("POST", "/v1/events", served, len(body)) + body)
        status = int(answer.split(b" ", 2)[1])
        assert 200 <= status < 500, answer[:300]
        requests += 1
    # 3. Oversized: declared and streamed.
    answer = served.raw(_head("POST", "/v1/events", served, 10_000_000) + b"{}")
    assert b" 413 " in answer.split(b"\r\n", 1)[0]
    requests += 1
    big = b'{"x": "' + b"a" * 70_000 + b'"}'
    answer = served.raw(_head("POST", "/v1/events", served, None, "Transfer-Encoding: chunked\r\n")
                        + f"{len(big):x}\r\n".encode() + big + b"\r\n0\r\n\r\n")
    assert b" 413 " in answer.split(b"\r\n", 1)[0]
    requests += 1
    # 4. Hostile: the secrets in query strings, paths, form bodies, a password login with them.
    with httpx.Client(base_url=served.base, timeout=10) as client:
        auth = {"Authorization": f"Bearer {served.key}", "Cookie": f"dh_session={served.cookie}"}
        hostile = [
            client.get(f"/v1/orders/{served.key}", headers=auth),
            client.get(f"/v1/orders?api_key={served.key}&token={served.cookie}", headers=auth),
            client.post("/v1/auth/login", json={"email": "x@example.com", "password": served.key}),
            client.post("/v1/auth/login", json={"email": served.cookie, "password": PASSWORD}),
            client.post("/login", data={"email": "ops@example.com", "password": served.key}, headers=auth),
            client.get("/metrics", headers={"Authorization": f"Bearer {served.key}x"}),
            client.get("/v1/audit", headers={"Authorization": f"Basic {served.key}"}),
            client.request("PROPFIND", "/v1/events", headers=auth),
        ]
        for r in hostile:
            assert r.status_code < 500, (r.request.url, r.status_code, r.text[:300])
        requests += len(hostile)
    # A bad HTTP request line, the secret in it.
    served.raw(f"GET /{served.key} HTTP/9.9\r\nAuthorization: Bearer {served.key}\r\n\r\n".encode())
    requests += 1
    assert served.stop() in (0, -signal.SIGINT)

    text = served.log_text()
    grown = text[len(before):]
    assert served.key not in text and served.key[4:] not in text
    assert served.cookie not in text and served.cookie[4:] not in text
    assert PASSWORD not in text
    assert "Traceback" not in grown, grown[:3000]
    # The disconnects were handled (one short line each), not crashed through.
    assert grown.count("client_disconnected") >= 4, grown[:3000]
    new_lines = grown.count("\n")
    assert new_lines <= 3 * requests + 10, grown[:4000]
    assert len(grown.encode()) <= 600 * requests, len(grown.encode())


def _audit_ips(served: Served, action: str) -> list[Any]:
    from deliveryhub.security.tables import audit_log

    with served.hub.db.read() as conn:
        return [r.ip for r in conn.execute(sa.select(audit_log.c.ip).where(audit_log.c.action == action))]


def test_forged_forwarded_for_changes_neither_the_rate_limit_key_nor_the_audited_ip(served: Served) -> None:
    # The login limit is 20 a minute per address (a new e-mail each time keeps the per-account limit out).
    statuses = []
    with httpx.Client(base_url=served.base, timeout=10) as client:
        for i in range(40):
            r = client.post(
                "/v1/auth/login",
                json={"email": f"guess{i}@example.com", "password": "wrong password 123"},
                headers={"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"},
            )
            statuses.append(r.status_code)
        # Were the forged addresses believed, every request would have a fresh bucket and none a 429.
        assert statuses.count(429) >= 10, statuses
        # The audit trail names the real peer, not the forged one.
        r = client.post("/v1/auth/login", json={"email": "ops@example.com", "password": PASSWORD},
                        headers={"X-Forwarded-For": "203.0.113.250"})
    served.stop()
    ips = _audit_ips(served, "user.login_failed")
    assert ips and set(ips) == {"127.0.0.1"}, ips


def test_metrics_need_the_metrics_permission_by_default(served: Served) -> None:
    from deliveryhub.security.apikeys import create_api_key

    cs = create_api_key(served.hub.db, "cs-desk", "cs_agent")
    ops = create_api_key(served.hub.db, "prometheus", "ops")
    with httpx.Client(base_url=served.base, timeout=10) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": f"Bearer {cs}"}).status_code == 403
        ok = client.get("/metrics", headers={"Authorization": f"Bearer {ops}"})
        assert ok.status_code == 200 and "# TYPE" in ok.text


def test_behind_a_configured_proxy_the_forwarded_client_is_audited(tmp_path: Path) -> None:
    served = Served(tmp_path, DELIVERYHUB_TRUST_PROXY="true", DELIVERYHUB_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        with httpx.Client(base_url=served.base, timeout=10) as client:
            r = client.post("/v1/auth/login", json={"email": "guess@example.com", "password": "wrong pw 1"},
                            headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.23"})
            assert r.status_code == 401
    finally:
        served.stop()
        ips = _audit_ips(served, "user.login_failed")
        served.hub.close()
    # The proxy (loopback) appended the real client; what the client wrote before it is not believed.
    assert ips == ["198.51.100.23"]
