"""Customer records of the ingest transaction: personal data leaves the event, is encrypted under the
customer's data key and written to `customers`, race-free when batches of one customer arrive together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.keyorder import lock_or_create
from deliveryhub.contracts.events import CanonicalEvent
from deliveryhub.pii.cipher import KeyRing, encrypt_field

_ROW_COLUMNS = (
    "customer_id",
    "phone_bidx",
    "email_bidx",
    "kek_id",
    "dek_wrapped",
    "name_enc",
    "phone_enc",
    "email_enc",
    "address_enc",
    "pseudonym",
    "created_at",
    "updated_at",
    "erased_at",
)


@dataclass
class CustomerPart:
    """What one event says about its customer (taken out of the event's data before it is stored)."""

    customer_id: str
    event: CanonicalEvent
    customer: dict[str, Any]
    address: Any


def region_of(data: dict[str, Any]) -> str | None:
    """Region of an order: given, the address's state, or the first word of its first line."""
    if data.get("region"):
        return str(data["region"])[:64]
    addr = data.get("address") or {}
    if addr.get("state"):
        return str(addr["state"])[:64]
    line1 = str(addr.get("line1") or "").strip()
    return line1.split()[0][:64] if line1 else None


class CustomerWriter:
    """Splits personal data off events (`take`) and writes it encrypted (`write`)."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def customer_id(self, ev: CanonicalEvent) -> str:
        """Stable pseudonymous id: external id, else phone, else email, else the order."""
        cust = ev.data.get("customer") or {}
        blind = self.keyring.blind
        if cust.get("external_id"):
            return "c" + blind.token("ext", f"{ev.source}:{cust['external_id']}", 19)
        if cust.get("phone"):
            return "c" + blind.token("phone", blind.phone(cust["phone"]), 19)
        if cust.get("email"):
            return "c" + blind.token("email", blind.email(cust["email"]), 19)
        return "c" + blind.token("order", ev.order_id or ev.event_id, 19)

    def take(self, conn: Connection, events: list[CanonicalEvent]) -> list[CustomerPart]:
        """Move customer and address out of order.created / order.address_changed data (in memory)."""
        created = [ev for ev in events if ev.type == "order.created"]
        changes = [ev for ev in events if ev.type == "order.address_changed"]
        if not created and not changes:
            return []
        parts: list[CustomerPart] = []
        for ev in created:
            ev.data["customer_id"] = self.customer_id(ev)
        if changes:
            # Address changes belong to the order's customer (stored, or created in this batch).
            owner = dict(
                conn.execute(
                    sa.select(t.orders.c.order_id, t.orders.c.customer_id).where(
                        t.orders.c.order_id.in_(sorted({str(ev.order_id) for ev in changes}))
                    )
                ).all()
            )
            created_here = {ev.order_id: ev.data["customer_id"] for ev in created}
            owned = []
            for ev in changes:
                owner_id = owner.get(ev.order_id) or created_here.get(ev.order_id)
                if owner_id:
                    ev.data["customer_id"] = owner_id
                    owned.append(ev)
            changes = owned
        for ev in created + changes:
            cust = ev.data.pop("customer", None) or {}
            addr = ev.data.pop("address", None)
            if ev.type == "order.created":
                ev.data["region"] = ev.data.get("region") or region_of({"address": addr or {}})
            if cust.get("external_id"):
                ev.data["customer_external"] = True
            parts.append(CustomerPart(str(ev.data["customer_id"]), ev, cust, addr))
        return parts

    def _encrypted(self, cid: str, dek: bytes, parts: list[CustomerPart]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for part in sorted(parts, key=lambda p: p.event.occurred_at):
            cust, addr = part.customer, part.address
            if cust.get("name"):
                values["name_enc"] = encrypt_field(dek, cid, "name", cust["name"])
            if cust.get("phone"):
                values["phone_enc"] = encrypt_field(dek, cid, "phone", cust["phone"])
                values["phone_bidx"] = self.keyring.blind.phone(cust["phone"])
            if cust.get("email"):
                values["email_enc"] = encrypt_field(dek, cid, "email", cust["email"])
                values["email_bidx"] = self.keyring.blind.email(cust["email"])
            if addr:
                values["address_enc"] = encrypt_field(dek, cid, "address", orjson.dumps(addr).decode())
        return values

    def write(self, conn: Connection, parts: list[CustomerPart], now: datetime) -> None:
        """Create or update each customer; rows are locked (or created) in id order first."""
        if not parts:
            return
        by_id: dict[str, list[CustomerPart]] = {}
        for part in parts:
            by_id.setdefault(part.customer_id, []).append(part)
        # Optimistic: each customer as new, under a fresh data key. The statement locks the customers that
        # exist (in id order) and creates the others; only the existing ones need a second look.
        fresh: dict[str, tuple[bytes, str, bytes, dict[str, Any]]] = {}
        rows = []
        for cid, cparts in by_id.items():
            dek, kek_id, wrapped = self.keyring.new_dek(cid)
            values = self._encrypted(cid, dek, cparts)
            fresh[cid] = (dek, kek_id, wrapped, values)
            full = {
                **values,
                "customer_id": cid,
                "kek_id": kek_id,
                "dek_wrapped": wrapped,
                "pseudonym": "p" + self.keyring.blind.token("pseudonym", cid, 12),
                "created_at": now,
                "updated_at": now,
            }
            rows.append(tuple(full.get(c) for c in _ROW_COLUMNS))
        created = lock_or_create(conn, t.customers, _ROW_COLUMNS, rows, "customer_id")
        existing = sorted(set(by_id) - created)
        if not existing:
            return
        stored = {
            r.customer_id: r
            for r in conn.execute(
                sa.select(
                    t.customers.c.customer_id,
                    t.customers.c.kek_id,
                    t.customers.c.dek_wrapped,
                    t.customers.c.erased_at,
                ).where(t.customers.c.customer_id.in_(existing))
            )
        }
        for cid in existing:
            row = stored[cid]
            _dek, kek_id, wrapped, values = fresh[cid]
            if row.erased_at is None and row.dek_wrapped:
                # Keep the customer's own key: re-encrypt under it.
                dek = self.keyring.unwrap_dek(cid, row.kek_id, row.dek_wrapped)
                kek_id, wrapped = row.kek_id, row.dek_wrapped
                values = self._encrypted(cid, dek, by_id[cid])
            conn.execute(
                t.customers.update()
                .where(t.customers.c.customer_id == cid)
                .values(kek_id=kek_id, dek_wrapped=wrapped, updated_at=now, erased_at=None, **values)
            )
