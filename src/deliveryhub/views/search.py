"""Order search for the ops header: one box that finds an order by its number, a marketplace's own
order number (kept in the order's `order.created` data), a parcel's tracking number, or the customer's
phone through the blind index (the phone itself is never stored in clear or compared in clear)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.timefmt import iso
from deliveryhub.pii.cipher import KeyRing

# Fields of `order.created` data under which shops and connectors put a marketplace's order number.
_ORDER_IDS = ("marketplace_order_id", "channel_order_id", "external_order_id", "product_order_id")
MARKETPLACE_KEYS = (*_ORDER_IDS, "external_id", "order_no")
_SEP = re.compile(r"[\s\-]")
_PHONE = re.compile(r"^(?:\+?82|0)1[016789]\d{7,8}$")
MAX_QUERY = 64


def clean_query(q: str | None) -> str:
    """The query as typed, full-width characters folded, trimmed, at most 64 characters."""
    return unicodedata.normalize("NFKC", q or "").strip()[:MAX_QUERY]


def search_orders(conn: Connection, keyring: KeyRing, q: str | None, limit: int = 20) -> list[dict[str, Any]]:
    """Orders matching `q`, each with what it matched (`matched`): exact indexed matches (order no.,
    tracking no., phone) answer first; only when none matches are the slower scans tried."""
    text = clean_query(q)
    if len(text) < 2:
        return []
    compact = _SEP.sub("", text)
    found: dict[str, str] = {}

    def add(ids: Any, how: str) -> None:
        for oid in ids:
            found.setdefault(str(oid), how)

    orders, parcels = t.orders.c, t.parcels.c
    numbers = {text, compact}
    # Indexed look-ups first; the first kind that finds something answers.
    add(conn.execute(sa.select(orders.order_id).where(orders.order_id == text)).scalars(), "order_id")
    if not found:
        exact = sa.select(parcels.order_id).where(parcels.tracking_no.in_(numbers)).limit(limit)
        add(conn.execute(exact).scalars(), "tracking_no")
    if not found and _PHONE.match(compact):
        bidx = keyring.blind.phone(compact)
        add(
            conn.execute(
                sa.select(orders.order_id)
                .join(t.customers, t.customers.c.customer_id == orders.customer_id)
                .where(t.customers.c.phone_bidx == bidx)
                .order_by(orders.created_at.desc())
                .limit(limit)
            ).scalars(),
            "phone",
        )
    if found:
        return _rows(conn, found, limit)
    # Then the scans: the order number in any case, the tracking number as typed with hyphens, the
    # marketplace's own number in the order's data.
    lower = sa.select(orders.order_id).where(sa.func.lower(orders.order_id) == text.lower()).limit(limit)
    add(conn.execute(lower).scalars(), "order_id")
    plain = sa.func.replace(parcels.tracking_no, "-", "")
    add(
        conn.execute(sa.select(parcels.order_id).where(plain.in_(numbers)).limit(limit)).scalars(),
        "tracking_no",
    )
    if not found and len(text) >= 4:
        add(_marketplace_matches(conn, text, limit), "external_id")
    return _rows(conn, found, limit)


def _marketplace_matches(conn: Connection, text: str, limit: int) -> list[str]:
    """Orders whose `order.created` data names `text` under one of MARKETPLACE_KEYS."""
    inbox = t.inbox.c
    body = sa.cast(inbox.data, sa.Text)
    pattern = f'%"{text.replace(chr(92), "").replace(chr(34), "")}"%'
    rows = conn.execute(
        sa.select(inbox.order_id, inbox.data)
        .where(inbox.type == "order.created", body.like(pattern))
        .limit(limit * 5)
    ).all()
    out = []
    for order_id, data in rows:
        values = {str(data.get(k)) for k in MARKETPLACE_KEYS if isinstance(data, dict) and data.get(k)}
        if text in values and order_id:
            out.append(order_id)
    return out


def _rows(conn: Connection, found: dict[str, str], limit: int) -> list[dict[str, Any]]:
    if not found:
        return []
    ids = list(found)[:limit]
    o = t.orders.c
    rows = {
        r.order_id: r
        for r in conn.execute(
            sa.select(o.order_id, o.stage, o.channel, o.created_at, o.promised_date, o.delivered_at).where(
                o.order_id.in_(ids)
            )
        )
    }
    return [
        {
            "order_id": oid,
            "matched": found[oid],
            "stage": rows[oid].stage,
            "channel": rows[oid].channel,
            "created_at": iso(rows[oid].created_at),
            "promised_delivery_date": iso(rows[oid].promised_date),
            "delivered_at": iso(rows[oid].delivered_at),
        }
        for oid in ids
        if oid in rows
    ]
