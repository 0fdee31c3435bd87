"""The order's current delivery address and contact, decrypted in memory at send time only (never stored
in an action's payload, so an erased customer's data is gone from the ledger too)."""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.pii.cipher import KeyRing, decrypt_field


def order_contact(conn: Connection, keyring: KeyRing, order_id: str) -> dict[str, Any] | None:
    """{zip, line1, line2, name, phone} of the order's customer now; None when unknown or erased."""
    c = t.customers
    row = conn.execute(
        sa.select(c.c.customer_id, c.c.kek_id, c.c.dek_wrapped, c.c.address_enc, c.c.name_enc, c.c.phone_enc)
        .join(t.orders, t.orders.c.customer_id == c.c.customer_id)
        .where(t.orders.c.order_id == order_id, c.c.erased_at.is_(None))
    ).first()
    if row is None or row.address_enc is None or row.dek_wrapped is None:
        return None
    dek = keyring.unwrap_dek(row.customer_id, row.kek_id, row.dek_wrapped)
    text = decrypt_field(dek, row.customer_id, "address", row.address_enc)
    address = orjson.loads(text) if text else None
    if not isinstance(address, dict):
        return None
    out: dict[str, Any] = {k: address.get(k) for k in ("zip", "line1", "line2") if address.get(k)}
    name = decrypt_field(dek, row.customer_id, "name", row.name_enc)
    phone = decrypt_field(dek, row.customer_id, "phone", row.phone_enc)
    if name:
        out["name"] = name
    if phone:
        out["phone"] = phone
    return out
