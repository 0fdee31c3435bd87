"""Who may push to the hub: per-connector shared secret and/or IP allowlist, replay memory, pushed orders.

A carrier push is accepted only when the operator configured, for that connector, at least one of

* ``DELIVERYHUB_<CODE>_WEBHOOK_SECRET``: the push is signed. Korean carriers (shared-secret scheme) send
  ``X-Deliveryhub-Signature: t=<unix seconds>,v1=<hex>`` (the format of the hub's own outgoing webhooks),
  or ``X-Deliveryhub-Timestamp: <unix seconds>`` with ``X-Deliveryhub-Signature: sha256=<hex>``; the hex
  is HMAC-SHA256(secret, ``"<timestamp>." + raw body``); the timestamp must lie within
  ``DELIVERYHUB_<CODE>_WEBHOOK_TOLERANCE_S`` (default 300 s) of the hub clock and a signature is accepted
  once. AfterShip and EasyPost use their own body signatures (no timestamp in their schemes): a signature
  already received is acknowledged without effect. During a rotation
  ``DELIVERYHUB_<CODE>_WEBHOOK_SECRET_PREVIOUS`` is accepted as well.
* ``DELIVERYHUB_<CODE>_WEBHOOK_ALLOW_IPS``: comma-separated CIDRs; the real peer address must be inside
  one. ``X-Forwarded-For`` counts only when the hub setting ``trust_proxy`` is on and the peer is one of
  ``forwarded_allow_ips``.

With both set, both must pass. With neither, the route answers 403 naming what to configure.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Connection

from deliveryhub.adapters.channels.webhook import sign as outgoing_signature
from deliveryhub.adapters.connectors import runtime
from deliveryhub.adapters.connectors.base import ConnectorSettings
from deliveryhub.adapters.connectors.tables import connector_pushed_orders, connector_webhook_receipts
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.web import scope_ip

TIMESTAMP_HEADER = "x-deliveryhub-timestamp"
SIGNATURE_HEADER = "x-deliveryhub-signature"
# A signed carrier push older than this can no longer be replayed (the timestamp check refuses it), so its
# receipt is only kept this long; Shopify receipts bind a body to its topic and are kept.
CARRIER_RECEIPT_DAYS = 2

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def env_name(code: str, field: str) -> str:
    """The environment variable of one connector setting, e.g. DELIVERYHUB_CJ_WEBHOOK_SECRET."""
    return f"DELIVERYHUB_{code.upper()}_{field.upper()}"


def signed_message(timestamp: str, body: bytes) -> bytes:
    """What the shared-secret scheme signs: the timestamp, a dot, then the raw body."""
    return timestamp.encode() + b"." + body


def sign_push(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers a sender adds to a push: the hub's own outgoing-webhook format, ``t=<ts>,v1=<hex>``."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {SIGNATURE_HEADER: outgoing_signature(secret, body, ts)}


def _split_signature(request: Request) -> tuple[str, str]:
    """(timestamp, hex) from ``t=..,v1=..`` in the signature header, or from the two-header form."""
    signature = (request.headers.get(SIGNATURE_HEADER) or "").strip()
    if signature.startswith("t="):
        parts = dict(p.strip().split("=", 1) for p in signature.split(",") if "=" in p)
        return parts.get("t", ""), parts.get("v1", "")
    return (request.headers.get(TIMESTAMP_HEADER) or "").strip(), signature


def verify_timestamped(body: bytes, timestamp: str, signature: str, secret: str) -> bool:
    """Constant-time check of ``sha256=<hex>`` (or bare hex) over ``timestamp.body``."""
    value = signature.strip().lower()
    value = value.split("=", 1)[1] if value.startswith("sha256=") else value
    expected = hmac.new(secret.encode(), signed_message(timestamp, body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), value.encode())


def parse_allowlist(text: str, what: str) -> list[Network]:
    """CIDRs from a comma-separated setting; ValueError naming the setting and the bad entry."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not an IP address or CIDR") from None
    return networks


def _in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def peer_address(request: Request, hub_settings: Any) -> str:
    """The sender's address: the socket peer, or X-Forwarded-For only behind a proxy we were told to trust
    (``trust_proxy`` and ``forwarded_allow_ips``; the one rule of the whole app, security/web.py)."""
    return scope_ip(request.scope, hub_settings)


@dataclass(frozen=True)
class PushAuth:
    """How a push was authenticated; ``replay_key`` identifies a signed delivery (None for IP-only)."""

    method: str
    replay_key: str | None = None
    refuse_replay: bool = True


