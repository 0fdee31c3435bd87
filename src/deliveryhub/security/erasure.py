"""Right to erasure by crypto-shredding: a customer's data key and encrypted fields are dropped, their
orders and events stay (they never held personal data), so KPIs are unchanged. Every erasure is audited.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.security.audit import audit_log_of
from deliveryhub.service_layer.hub import Core

PERSONAL_COLUMNS = ("name_enc", "phone_enc", "email_enc", "address_enc")


class NotFound(LookupError):
    """No such customer."""


def erase_in(
    conn: Connection, core: Core, customer_id: str, actor: object, reason: str, ip: str | None = None
) -> dict[str, Any]:
    """Shred one customer inside the caller's transaction; returns what was done."""
    row = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == customer_id)).first()
    if row is None:
        raise NotFound(customer_id)
    if row.erased_at is not None and row.dek_wrapped is None:
        return {"customer_id": customer_id, "erased": True, "already": True}
    now = core.clock.now()
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
    # The customer's tracking links and uploaded photos die with their data, in the same transaction.
    core.links.close_customer_links(conn, customer_id, "erased")
    core.customer_files.purge_customer(conn, customer_id)
    orders = (
        conn.execute(
            sa.select(sa.func.count()).select_from(t.orders).where(t.orders.c.customer_id == customer_id)
        ).scalar()
        or 0
    )
    audit_log_of(core).record_in(
        conn,
        actor,
        "customer.erased",
        f"customer:{customer_id}",
        {"reason": reason[:500], "fields": fields, "orders_kept": int(orders), "method": "crypto-shredding"},
        ip,
    )
    core.keyring.evict(row.kek_id, row.dek_wrapped)
    return {
        "customer_id": customer_id,
        "erased": True,
        "already": False,
        "fields": fields,
        "orders_kept": int(orders),
        "erased_at": now.isoformat(),
    }


def erase_customer(
    core: Core, customer_id: str, actor: object, reason: str, ip: str | None = None
) -> dict[str, Any]:
    """Shred one customer in its own transaction (audited in the same transaction)."""
    with core.db.write() as conn:
        return erase_in(conn, core, customer_id, actor, reason, ip)


def find_customer(core: Core, *, phone: str | None = None, email: str | None = None) -> str | None:
    """A customer id by phone or e-mail, through the blind index (nothing decrypted)."""
    with core.db.read() as conn:
        if phone:
            q = sa.select(t.customers.c.customer_id).where(
                t.customers.c.phone_bidx == core.keyring.blind.phone(phone)
            )
        elif email:
            q = sa.select(t.customers.c.customer_id).where(
                t.customers.c.email_bidx == core.keyring.blind.email(email)
            )
        else:
            return None
        value = conn.execute(q.limit(1)).scalar()
    return str(value) if value else None
