"""Right to erasure by crypto-shredding: a customer's data key and encrypted fields are dropped, their
orders and events stay (they never held personal data), so KPIs are unchanged. Every erasure is audited.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.audit import audit_log_of

PERSONAL_COLUMNS = ("name_enc", "phone_enc", "email_enc", "address_enc")


class NotFound(LookupError):
    """No such customer."""


def erase_in(
    conn: Connection, hub: Any, customer_id: str, actor: Any, reason: str, ip: str | None = None
) -> dict[str, Any]:
    """Shred one customer inside the caller's transaction; returns what was done."""
    row = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == customer_id)).first()
    if row is None:
        raise NotFound(customer_id)
    if row.erased_at is not None and row.dek_wrapped is None:
        return {"customer_id": customer_id, "erased": True, "already": True}
    now = hub.clock.now()
    fields = [c.removesuffix("_enc") for c in PERSONAL_COLUMNS if getattr(row, c) is not None]
    conn.execute(
        t.customers.update()
        .where(t.customers.c.customer_id == customer_id)
        .values(
            kek_id=None,
            dek_wrapped=None,
            name_enc=None,
            phone_enc=None,
            email_enc=None,
            address_enc=None,
            phone_bidx=None,
            email_bidx=None,
            erased_at=now,
            updated_at=now,
        )
    )
    close_links = hub.services.get("close_tracking_links") if hasattr(hub, "services") else None
    if close_links is not None:  # the customer's tracking links die with their data (same transaction)
        close_links(conn, customer_id)
    if (purge_photos := getattr(hub, "services", {}).get("purge_chat_uploads")) is not None:  # chatbot
        purge_photos(conn, customer_id)
    orders = (
        conn.execute(
            sa.select(sa.func.count()).select_from(t.orders).where(t.orders.c.customer_id == customer_id)
        ).scalar()
        or 0
    )
    audit_log_of(hub).record_in(
        conn,
        actor,
        "customer.erased",
        f"customer:{customer_id}",
        {"reason": reason[:500], "fields": fields, "orders_kept": int(orders), "method": "crypto-shredding"},
        ip,
    )
    hub.keyring.evict(row.kek_id, row.dek_wrapped)
    return {
        "customer_id": customer_id,
        "erased": True,
        "already": False,
        "fields": fields,
        "orders_kept": int(orders),
        "erased_at": now.isoformat(),
    }


def erase_customer(
    hub: Any, customer_id: str, actor: Any, reason: str, ip: str | None = None
) -> dict[str, Any]:
    """Shred one customer in its own transaction (audited in the same transaction)."""
    with hub.db.write() as conn:
        return erase_in(conn, hub, customer_id, actor, reason, ip)


def find_customer(hub: Any, *, phone: str | None = None, email: str | None = None) -> str | None:
    """A customer id by phone or e-mail, through the blind index (nothing decrypted)."""
    with hub.db.read() as conn:
        if phone:
            q = sa.select(t.customers.c.customer_id).where(
                t.customers.c.phone_bidx == hub.keyring.blind.phone(phone)
            )
        elif email:
            q = sa.select(t.customers.c.customer_id).where(
                t.customers.c.email_bidx == hub.keyring.blind.email(email)
            )
        else:
            return None
        value = conn.execute(q.limit(1)).scalar()
    return str(value) if value else None
