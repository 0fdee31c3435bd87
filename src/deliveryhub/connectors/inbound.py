"""Who may push to the hub: per-connector shared secret and/or IP allowlist, replay memory, pushed orders.

A carrier push is accepted only when the operator configured, for that connector, at least one of

* ``DELIVERYHUB_<CODE>_WEBHOOK_SECRET``: the push is signed (schemes: ``adapters/connectors/signatures.py``).
  Korean carriers sign ``"<timestamp>." + body``; the timestamp must lie within
  ``DELIVERYHUB_<CODE>_WEBHOOK_TOLERANCE_S`` (default 300 s) of the hub clock and a signature is accepted
  once. AfterShip and EasyPost use their own body signatures (no timestamp in their schemes): a signature
  already received is acknowledged without effect. During a rotation
  ``DELIVERYHUB_<CODE>_WEBHOOK_SECRET_PREVIOUS`` is accepted as well.
* ``DELIVERYHUB_<CODE>_WEBHOOK_ALLOW_IPS``: comma-separated CIDRs; the real peer address must be inside
  one (the caller works it out: ``X-Forwarded-For`` only behind a proxy the hub was told to trust).

With both set, both must pass. With neither, the push is refused naming what to configure.
No HTTP here: a refusal is a ``Refused`` the webhook router turns into its answer.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.connectors.base import ConnectorSettings, Network, get_connector, parse_allowlist
from deliveryhub.adapters.connectors.signatures import VENDOR_SCHEMES, split_signature, verify_timestamped
from deliveryhub.adapters.connectors.tables import connector_pushed_orders, connector_webhook_receipts
from deliveryhub.adapters.persistence.dialect import excluded, insert_or_ignore_returning, upsert
from deliveryhub.connectors.config import secret_value

# A signed carrier push older than this can no longer be replayed (the timestamp check refuses it), so its
# receipt is only kept this long; Shopify receipts bind a body to its topic and are kept.
CARRIER_RECEIPT_DAYS = 2

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class Refused(Exception):
    """A push the hub will not take: why (``kind``: unauthorized, forbidden, conflict, invalid, unknown,
    unfit), a stable ``code``, a Korean-first message and the header or field at fault."""

    def __init__(self, kind: str, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code
        self.message = message
        self.field = field


def _in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


@dataclass(frozen=True)
class PushAuth:
    """How a push was authenticated; ``replay_key`` identifies a signed delivery (None for IP-only)."""

    method: str
    replay_key: str | None = None
    refuse_replay: bool = True


def not_configured(code: str, *, signing: bool) -> Refused:
    """Refusal naming the settings the operator must set before this connector's pushes are accepted."""
    connector = get_connector(code)
    secret, ips = connector.env_name("webhook_secret"), connector.env_name("webhook_allow_ips")
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
    return Refused("forbidden", "webhook_not_configured", f"{ko} / {en}")


def unauthorized(code: str, ko: str, en: str, field: str | None = None) -> Refused:
    """A signature that is missing, wrong or stale."""
    return Refused("unauthorized", code, f"{ko} / {en}", field)


def check_allowlist(peer: str, code: str, text: str) -> None:
    """Refuse unless the real peer address is inside the connector's allowlist."""
    setting = get_connector(code).env_name("webhook_allow_ips")
    try:
        networks = parse_allowlist(text, setting)
    except ValueError as exc:
        raise Refused(
            "forbidden",
            "webhook_misconfigured",
            f"허용 IP 설정이 올바르지 않아 수신을 거부했어요. / The allowlist is invalid: {exc}",
        ) from None
    if not networks or not _in(peer, networks):
        raise Refused(
            "forbidden",
            "ip_not_allowed",
            f"허용되지 않은 주소({peer})에서 온 웹훅이에요. / Pushes from {peer} are not allowed "
            f"({setting}).",
        )


def _secrets(settings: ConnectorSettings) -> list[str]:
    """The current secret, then the previous one during a rotation."""
    previous = settings.webhook_secret_previous
    extra = previous.get_secret_value() if previous is not None else ""
    return [x for x in (secret_value(settings), extra) if x]


def check_timestamped(
    body: bytes, headers: Mapping[str, str], secrets: list[str], tolerance_s: int, now: datetime
) -> PushAuth:
    """Verify the shared-secret scheme: timestamp present and fresh, signature matching."""
    ts, signature = split_signature(headers)
    if not signature:
        raise unauthorized(
            "invalid_signature",
            "서명 헤더가 없어요.",
            "missing X-Deliveryhub-Signature header",
            "X-Deliveryhub-Signature",
        )
    if not _UNIX_SECONDS.fullmatch(ts):  # ASCII digits only: "²".isdigit() is true but int("²") fails
        raise unauthorized(
            "invalid_signature",
            "서명 시각 헤더가 없거나 올바르지 않아요.",
            "missing or malformed X-Deliveryhub-Timestamp header (unix seconds)",
            "X-Deliveryhub-Timestamp",
        )
    # Every candidate is checked (no early exit), so timing does not tell which secret matched.
    if not any([verify_timestamped(body, ts, signature, secret) for secret in secrets]):
        raise unauthorized(
            "invalid_signature",
            "서명이 본문과 맞지 않아요.",
            "X-Deliveryhub-Signature does not match the timestamp and body",
            "X-Deliveryhub-Signature",
        )
    skew = abs(now.timestamp() - int(ts))
    if skew > max(1, tolerance_s):
        raise unauthorized(
            "stale_timestamp",
            f"서명 시각이 허용 범위({tolerance_s}초)를 벗어났어요.",
            f"X-Deliveryhub-Timestamp is {int(skew)} s away from the hub clock (tolerance {tolerance_s} s)",
            "X-Deliveryhub-Timestamp",
        )
    return PushAuth("signature", replay_key=hashlib.sha256(signature.lower().encode()).hexdigest())


