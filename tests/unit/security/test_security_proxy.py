"""Which address a request comes from: X-Forwarded-For only from configured proxies (pure logic)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from deliveryhub.entrypoints.api.security import scope_ip


def _scope(peer: str, xff: str | None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", xff.encode())] if xff else []
    return {"type": "http", "client": (peer, 5000), "headers": headers}


def test_forwarded_for_is_ignored_by_default_even_from_loopback() -> None:
    default = SimpleNamespace(trust_proxy=False, forwarded_allow_ips="127.0.0.1")
    assert scope_ip(_scope("127.0.0.1", "203.0.113.7"), default) == "127.0.0.1"


def test_only_an_allowed_proxy_is_believed_and_only_for_the_hop_it_added() -> None:
    behind = SimpleNamespace(trust_proxy=True, forwarded_allow_ips="10.0.0.0/8, 192.0.2.1")
    # A client talking to us directly cannot claim another address.
    assert scope_ip(_scope("198.51.100.9", "203.0.113.7"), behind) == "198.51.100.9"
    # Through the proxies: the right-most address that is not a proxy; the client's own prefix is ignored.
    assert scope_ip(_scope("10.0.0.5", "6.6.6.6, 198.51.100.4, 192.0.2.1"), behind) == "198.51.100.4"
    assert scope_ip(_scope("10.0.0.5", None), behind) == "10.0.0.5"