def not_configured(code: str, *, signing: bool) -> ApiError:
    """403 naming the settings the operator must set before this connector's pushes are accepted."""
    secret, ips = env_name(code, "webhook_secret"), env_name(code, "webhook_allow_ips")
    if signing:
        ko = f"{code} 웹훅 서명 비밀키가 설정되지 않아 수신을 거부했어요. 운영자가 {secret}를 설정해 주세요."
        en = f"{code} signs its webhooks but no secret is configured: the operator must set {secret}."
    else:
        ko = (
            f"{code} 웹훅 인증이 설정되지 않아 수신을 거부했어요. 운영자가 {secret}(공유 비밀키) 또는 "
            f"{ips}(허용 IP 대역)를 설정해 주세요."
        )
        en = (
            f"{code} webhook authentication is not configured: the operator must set {secret} "
            f"(shared secret) or {ips} (allowed CIDRs)."
        )
    return ApiError(403, "webhook_not_configured", f"{ko} / {en}")


def _unauthorized(code: str, ko: str, en: str, field: str | None = None) -> ApiError:
    return ApiError(401, code, f"{ko} / {en}", field)


def check_allowlist(request: Request, hub: Any, code: str, text: str) -> None:
    """403 unless the real peer address is inside the connector's allowlist."""
    setting = env_name(code, "webhook_allow_ips")
    try:
        networks = parse_allowlist(text, setting)
    except ValueError as exc:
        raise ApiError(
            403,
            "webhook_misconfigured",
            f"허용 IP 설정이 올바르지 않아 수신을 거부했어요. / The allowlist is invalid: {exc}",
        ) from None
    peer = peer_address(request, hub.settings)
    if not networks or not _in(peer, networks):
        raise ApiError(
            403,
            "ip_not_allowed",
            f"허용되지 않은 주소({peer})에서 온 웹훅이에요. / Pushes from {peer} are not allowed "
            f"({setting}).",
        )


def _secrets(settings: ConnectorSettings) -> list[str]:
    """The current secret, then the previous one during a rotation."""
    previous = settings.webhook_secret_previous
    extra = previous.get_secret_value() if previous is not None else ""
    return [x for x in (runtime.secret_value(settings), extra) if x]


def check_timestamped(
    body: bytes, request: Request, secrets: list[str], tolerance_s: int, now: datetime
) -> PushAuth:
    """Verify the shared-secret scheme: timestamp present and fresh, signature matching."""
    ts, signature = _split_signature(request)
    if not signature:
        raise _unauthorized(
            "invalid_signature",
            "서명 헤더가 없어요.",
            "missing X-Deliveryhub-Signature header",
            "X-Deliveryhub-Signature",
        )
    if not _UNIX_SECONDS.fullmatch(ts):  # ASCII digits only: "²".isdigit() is true but int("²") fails
        raise _unauthorized(
            "invalid_signature",
            "서명 시각 헤더가 없거나 올바르지 않아요.",
            "missing or malformed X-Deliveryhub-Timestamp header (unix seconds)",
            "X-Deliveryhub-Timestamp",
        )
    # Every candidate is checked (no early exit), so timing does not tell which secret matched.
    if not any([verify_timestamped(body, ts, signature, secret) for secret in secrets]):
        raise _unauthorized(
            "invalid_signature",
            "서명이 본문과 맞지 않아요.",
            "X-Deliveryhub-Signature does not match the timestamp and body",
            "X-Deliveryhub-Signature",
        )
    skew = abs(now.timestamp() - int(ts))
    if skew > max(1, tolerance_s):
        raise _unauthorized(
            "stale_timestamp",
            f"서명 시각이 허용 범위({tolerance_s}초)를 벗어났어요.",
            f"X-Deliveryhub-Timestamp is {int(skew)} s away from the hub clock (tolerance {tolerance_s} s)",
            "X-Deliveryhub-Timestamp",
        )
    return PushAuth("signature", replay_key=hashlib.sha256(signature.lower().encode()).hexdigest())


def admit_carrier(
    request: Request, hub: Any, code: str, settings: ConnectorSettings, vendor: tuple[str, Any] | None
) -> None:
    """Before the body is read: refuse when nothing is configured or the peer is outside the allowlist."""
    secret = runtime.secret_value(settings)
    allow = (settings.webhook_allow_ips or "").strip()
    if not secret and (vendor is not None or not allow):
        raise not_configured(code, signing=vendor is not None)
    if allow:
        check_allowlist(request, hub, code, allow)


