"""Local HTTP servers for the shop's outside systems, speaking docs/OUTSIDE_PORTS.md: the carrier-return
pickup port, the WMS (release, address, reshipment), the TMS (address) and the coupon/points system.

Each server checks the bearer token and the Idempotency-Key, records every request, carries out each key
once (the same key again gets the same answer, 200 — or 409 with `duplicate_status=409`), and can be told
to fail: `fail_next(500)`, `fail_next(429, retry_after=7)`, `fail_next(400, message="…")`, `slow_next(3)`.

    with outside_servers() as srv:
        monkeypatch.setenv(...) for k, v in srv.env().items()   # DELIVERYHUB_OUTSIDE_* for the hub
        srv.wms.fail_next(500)
        ...
        assert len(srv.wms.done("/release")) == 1
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from providers.serving import serving


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    key: str | None
    auth: str | None
    body: Any
    status: int  # what the server answered


@dataclass
class _Fault:
    status: int
    retry_after: float | None = None
    message: str | None = None
    delay: float = 0.0


@dataclass
class FakeSystem:
    """One outside system's state: what it received, what it did (by key) and the faults queued."""

    name: str
    token: str
    duplicate_status: int = 200
    requests: list[Received] = field(default_factory=list)
    answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (path, key) -> body
    faults: list[_Fault] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def fail_next(
        self, status: int, times: int = 1, retry_after: float | None = None, message: str | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (and Retry-After / the message) without acting."""
        with self.lock:
            self.faults += [_Fault(status, retry_after, message) for _ in range(times)]

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Act on the next `times` requests normally, but only answer after `seconds`."""
        with self.lock:
            self.faults += [_Fault(0, delay=seconds) for _ in range(times)]

    def done(self, path_suffix: str = "") -> list[dict[str, Any]]:
        """What the system actually carried out (once per key), for paths ending with `path_suffix`."""
        with self.lock:
            return [a for (p, _k), a in self.answers.items() if p.endswith(path_suffix)]

    def keys(self, path_suffix: str = "") -> list[str | None]:
        """The Idempotency-Key of every request received on matching paths, in order."""
        with self.lock:
            return [r.key for r in self.requests if r.path.endswith(path_suffix)]

    def calls(self, path_suffix: str = "") -> list[Received]:
        """Every request received on matching paths, in order."""
        with self.lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    # ------------------------------------------------------------ the server's side
    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The body for a new action on `path` (what this kind of system answers)."""
        self.counter += 1
        n = self.counter
        prefix = self.name.upper()[:3]
        out: dict[str, Any] = {"id": f"{prefix}-{n}", "status": "ok"}
        if path == "/pickups":
            out.update(status="booked", carrier="cj", tracking_no=f"R{600000000 + n}")
        elif path.endswith("/release"):
            out.update(status="released")
        elif path.endswith("/address"):
            out.update(status="updated")
        elif path == "/reshipments":
            out.update(status="shipped", carrier="cj", tracking_no=f"X{700000000 + n}")
        elif path in ("/coupons", "/points"):
            out.update(status="granted", amount=body.get("amount"))
        return out

    def routes(self, path: str) -> bool:
        """Whether this system has `path` (POST)."""
        if self.name == "pickup":
            return path == "/pickups"
        if self.name == "wms":
            return path == "/reshipments" or (
                path.startswith("/orders/") and path.endswith(("/release", "/address"))
            )
        if self.name == "tms":
            return path.startswith("/orders/") and path.endswith("/address")
        if self.name == "rewards":
            return path in ("/coupons", "/points")
        return False


def _handler(system: FakeSystem) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            key = self.headers.get("Idempotency-Key")
            auth = self.headers.get("Authorization")
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
            status, answer, headers, delay = self._decide(key, auth, body)
            with system.lock:
                system.requests.append(Received("POST", self.path, key, auth, body, status))
            if delay:
                time.sleep(delay)
            self._send(status, answer, headers)

        def _decide(
            self, key: str | None, auth: str | None, body: Any
        ) -> tuple[int, dict[str, Any], dict[str, str], float]:
            path = self.path.split("?", 1)[0]
            if auth != f"Bearer {system.token}":
                return 401, {"message": "invalid token"}, {}, 0.0
            if not system.routes(path):
                return 404, {"message": f"no such path {path}"}, {}, 0.0
            if not key:
                return 400, {"message": "Idempotency-Key header is required"}, {}, 0.0
            if not isinstance(body, dict) or not body.get("order_id"):
                return 400, {"message": "order_id is required"}, {}, 0.0
            with system.lock:
                fault = system.faults.pop(0) if system.faults else None
                if fault is not None and fault.status:
                    headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after else {}
                    message = fault.message or f"injected {fault.status}"
                    return fault.status, {"message": message}, headers, 0.0
                before = system.answers.get((path, key))
                if before is not None:
                    return system.duplicate_status, before, {}, fault.delay if fault else 0.0
                answer = system.answer(path, body)
                system.answers[(path, key)] = answer
            return 200, answer, {}, fault.delay if fault else 0.0

    return Handler


@dataclass
class OutsideServers:
    """The four systems, started: `.pickup`, `.wms`, `.tms`, `.rewards`."""

    pickup: FakeSystem
    wms: FakeSystem
    tms: FakeSystem
    rewards: FakeSystem

    def env(self, timeout_seconds: float = 10.0) -> dict[str, str]:
        """DELIVERYHUB_OUTSIDE_* variables pointing a hub at these servers."""
        out = {"DELIVERYHUB_OUTSIDE_TIMEOUT_SECONDS": str(timeout_seconds)}
        for s in (self.pickup, self.wms, self.tms, self.rewards):
            out[f"DELIVERYHUB_OUTSIDE_{s.name.upper()}_URL"] = s.url
            out[f"DELIVERYHUB_OUTSIDE_{s.name.upper()}_TOKEN"] = s.token
        return out

    def config(self, timeout_seconds: float = 10.0) -> dict[str, Any]:
        """The `outside:` section of a hub config file pointing at these servers."""
        out: dict[str, Any] = {"timeout_seconds": timeout_seconds}
        for s in (self.pickup, self.wms, self.tms, self.rewards):
            out[f"{s.name}_url"] = s.url
            out[f"{s.name}_token"] = s.token
        return out


@contextmanager
def outside_servers(duplicate_status: int = 200) -> Iterator[OutsideServers]:
    """Start the pickup, WMS, TMS and rewards servers; stop them on exit."""
    systems = [
        FakeSystem(name, f"tok-{name}-5d1f", duplicate_status) for name in ("pickup", "wms", "tms", "rewards")
    ]
    with ExitStack() as stack:
        for s in systems:
            s.url = stack.enter_context(serving(_handler(s), f"fake-{s.name}"))
        yield OutsideServers(*systems)
