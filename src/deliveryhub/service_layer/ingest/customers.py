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
        for ev in created:
            ev.data["customer_id"] = self.customer_id(ev)
        changes = _owned_changes(conn, created, [ev for ev in events if ev.type == "order.address_changed"])
        return [_split_off(ev) for ev in created + changes]

    def write(self, conn: Connection, parts: list[CustomerPart], now: datetime) -> None:
        """Create or update each customer; rows are locked (or created) in id order first."""
        if not parts:
            return
        by_id: dict[str, list[CustomerPart]] = {}
        for part in parts:
            by_id.setdefault(part.customer_id, []).append(part)
        # Optimistic: each customer as new, under a fresh data key. The statement locks the customers that
        # exist (in id order) and creates the others; only the existing ones need a second look.
        fresh = {cid: self._as_new(cid, cparts, now) for cid, cparts in by_id.items()}
        rows = [tuple(row.get(c) for c in _ROW_COLUMNS) for row in fresh.values()]
        created = lock_or_create(conn, t.customers, _ROW_COLUMNS, rows, "customer_id")
        existing = sorted(set(by_id) - created)
        if existing:
            self._update_existing(conn, existing, by_id, fresh, now)

    def _as_new(self, cid: str, parts: list[CustomerPart], now: datetime) -> dict[str, Any]:
        """The customer's row as a new customer, under a fresh data key."""
        dek, kek_id, wrapped = self.keyring.new_dek(cid)
        return {
            **self._encrypted(cid, dek, parts),
            "customer_id": cid,
            "kek_id": kek_id,
            "dek_wrapped": wrapped,
            "pseudonym": "p" + self.keyring.blind.token("pseudonym", cid, 12),
            "created_at": now,
            "updated_at": now,
        }

    def _update_existing(
        self,
        conn: Connection,
        existing: list[str],
        by_id: dict[str, list[CustomerPart]],
        fresh: dict[str, dict[str, Any]],
        now: datetime,
    ) -> None:
        stored = {r.customer_id: r for r in conn.execute(_STORED_KEYS, {"ids": existing})}
        for cid in existing:
            row = stored[cid]
            new = fresh[cid]
            kek_id, wrapped = new["kek_id"], new["dek_wrapped"]
            values = {k: v for k, v in new.items() if k in _ENCRYPTED_COLUMNS}
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

    def _encrypted(self, cid: str, dek: bytes, parts: list[CustomerPart]) -> dict[str, Any]:
        """The encrypted personal-data columns (and blind indexes), the latest event's value winning."""
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


def _owned_changes(
    conn: Connection, created: list[CanonicalEvent], changes: list[CanonicalEvent]
) -> list[CanonicalEvent]:
    """The address changes whose order has a customer (stored, or created in this batch), marked with it."""
    if not changes:
        return []
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
    return owned


def _split_off(ev: CanonicalEvent) -> CustomerPart:
    """Take customer and address out of the event's data; the order keeps its region."""
    cust = ev.data.pop("customer", None) or {}
    addr = ev.data.pop("address", None)
    if ev.type == "order.created":
        ev.data["region"] = ev.data.get("region") or region_of({"address": addr or {}})
    if cust.get("external_id"):
        ev.data["customer_external"] = True
    return CustomerPart(str(ev.data["customer_id"]), ev, cust, addr)


_ENCRYPTED_COLUMNS = frozenset(
    {"name_enc", "phone_enc", "email_enc", "address_enc", "phone_bidx", "email_bidx"}
)
_STORED_KEYS = sa.select(
    t.customers.c.customer_id, t.customers.c.kek_id, t.customers.c.dek_wrapped, t.customers.c.erased_at
).where(t.customers.c.customer_id.in_(sa.bindparam("ids", expanding=True)))