def admit_carrier(peer: str, code: str, settings: ConnectorSettings) -> None:
    """Before the body is read: refuse when nothing is configured or the peer is outside the allowlist."""
    signing = code in VENDOR_SCHEMES
    allow = (settings.webhook_allow_ips or "").strip()
    if not secret_value(settings) and (signing or not allow):
        raise not_configured(code, signing=signing)
    if allow:
        check_allowlist(peer, code, allow)


def authenticate_carrier(
    peer: str, code: str, headers: Mapping[str, str], body: bytes, settings: ConnectorSettings, now: datetime
) -> PushAuth:
    """Refuse the push unless it passes every configured check (and at least one is configured)."""
    admit_carrier(peer, code, settings)
    allow = (settings.webhook_allow_ips or "").strip()
    if not secret_value(settings):
        return PushAuth("allowlist")
    method = "signature+allowlist" if allow else "signature"
    if code not in VENDOR_SCHEMES:
        auth = check_timestamped(body, headers, _secrets(settings), settings.webhook_tolerance_s, now)
        return PushAuth(method, auth.replay_key)
    header, verify = VENDOR_SCHEMES[code]
    value = headers.get(header)
    if not value:
        raise unauthorized("invalid_signature", "서명 헤더가 없어요.", f"missing {header} header", header)
    if not any([verify(body, value, candidate) for candidate in _secrets(settings)]):
        raise unauthorized(
            "invalid_signature", "서명이 본문과 맞지 않아요.", f"{header} does not match the body", header
        )
    # The vendor resends the very same signed body when we do not answer 2xx: acknowledge, do nothing.
    return PushAuth(method, hashlib.sha256(value.strip().encode()).hexdigest(), refuse_replay=False)


def auth_method(settings: ConnectorSettings, code: str) -> str:
    """How a connector's pushes authenticate now: signature, allowlist, both, or refused."""
    secret, allow = bool(secret_value(settings)), bool((settings.webhook_allow_ips or "").strip())
    if code in VENDOR_SCHEMES and not secret:
        allow = False  # AfterShip/EasyPost always sign: without the secret nothing is accepted
    return "+".join(n for n, on in (("signature", secret), ("allowlist", allow)) if on) or "refused"


# ------------------------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class Receipt:
    """A delivery already received: its topic and body hash."""

    topic: str
    body_sha256: str


def remember_delivery(
    conn: Connection, connector: str, account: str, delivery_id: str, topic: str, body: bytes, now: datetime
) -> Receipt | None:
    """Record a delivery; returns the earlier receipt when this id was already received (nothing written)."""
    receipts = connector_webhook_receipts
    row = {
        "connector": connector,
        "account": account,
        "delivery_id": delivery_id,
        "topic": topic[:64],
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "received_at": now,
    }
    if insert_or_ignore_returning(conn, receipts, row, receipts.c.delivery_id) is not None:
        if connector != "shopify":
            conn.execute(
                receipts.delete().where(
                    receipts.c.connector == connector,
                    receipts.c.received_at < now - timedelta(days=CARRIER_RECEIPT_DAYS),
                )
            )
        return None
    earlier = conn.execute(
        sa.select(receipts.c.topic, receipts.c.body_sha256).where(
            receipts.c.connector == connector,
            receipts.c.account == account,
            receipts.c.delivery_id == delivery_id,
        )
    ).one()
    return Receipt(earlier.topic, earlier.body_sha256)


def forget_delivery(conn: Connection, connector: str, account: str, delivery_id: str) -> None:
    """Drop a receipt whose delivery could not be stored, so the sender's retry is processed."""
    receipts = connector_webhook_receipts
    conn.execute(
        receipts.delete().where(
            receipts.c.connector == connector,
            receipts.c.account == account,
            receipts.c.delivery_id == delivery_id,
        )
    )


def topics_for_body(conn: Connection, connector: str, body: bytes) -> set[str]:
    """Topics this exact body was already received under (whatever account the unsigned headers named)."""
    receipts = connector_webhook_receipts
    digest = hashlib.sha256(body).hexdigest()
    rows = conn.execute(
        sa.select(receipts.c.topic).where(receipts.c.connector == connector, receipts.c.body_sha256 == digest)
    )
    return {r.topic for r in rows}


def record_pushed_orders(conn: Connection, source: str, order_ids: set[str], now: datetime) -> None:
    """Remember that a push told us about these orders (read by the compensation approval policy)."""
    table = connector_pushed_orders
    rows = [
        {
            "order_id": oid[:128],
            "source": source[:72],
            "first_pushed_at": now,
            "last_pushed_at": now,
            "pushes": 1,
        }
        for oid in order_ids
    ]
    # upsert writes in key order: two concurrent pushes never deadlock on PostgreSQL.
    update = {"last_pushed_at": excluded(table, "last_pushed_at"), "pushes": table.c.pushes + 1}
    upsert(conn, table, rows, ["order_id", "source"], update)
