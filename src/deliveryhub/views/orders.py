"""Order read models: the detail view (timeline, parcels, tracking) and the filtered list."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.adapters.persistence.orders import load_order
from deliveryhub.domain.order import Order, Parcel
from deliveryhub.kernel.timefmt import iso
from deliveryhub.pii import dlp
from deliveryhub.pii.cipher import KeyRing, decrypt_field
from deliveryhub.service_layer.ports import AuditTrail


def customer_view(
    conn: Connection, keyring: KeyRing, customer_id: str | None, level: str
) -> dict[str, Any] | None:
    """A customer's personal data at the visibility `level` (full, masked, pseudonym, none)."""
    if not customer_id or level == "none":
        return None
    row = conn.execute(sa.select(t.customers).where(t.customers.c.customer_id == customer_id)).first()
    if row is None:
        return None
    if level == "pseudonym":
        return {"customer_id": row.pseudonym}
    if row.erased_at is not None or row.dek_wrapped is None:
        return {"customer_id": customer_id, "erased": True}
    dek = keyring.unwrap_dek(customer_id, row.kek_id, row.dek_wrapped)
    name = decrypt_field(dek, customer_id, "name", row.name_enc)
    phone = decrypt_field(dek, customer_id, "phone", row.phone_enc)
    email = decrypt_field(dek, customer_id, "email", row.email_enc)
    address_raw = decrypt_field(dek, customer_id, "address", row.address_enc)
    address = orjson.loads(address_raw) if address_raw else None
    if level == "full":
        return {"customer_id": customer_id, "name": name, "phone": phone, "email": email, "address": address}
    masked_addr = None
    if address:
        line1 = str(address.get("line1") or "")
        masked_addr = {
            "zip": (str(address.get("zip") or "")[:3] + "**") if address.get("zip") else None,
            "line1": " ".join(line1.split()[:2]) + " ***" if line1 else None,
        }
    return {
        "customer_id": customer_id,
        "name": dlp.mask_name(name),
        "phone": dlp.mask_phone(phone),
        "email": dlp.mask_text(email) if email else None,
        "address": masked_addr,
    }


def audit_customer_shown(
    audit: AuditTrail, principal: Any, customer: dict[str, Any] | None, level: str, why: str
) -> None:
    """Record the personal-data read of a `customer_view` result shown in full or masked (a pseudonym
    or nothing shown is no read)."""
    if customer and level in ("full", "masked"):
        audit.pii_read(principal, customer.get("customer_id"), list(customer), why)


def order_exists(conn: Connection, order_id: str) -> bool:
    """Whether the hub knows the order."""
    return (
        conn.execute(sa.select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)).first()
        is not None
    )


def order_detail(conn: Connection, order_id: str) -> dict[str, Any] | None:
    """Order, stage timeline, event timeline, parcels with tracking history, claims (no personal data)."""
    order = load_order(conn, order_id)
    if order is None:
        return None
    events = conn.execute(_EVENTS_Q, {"oid": order_id}).all()
    tracking = _tracking(events, order_id)
    eta = None
    for p in order.parcels:
        if p.eta_min and p.eta_max:
            eta = {"eta_min": iso(p.eta_min), "eta_max": iso(p.eta_max)}
    return {
        **_order_fields(order),
        "timeline": [_stage_entry(s) for s in conn.execute(_TIMELINE_Q, {"oid": order_id})],
        "events": [_event_entry(e) for e in events],
        "parcels": [_parcel_entry(p, tracking.get(p.shipment_id, [])) for p in order.parcels],
        "eta": eta,
        "claims": [_claim_entry(e) for e in events if e.type.startswith(CLAIM_EVENTS)],
    }


# Events that make up the order's claims section: claims, returns, exchanges, compensation.
CLAIM_EVENTS = ("claim.", "return.", "exchange.", "compensation.")


def _claim_entry(e: Any) -> dict[str, Any]:
    data = e.data or {}
    return {
        "type": e.type,
        "occurred_at": iso(e.occurred_at),
        "kind": data.get("kind") or data.get("claim_kind"),
        "amount": data.get("amount"),
        "reason": data.get("reason"),
    }


_TIMELINE_Q = (
    sa.select(t.order_stages)
    .where(t.order_stages.c.order_id == sa.bindparam("oid"))
    .order_by(t.order_stages.c.occurred_at)
)
_EVENTS_Q = (
    sa.select(*columns(t.inbox, "event_id", "source", "type", "occurred_at", "shipment_id", "data", "manual"))
    .where(t.inbox.c.order_id == sa.bindparam("oid"))
    .order_by(t.inbox.c.occurred_at, t.inbox.c.id)
)


# API name -> attribute of the Order / row (every value goes through `iso`).
_DETAIL_FIELDS = {
    "order_id": "order_id",
    "stage": "stage",
    "stage_at": "stage_at",
    "side_state": "side_state",
    "channel": "channel",
    "total": "total",
    "promised_delivery_date": "promised_date",
    "warehouse": "warehouse",
    "region": "region",
    "category": "category",
    "created_at": "created_at",
    "paid_at": "paid_at",
    "delivered_at": "delivered_at",
    "customer_id": "customer_id",
}
_LIST_FIELDS = (
    "order_id",
    "stage",
    "created_at",
    "channel",
    "total",
    "promised_delivery_date",
    "delivered_at",
    "region",
)