def authenticate_carrier(
    request: Request,
    hub: Any,
    code: str,
    body: bytes,
    settings: ConnectorSettings,
    vendor: tuple[str, Any] | None,
) -> PushAuth:
    """Refuse the push unless it passes every configured check (and at least one is configured).

    ``vendor`` is ``(header, verify(body, header_value, secret))`` for carriers with their own scheme.
    """
    admit_carrier(request, hub, code, settings, vendor)
    secret = runtime.secret_value(settings)
    allow = (settings.webhook_allow_ips or "").strip()
    if not secret:
        return PushAuth("allowlist")
    if vendor is None:
        now = hub.clock.now()
        auth = check_timestamped(body, request, _secrets(settings), settings.webhook_tolerance_s, now)
        return PushAuth("signature+allowlist" if allow else "signature", auth.replay_key)
    header, verify = vendor
    value = request.headers.get(header)
    if not value:
        raise _unauthorized("invalid_signature", "서명 헤더가 없어요.", f"missing {header} header", header)
    if not any([verify(body, value, candidate) for candidate in _secrets(settings)]):
        raise _unauthorized(
            "invalid_signature", "서명이 본문과 맞지 않아요.", f"{header} does not match the body", header
        )
    key = hashlib.sha256(value.strip().encode()).hexdigest()
    # The vendor resends the very same signed body when we do not answer 2xx: acknowledge, do nothing.
    return PushAuth("signature+allowlist" if allow else "signature", key, refuse_replay=False)


# ------------------------------------------------------------------------------------------- storage


def _dialect_insert(conn: Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


@dataclass(frozen=True)
class Receipt:
    """A delivery already received: its topic and body hash."""

    topic: str
    body_sha256: str


def remember_delivery(
    conn: Connection, connector: str, account: str, delivery_id: str, topic: str, body: bytes, now: datetime
) -> Receipt | None:
    """Record a delivery; returns the earlier receipt when this id was already received (nothing written)."""
    digest = hashlib.sha256(body).hexdigest()
    stmt = (
        _dialect_insert(conn, connector_webhook_receipts)
        .values(
            connector=connector,
            account=account,
            delivery_id=delivery_id,
            topic=topic[:64],
            body_sha256=digest,
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(connector_webhook_receipts.c.delivery_id)
    )
    if conn.execute(stmt).first() is not None:
        if connector != "shopify":
            conn.execute(
                connector_webhook_receipts.delete().where(
                    connector_webhook_receipts.c.connector == connector,
                    connector_webhook_receipts.c.received_at < now - timedelta(days=CARRIER_RECEIPT_DAYS),
                )
            )
        return None
    row = conn.execute(
        sa.select(connector_webhook_receipts.c.topic, connector_webhook_receipts.c.body_sha256).where(
            connector_webhook_receipts.c.connector == connector,
            connector_webhook_receipts.c.account == account,
            connector_webhook_receipts.c.delivery_id == delivery_id,
        )
    ).one()
    return Receipt(row.topic, row.body_sha256)


def forget_delivery(conn: Connection, connector: str, account: str, delivery_id: str) -> None:
    """Drop a receipt whose delivery could not be stored, so the sender's retry is processed."""
    conn.execute(
        connector_webhook_receipts.delete().where(
            connector_webhook_receipts.c.connector == connector,
            connector_webhook_receipts.c.account == account,
            connector_webhook_receipts.c.delivery_id == delivery_id,
        )
    )


def topics_for_body(conn: Connection, connector: str, body: bytes) -> set[str]:
    """Topics this exact body was already received under (whatever account the unsigned headers named)."""
    digest = hashlib.sha256(body).hexdigest()
    rows = conn.execute(
        sa.select(connector_webhook_receipts.c.topic).where(
            connector_webhook_receipts.c.connector == connector,
            connector_webhook_receipts.c.body_sha256 == digest,
        )
    )
    return {r.topic for r in rows}


def record_pushed_orders(conn: Connection, source: str, order_ids: set[str], now: datetime) -> None:
    """Remember that a push told us about these orders (read by the compensation approval policy)."""
    if not order_ids:
        return
    table = connector_pushed_orders
    for oid in sorted(order_ids):  # fixed key order: two concurrent pushes never deadlock on PostgreSQL
        stmt = _dialect_insert(conn, table).values(
            order_id=oid[:128], source=source[:72], first_pushed_at=now, last_pushed_at=now, pushes=1
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.order_id, table.c.source],
                set_={"last_pushed_at": now, "pushes": table.c.pushes + 1},
            )
        )
