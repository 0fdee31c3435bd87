"""The `monitors` job: evaluate every time-based monitor over every open order (catches orders without
timers, e.g. imported before the monitors ran), and propose compensation for late deliveries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.orders import load_orders
from deliveryhub.monitors import compensation as comp
from deliveryhub.monitors import rules
from deliveryhub.monitors.context import Context
from deliveryhub.monitors.exceptions import active_for, open_exception
from deliveryhub.monitors.firing import SWEPT, evaluate
from deliveryhub.service_layer.scheduler import stop_requested

CHUNK = 500

_OPEN_ORDERS = (
    sa.select(t.orders.c.order_id)
    .where(
        t.orders.c.delivered_at.is_(None),
        t.orders.c.cancelled_at.is_(None),
        sa.or_(t.orders.c.side_state.is_(None), t.orders.c.side_state.not_in(["cancelled", "returned"])),
    )
    .order_by(t.orders.c.order_id)
)


def sweep(ctx: Context, now: datetime | None = None) -> dict[str, int]:
    """Evaluate the swept monitors over every open order, one write transaction per chunk of orders;
    returns how many exceptions of each type it opened and how many orders it evaluated."""
    now = now or ctx.now
    opened: dict[str, int] = {}
    with ctx.core.db.read() as conn:
        ids = list(conn.execute(_OPEN_ORDERS).scalars())
    for start in range(0, len(ids), CHUNK):
        if stop_requested():
            break
        ctx.reset_alerts()
        chunk = ids[start : start + CHUNK]
        with ctx.core.db.write() as conn:
            # An order's active exception of a type cannot be opened again: skip evaluating it (most
            # overdue orders already have theirs, from their timer or an earlier sweep).
            active = active_for(conn, chunk)
            for oid, order in load_orders(conn, chunk).items():
                if stop_requested():
                    break  # a stopping worker commits what it evaluated; the next sweep does the rest
                for type_ in SWEPT:
                    if type_ in active.get(oid, ()):
                        continue
                    f = evaluate(ctx, type_, order, now)
                    if f is not None and open_exception(ctx, conn, f, order, now):
                        opened[type_] = opened.get(type_, 0) + 1
                if order.promised_date is not None:
                    late = rules.days_late(order.promised_date, ctx.cal.local_date(now))
                    if late > 0:
                        comp.propose_and_arm(ctx, conn, oid, now, trigger="delivery_delay", days=late)
        ctx.send_alerts()
    opened["orders_evaluated"] = len(ids)
    return opened