def _fields(obj: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: iso(getattr(obj, _DETAIL_FIELDS[name])) for name in names}


def _order_fields(order: Order) -> dict[str, Any]:
    return _fields(order, tuple(_DETAIL_FIELDS))


def _tracking(events: Sequence[Any], order_id: str) -> dict[str, list[dict[str, Any]]]:
    """Each parcel's tracking history (its shipment events), oldest first."""
    tracking: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.type.startswith("shipment."):
            tracking.setdefault(e.shipment_id or order_id, []).append(
                {
                    "type": e.type,
                    "occurred_at": iso(e.occurred_at),
                    "source": e.source,
                    "status": e.data.get("status"),
                    "raw_status": e.data.get("raw_status"),
                    "raw_code": e.data.get("raw_code"),
                    "location": e.data.get("location"),
                    "message": e.data.get("message"),
                    "reason": e.data.get("reason"),
                }
            )
    return tracking


def _stage_entry(s: Any) -> dict[str, Any]:
    return {
        "stage": s.stage,
        "occurred_at": iso(s.occurred_at),
        "source": s.source,
        "automatic": bool(s.automatic),
        "manual": not s.automatic,
    }


# What an after-sales or outside-action event adds to its name on the timeline (views.story.event_detail);
# ids, codes and amounts only (free text such as `message` is DLP-masked at ingest).
_EVENT_FACTS = (
    "action",
    "system",
    "message",
    "reason_code",
    "fee",
    "fee_payer",
    "amount",
    "result",
    "return_id",
    "carrier",
)


def _event_entry(e: Any) -> dict[str, Any]:
    data = e.data if isinstance(e.data, dict) else {}
    return {
        "event_id": e.event_id,
        "type": e.type,
        "occurred_at": iso(e.occurred_at),
        "source": e.source,
        "shipment_id": e.shipment_id,
        "manual": bool(e.manual),
        "data": {k: data[k] for k in _EVENT_FACTS if k in data},
    }


def _parcel_entry(p: Parcel, tracking: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "shipment_id": p.shipment_id,
        "carrier": p.carrier,
        "tracking_no": p.tracking_no,
        "status": p.status,
        "status_at": iso(p.status_at),
        "handed_over_at": iso(p.handed_over_at),
        "delivered_at": iso(p.delivered_at),
        "eta": {"eta_min": iso(p.eta_min), "eta_max": iso(p.eta_max)} if p.eta_min else None,
        "tracking": tracking,
    }


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadCursor(ValueError):
    """The pagination cursor cannot be decoded."""


def encode_cursor(created_at: datetime | None, order_id: str) -> str:
    """Opaque keyset cursor."""
    return base64.urlsafe_b64encode(orjson.dumps([iso(created_at), order_id])).decode()


def decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """Inverse of `encode_cursor`."""
    try:
        created, oid = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return (datetime.fromisoformat(created) if created else None), str(oid)
    except Exception as exc:
        raise BadCursor("cursor is not valid") from exc


@dataclass(frozen=True)
class OrderFilter:
    """Which orders `list_orders` lists: stage, a parcel's carrier, created between two dates (either
    open), an id set."""

    stage: str | None = None
    carrier: str | None = None
    created: tuple[date | None, date | None] = (None, None)
    order_ids: list[str] | None = None


def list_orders(
    conn: Connection, flt: OrderFilter, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Orders newest first, filtered, with a keyset cursor."""
    q = _filtered(_LIST_Q, flt)
    created = sa.func.coalesce(t.orders.c.created_at, EPOCH)
    if cursor:
        c_created, c_oid = decode_cursor(cursor)
        pivot = c_created or EPOCH
        q = q.where(sa.or_(created < pivot, sa.and_(created == pivot, t.orders.c.order_id < c_oid)))
    rows = conn.execute(q.order_by(created.desc(), t.orders.c.order_id.desc()).limit(limit + 1)).all()
    last = rows[limit - 1] if len(rows) > limit else None
    return {
        "orders": [_list_item(r) for r in rows[:limit]],
        "next_cursor": encode_cursor(last.created_at, last.order_id) if last is not None else None,
    }


_LIST_Q = sa.select(*columns(t.orders, *(_DETAIL_FIELDS[name] for name in _LIST_FIELDS)))


def _filtered(q: sa.Select[Any], flt: OrderFilter) -> sa.Select[Any]:
    if flt.stage:
        q = q.where(t.orders.c.stage == flt.stage)
    if flt.carrier:
        by_carrier = sa.select(t.parcels.c.order_id).where(t.parcels.c.carrier == flt.carrier)
        q = q.where(t.orders.c.order_id.in_(by_carrier))
    date_from, date_to = flt.created
    if date_from:
        q = q.where(t.orders.c.created_at >= datetime.combine(date_from, time.min, UTC))
    if date_to:
        q = q.where(t.orders.c.created_at < datetime.combine(date_to, time.max, UTC))
    if flt.order_ids is not None:
        q = q.where(t.orders.c.order_id.in_(flt.order_ids))
    return q


def _list_item(r: Any) -> dict[str, Any]:
    return _fields(r, _LIST_FIELDS)
