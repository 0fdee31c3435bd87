"""Per-customer notification preferences: channel order, opt-outs, quiet hours, advertising consent,
language, and contact changes (stored encrypted with the customer's own data key)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.dialect import upsert
from deliveryhub.kernel.phone import is_mobile, normalize_kr_phone
from deliveryhub.notifications.policy import parse_hhmm
from deliveryhub.notifications.tables import notification_preferences as prefs_t
from deliveryhub.pii import dlp
from deliveryhub.pii.cipher import KeyRing, decrypt_field, encrypt_field
from deliveryhub.views.orders import customer_view

if TYPE_CHECKING:
    from deliveryhub.service_layer.hub import Core

CUSTOMER_CHANNELS = ("kakao", "sms", "email")
DEFAULT_ORDER = ("kakao", "sms", "email")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")


class PreferenceError(ValueError):
    """Invalid preference input; `field` names the offending field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class Preferences:
    """A customer's choices (defaults when nothing was set)."""

    customer_id: str
    channels: list[str] = field(default_factory=lambda: list(DEFAULT_ORDER))
    opt_out: set[str] = field(default_factory=set)
    quiet: tuple[time, time] | None = None
    ad_consent: bool = False
    lang: str = "ko"
    has_phone_override: bool = False
    has_email_override: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for the API (no contact data)."""
        return {
            "customer_id": self.customer_id,
            "channels": self.channels,
            "opt_out": sorted(self.opt_out),
            "quiet_hours": (
                {"start": self.quiet[0].strftime("%H:%M"), "end": self.quiet[1].strftime("%H:%M")}
                if self.quiet
                else None
            ),
            "ad_consent": self.ad_consent,
            "lang": self.lang,
            "phone_override": self.has_phone_override,
            "email_override": self.has_email_override,
        }


def get_preferences(conn: Connection, customer_id: str) -> Preferences:
    """Stored preferences or the defaults."""
    return preferences_of(conn, [customer_id])[customer_id]


def preferences_of(conn: Connection, customer_ids: Collection[str]) -> dict[str, Preferences]:
    """Each customer's stored preferences or the defaults, in one query (a consumer batch's customers)."""
    wanted = set(customer_ids)
    found: dict[str, Preferences] = {c: Preferences(c) for c in wanted}
    if not wanted:
        return found
    for row in conn.execute(sa.select(prefs_t).where(prefs_t.c.customer_id.in_(wanted))):
        quiet = None
        if row.quiet_start and row.quiet_end:
            quiet = (parse_hhmm(row.quiet_start), parse_hhmm(row.quiet_end))
        found[row.customer_id] = Preferences(
            row.customer_id,
            channels=list(row.channels or DEFAULT_ORDER),
            opt_out=set(row.opt_out or []),
            quiet=quiet,
            ad_consent=bool(row.ad_consent),
            lang=row.lang or "ko",
            has_phone_override=row.phone_enc is not None,
            has_email_override=row.email_enc is not None,
        )
    return found


def _channels(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PreferenceError(name, f"{name}: expected a list of channels ({', '.join(CUSTOMER_CHANNELS)})")
    bad = [v for v in value if v not in CUSTOMER_CHANNELS]
    if bad:
        raise PreferenceError(
            name, f"{name}: unknown channel {bad[0]!r} (one of {', '.join(CUSTOMER_CHANNELS)})"
        )
    return list(dict.fromkeys(value))


def validate_phone(value: Any) -> str:
    """A Korean mobile number (010-1234-5678, +82 10 1234 5678) or a ValueError."""
    if not isinstance(value, str):
        raise PreferenceError("phone", "phone: expected a string")
    e164 = normalize_kr_phone(value)
    if e164 is None or not is_mobile(e164):
        raise PreferenceError("phone", "phone: expected a Korean mobile number like 010-1234-5678")
    return value.strip()


def update_preferences(
    conn: Connection, keyring: KeyRing, customer_id: str, changes: dict[str, Any], now: datetime
) -> Preferences:
    """Apply a partial update (only the given fields change); raises PreferenceError / LookupError."""
    cust = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == customer_id)).first()
    if cust is None:
        raise LookupError(customer_id)
    current = conn.execute(sa.select(prefs_t).where(prefs_t.c.customer_id == customer_id)).first()
    row: dict[str, Any] = (
        dict(current._mapping)
        if current is not None
        else {
            "customer_id": customer_id,
            "channels": None,
            "opt_out": [],
            "quiet_start": None,
            "quiet_end": None,
            "ad_consent": False,
            "ad_consent_at": None,
            "lang": None,
            "phone_enc": None,
            "email_enc": None,
        }
    )
    unknown = set(changes) - {"channels", "opt_out", "quiet_hours", "ad_consent", "lang", "phone", "email"}
    if unknown:
        name = sorted(unknown)[0]
        raise PreferenceError(name, f"{name}: unknown field")
    if "channels" in changes:
        row["channels"] = _channels(changes["channels"], "channels") or None
    if "opt_out" in changes:
        row["opt_out"] = _channels(changes["opt_out"], "opt_out")
    if "quiet_hours" in changes:
        q = changes["quiet_hours"]
        if q is None:
            row["quiet_start"] = row["quiet_end"] = None
        else:
            if not isinstance(q, dict):
                raise PreferenceError(
                    "quiet_hours", 'quiet_hours: expected {"start": "22:00", "end": "08:00"}'
                )
            for part in ("start", "end"):
                try:
                    parse_hhmm(str(q.get(part)))
                except ValueError as exc:
                    raise PreferenceError(f"quiet_hours.{part}", f"quiet_hours.{part}: {exc}") from None
            row["quiet_start"], row["quiet_end"] = str(q["start"]), str(q["end"])
    if "ad_consent" in changes:
        if not isinstance(changes["ad_consent"], bool):
            raise PreferenceError("ad_consent", "ad_consent: expected true or false")
        row["ad_consent"] = changes["ad_consent"]
        row["ad_consent_at"] = now
    if "lang" in changes:
        if changes["lang"] not in ("ko", "en"):
            raise PreferenceError("lang", "lang: expected ko or en")
        row["lang"] = changes["lang"]
    if "phone" in changes or "email" in changes:
        if cust.erased_at is not None or cust.dek_wrapped is None:
            raise PreferenceError("customer_id", "customer_id: the customer's personal data was erased")
        dek = keyring.unwrap_dek(customer_id, cust.kek_id, cust.dek_wrapped)
        if "phone" in changes:
            phone = None if changes["phone"] is None else validate_phone(changes["phone"])
            row["phone_enc"] = encrypt_field(dek, customer_id, "notify_phone", phone)
        if "email" in changes:
            email = changes["email"]
            if email is not None and (not isinstance(email, str) or not _EMAIL.match(email.strip())):
                raise PreferenceError("email", "email: expected an e-mail address like name@example.com")
            row["email_enc"] = encrypt_field(
                dek, customer_id, "notify_email", email.strip() if email else None
            )
    row["updated_at"] = now
    upsert(conn, prefs_t, [row], ["customer_id"])
    return get_preferences(conn, customer_id)


def contact(conn: Connection, keyring: KeyRing, customer_id: str | None) -> dict[str, str | None]:
    """The customer's current name, phone and e-mail, decrypted at send time (overrides first)."""
    out: dict[str, str | None] = {"name": None, "phone": None, "email": None}
    if not customer_id:
        return out
    view = customer_view(conn, keyring, customer_id, "full") or {}
    if view.get("erased"):
        return out
    out.update({"name": view.get("name"), "phone": view.get("phone"), "email": view.get("email")})
    row = conn.execute(
        sa.select(prefs_t.c.phone_enc, prefs_t.c.email_enc).where(prefs_t.c.customer_id == customer_id)
    ).first()
    if row is not None and (row.phone_enc is not None or row.email_enc is not None):
        cust = conn.execute(
            sa.select(t.customers.c.kek_id, t.customers.c.dek_wrapped).where(
                t.customers.c.customer_id == customer_id
            )
        ).first()
        if cust is not None and cust.dek_wrapped is not None:
            dek = keyring.unwrap_dek(customer_id, cust.kek_id, cust.dek_wrapped)
            if row.phone_enc is not None:
                out["phone"] = decrypt_field(dek, customer_id, "notify_phone", row.phone_enc)
            if row.email_enc is not None:
                out["email"] = decrypt_field(dek, customer_id, "notify_email", row.email_enc)
    return out


def mask_contact(channel: str, value: str | None) -> str | None:
    """What CS may see of a recipient: 010-****-****, h***@example.com."""
    if not value:
        return None
    if channel in ("kakao", "sms"):
        return dlp.mask_phone(value)
    if channel == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value if channel in ("webhook", "console") else "***"


class PreferenceService:
    """Customer notification preferences for the chatbot, the CS desk and the API (own transactions)."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def get(self, customer_id: str) -> Preferences:
        """Stored preferences or the defaults."""
        with self.core.db.read() as conn:
            return get_preferences(conn, customer_id)

    def update(self, customer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Apply a partial update; the new preferences (raises PreferenceError / LookupError)."""
        with self.core.db.write() as conn:
            return update_preferences(
                conn, self.core.keyring, customer_id, changes, self.core.clock.now()
            ).as_dict()
