"""How each sender signs a push (pure): Shopify and AfterShip, EasyPost, and the hub's shared-secret scheme.

Korean carriers (shared secret) send ``X-Deliveryhub-Signature: t=<unix seconds>,v1=<hex>`` (the format of
the hub's own outgoing webhooks, ``channels/webhook.py``) or ``X-Deliveryhub-Timestamp: <unix seconds>``
with ``X-Deliveryhub-Signature: sha256=<hex>``; the hex is HMAC-SHA256(secret, ``"<timestamp>." + body``).
Every comparison is constant-time; junk headers are a False, never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import unicodedata
from collections.abc import Callable, Mapping

from deliveryhub.adapters.channels.webhook import sign as outgoing_signature

TIMESTAMP_HEADER = "x-deliveryhub-timestamp"
SIGNATURE_HEADER = "x-deliveryhub-signature"

Verifier = Callable[[bytes, str | None, str], bool]
"""(raw body, header value, secret) -> whether the header signs the body."""


def _hmac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def verify_base64_hmac(body: bytes, header: str | None, secret: str) -> bool:
    """Shopify ``X-Shopify-Hmac-Sha256`` and AfterShip ``aftership-hmac-sha256``: base64 HMAC-SHA256 of the
    raw body with the webhook secret."""
    if not header or not secret or not isinstance(body, bytes | bytearray):
        return False
    expected = base64.b64encode(_hmac(secret, bytes(body)))
    return hmac.compare_digest(expected, header.strip().encode())


def verify_easypost(body: bytes, header: str | None, secret: str) -> bool:
    """``X-Hmac-Signature: hmac-sha256-hex=<hex>``; EasyPost NFKD-normalizes the secret first."""
    if not header or not secret:
        return False
    key = unicodedata.normalize("NFKD", secret)
    expected = ("hmac-sha256-hex=" + _hmac(key, body).hex()).encode()
    return hmac.compare_digest(expected, header.strip().lower().encode())


# Connectors that sign with their own scheme: the header that carries it and how to check it.
VENDOR_SCHEMES: dict[str, tuple[str, Verifier]] = {
    "aftership": ("aftership-hmac-sha256", verify_base64_hmac),
    "easypost": ("x-hmac-signature", verify_easypost),
}


def signed_message(timestamp: str, body: bytes) -> bytes:
    """What the shared-secret scheme signs: the timestamp, a dot, then the raw body."""
    return timestamp.encode() + b"." + body


def sign_push(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers a sender adds to a push: the hub's own outgoing-webhook format, ``t=<ts>,v1=<hex>``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {SIGNATURE_HEADER: outgoing_signature(secret, body, ts)}


def split_signature(headers: Mapping[str, str]) -> tuple[str, str]:
    """(timestamp, hex) from ``t=..,v1=..`` in the signature header, or from the two-header form."""
    signature = (headers.get(SIGNATURE_HEADER) or "").strip()
    if signature.startswith("t="):
        parts = dict(p.strip().split("=", 1) for p in signature.split(",") if "=" in p)
        return parts.get("t", ""), parts.get("v1", "")
    return (headers.get(TIMESTAMP_HEADER) or "").strip(), signature


def verify_timestamped(body: bytes, timestamp: str, signature: str, secret: str) -> bool:
    """Constant-time check of ``sha256=<hex>`` (or bare hex) over ``timestamp.body``."""
    value = signature.strip().lower()
    value = value.split("=", 1)[1] if value.startswith("sha256=") else value
    expected = hmac.new(secret.encode(), signed_message(timestamp, body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), value.encode())
