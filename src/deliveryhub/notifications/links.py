"""Tracking links with a life: signed tokens that expire, can be revoked, and are checked in one place.

token = base64url(order_id) "." generation "." issued (epoch seconds) "." MAC, where
MAC = base64url(HMAC-SHA256(k, "track2" NUL order_id NUL generation NUL issued))[:22 chars] (128 bits) and
k = master.derive("tracking links v2:" + id of the active key-encryption key).

A token is valid (`TrackingLinkService.resolve`) only when all of these hold:
- the MAC checks under the key of the *active* key-encryption key. A key rotation (`crypto rotate`) is
  the operator saying the old key material is no longer trusted, so links signed before it stop
  working (HTTP 410, not 404: we recognise them, they are just over); the next notice carries a new one.
- its generation is the order's current one (table tracking_links; no row = 1). Revoking bumps the
  generation (every earlier link dies); reissuing is revoke + a new link of the new generation.
- the order's links are not closed: cancellation and erasure close them for good (and a cancelled
  order or an erased customer is refused even if the close was missed).
- not expired: `tracking_link_days_after_delivery` days (settings, default 30) after the order's
  delivery, and at most `tracking_link_max_days` (default 180) after the link was issued, for orders
  never delivered (lost, stuck, returned to sender) — generous against any real delivery time.

`TrackingLinkService` is the hub's `core.links` port (issue, order_for_token, close_customer_links)
and what the staff API and the tracking page use.

Tokens are never stored: notices keep no link (it is made at send time), the console channel redacts
it; the table holds only generation numbers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.kernel.timefmt import utc
from deliveryhub.notifications.tables import tracking_links
from deliveryhub.pii.cipher import KeyRing

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

PURPOSE = "tracking links v2"
LEGACY_PURPOSE = "tracking links v1"  # permanent links sent before links had a life: now shown expired
MAC_CHARS = 22  # 128 bits of the HMAC
MAX_TOKEN = 400  # longer tokens are refused without decoding
DEFAULT_MAX_DAYS = 180
NO_KEY = "-"  # a hub without key-encryption keys (never in practice: bootstrap creates one)

# Why a link is not (or no longer) valid. "invalid" is a 404 (nothing recognisable); the others are 410.
VALID, INVALID, EXPIRED, REVOKED = "valid", "invalid", "expired", "revoked"


@dataclass(frozen=True)
class LinkCheck:
    """The verdict on one token: `order_id` is set only when the link is valid."""

    status: str  # valid | invalid | expired | revoked
    order_id: str | None = None
    reason: str | None = None  # tampered, legacy, key_rotated, revoked, cancelled, erased, delivered, issued

    @property
    def valid(self) -> bool:
        """Whether the link may show its order."""
        return self.status == VALID


@dataclass(frozen=True)
class _Parsed:
    order_id: str
    generation: int
    issued: int
    mac: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def tracking_key(keyring: KeyRing, kek_id: str | None = None) -> bytes:
    """The link key under key-encryption key `kek_id` (default: the key ring's active one)."""
    kid = kek_id if kek_id is not None else (keyring.active_kek_id or NO_KEY)
    key: bytes = keyring.master.derive(f"{PURPOSE}:{kid}")
    return key


def _mac(key: bytes, order_id: str, generation: int, issued: int) -> str:
    msg = b"\x00".join((b"track2", order_id.encode(), str(generation).encode(), str(issued).encode()))
    return _b64(hmac.new(key, msg, hashlib.sha256).digest())[:MAC_CHARS]


def make_token(key: bytes, order_id: str, generation: int = 1, issued_at: datetime | None = None) -> str:
    """A signed token for one order, generation and issue time (default: now)."""
    issued = int((issued_at or datetime.now(UTC)).timestamp())
    return f"{_b64(order_id.encode())}.{generation}.{issued}.{_mac(key, order_id, generation, issued)}"


def _parse(token: object) -> _Parsed | None:
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not token.isascii():
        return None  # compare_digest raises on non-ASCII text: refuse before decoding anything
    parts = token.split(".")
    if len(parts) != 4:
        return None
    head, gen, issued, mac = parts
    if not (gen.isdigit() and issued.isdigit() and 0 < len(gen) <= 9 and 0 < len(issued) <= 12):
        return None
    try:
        order_id = _unb64(head).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not order_id or len(order_id) > 128 or int(gen) < 1:
        return None
    return _Parsed(order_id, int(gen), int(issued), mac)


def _signed_by(key: bytes, p: _Parsed) -> bool:
    return hmac.compare_digest(_mac(key, p.order_id, p.generation, p.issued), p.mac)


def read_token(key: bytes, token: str) -> str | None:
    """The order id when the signature checks under `key` (signature only; the check is `resolve`)."""
    p = _parse(token)
    return p.order_id if p is not None and _signed_by(key, p) else None


def _legacy(keyring: KeyRing, token: object) -> bool:
    """Whether `token` is a genuine link of the first, permanent kind (base64url(order) "." MAC)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not token.isascii() or token.count(".") != 1:
        return False
    head, mac = token.split(".")
    try:
        order_id = _unb64(head).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    key = keyring.master.derive(LEGACY_PURPOSE)
    expected = _b64(hmac.new(key, b"track:" + order_id.encode(), hashlib.sha256).digest())[:MAC_CHARS]
    return bool(order_id) and hmac.compare_digest(expected, mac)


def _keys(conn: Connection) -> tuple[str, list[str]]:
    """(active key id, other key ids) from the key table, the truth shared by every process."""
    rows = conn.execute(sa.select(t.data_keys.c.key_id, t.data_keys.c.status)).all()
    active = next((r.key_id for r in rows if r.status == "active"), NO_KEY)
    return active, [r.key_id for r in rows if r.key_id != active]


@dataclass(frozen=True)
class LinkSettings:
    """What the links and the expired-link page need beyond the hub settings."""

    max_days: int = DEFAULT_MAX_DAYS  # hard cap on a link's life after issue
    shop_name: str = ""
    shop_contact: str = ""  # how customers reach the shop, shown on the expired-link page
    brand_color: str | None = None  # a shop's own colour on its tracking page (else DELIVERYHUB_SHOP_COLOR)


def _closed(conn: Connection, order_id: str) -> tuple[Any, str | None]:
    """(order row, why the order's links are closed or None)."""
    order = conn.execute(
        sa.select(
            *columns(t.orders, "order_id", "customer_id", "stage", "stage_at", "cancelled_at", "delivered_at")
        ).where(t.orders.c.order_id == order_id)
    ).first()
    if order is None:
        return None, None
    state = conn.execute(sa.select(tracking_links).where(tracking_links.c.order_id == order_id)).first()
    if state is not None and state.closed_reason:
        return order, str(state.closed_reason)
    if order.stage == "cancelled" or order.cancelled_at is not None:
        return order, "cancelled"
    if order.customer_id:
        erased = conn.execute(
            sa.select(t.customers.c.erased_at).where(t.customers.c.customer_id == order.customer_id)
        ).scalar()
        if erased is not None:
            return order, "erased"
    return order, None


def _generation(conn: Connection, order_id: str) -> int:
    gen = conn.execute(
        sa.select(tracking_links.c.generation).where(tracking_links.c.order_id == order_id)
    ).scalar()
    return int(gen) if gen else 1


def _opt_utc(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


class TrackingLinkService:
    """Issues and checks an order's tracking links; the hub's `core.links` port."""

    def __init__(self, core: Core, settings: LinkSettings | None = None) -> None:
        self.core = core
        self.settings = settings or LinkSettings()

    # ---------------------------------------------------------------- the one check
    def resolve_in(self, conn: Connection, token: str) -> LinkCheck:
        """`resolve` inside the caller's transaction."""
        keyring = self.core.keyring
        p = _parse(token)
        if p is None:
            return LinkCheck(EXPIRED, reason="legacy") if _legacy(keyring, token) else LinkCheck(INVALID)
        active, others = _keys(conn)
        if not _signed_by(tracking_key(keyring, active), p):
            if any(_signed_by(tracking_key(keyring, k), p) for k in others):
                return LinkCheck(REVOKED, reason="key_rotated")
            return LinkCheck(INVALID, reason="tampered")
        order, closed = _closed(conn, p.order_id)
        if order is None:
            return LinkCheck(INVALID, reason="no_order")
        if closed:
            return LinkCheck(REVOKED, reason=closed)
        if p.generation != _generation(conn, p.order_id):
            return LinkCheck(REVOKED, reason="revoked")
        now = utc(self.core.clock.now())
        delivered = _opt_utc(order.delivered_at) or (
            _opt_utc(order.stage_at) if order.stage in ("delivered", "returned") else None
        )
        after_delivery = timedelta(days=self.core.settings.tracking_link_days_after_delivery)
        if delivered is not None and now >= delivered + after_delivery:
            return LinkCheck(EXPIRED, reason="delivered")
        if now >= datetime.fromtimestamp(p.issued, UTC) + timedelta(days=self.settings.max_days):
            return LinkCheck(EXPIRED, reason="issued")
        return LinkCheck(VALID, order_id=p.order_id)

    def resolve(self, token: str) -> LinkCheck:
        """THE check for a tracking-link token: `.order_id` only for a valid, unexpired, unrevoked link.

        Used by the tracking page and the chatbot (`order_for_token`); never raises on bad input (a
        malformed token is INVALID)."""
        if _parse(token) is None and not _legacy(self.core.keyring, token):
            return LinkCheck(INVALID)  # no database work for garbage
        with self.core.db.read() as conn:
            return self.resolve_in(conn, token)

    def order_for_token(self, token: str) -> str | None:
        """The order a valid link shows, else None (the chatbot takes a valid link as proof of identity)."""
        return self.resolve(token).order_id

    # ---------------------------------------------------------------- issuing
    def issue_in(self, conn: Connection, order_id: str) -> str | None:
        """A new token for the order's current generation, or None when its links are closed."""
        order, closed = _closed(conn, order_id)
        if order is not None and closed:
            return None
        active, _ = _keys(conn)
        key = tracking_key(self.core.keyring, active)
        return make_token(key, order_id, _generation(conn, order_id), self.core.clock.now())

    def url(self, token: str) -> str:
        """Absolute address of the tracking page for a token."""
        return f"{self.core.settings.public_url.rstrip('/')}/track/{token}"

    def issue(self, order_id: str) -> str | None:
        """Absolute tracking-page address for an order (made when a notice is sent), or None if closed."""
        with self.core.db.read() as conn:
            token = self.issue_in(conn, order_id)
        return self.url(token) if token else None

    # ---------------------------------------------------------------- revoking
    def revoke_in(self, conn: Connection, order_id: str, reason: str, actor: str, *, close: bool) -> int:
        """Kill every link of an order (generation + 1); `close` also refuses new ones. The new generation."""
        now = self.core.clock.now()
        insert_or_ignore(
            conn,
            tracking_links,
            [{"order_id": order_id, "generation": 1, "changed_at": now, "changed_by": actor[:128]}],
            ["order_id"],
        )
        values: dict[str, Any] = {
            "generation": tracking_links.c.generation + 1,
            "reason": reason[:32],
            "changed_at": now,
            "changed_by": actor[:128],
        }
        if close:
            values["closed_reason"] = reason[:32]
        conn.execute(tracking_links.update().where(tracking_links.c.order_id == order_id).values(**values))
        return _generation(conn, order_id)

    def close_customer_links(self, conn: Connection, customer_id: str, reason: str = "erased") -> int:
        """Close the links of every order of a customer (erasure), in the caller's transaction; how many."""
        ids = sorted(
            conn.execute(
                sa.select(t.orders.c.order_id).where(t.orders.c.customer_id == customer_id)
            ).scalars()
        )
        for order_id in ids:  # fixed key order: no deadlock with a concurrent revoke on PostgreSQL
            self.revoke_in(conn, order_id, reason, f"system:{reason}", close=True)
        return len(ids)
