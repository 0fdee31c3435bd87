"""The aftersales feature's tables: one `returns` row per return or exchange, the workflow's projection
(status, each step's time, the inspection, the refund, the return waybill, the next step's deadline)."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import order_id_column, source_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# Each step's time column, by the status it records.
STEP_COLUMNS: dict[str, str] = {
    "requested": "requested_at",
    "pickup_booked": "pickup_booked_at",
    "picked_up": "picked_up_at",
    "received": "received_at",
    "inspected": "inspected_at",
    "inspection_failed": "inspected_at",
    "reshipped": "reshipped_at",
    "refunded": "refunded_at",
    "completed": "completed_at",
}

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("return_id", sa.String(64), primary_key=True),
    order_id_column(nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # return | exchange
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(2000)),
    sa.Column("reason_code", sa.String(32), nullable=False),
    sa.Column("fee", sa.Integer(), nullable=False, default=0),
    sa.Column("fee_payer", sa.String(16)),  # customer | shop (None: a marketplace's own claim)
    sa.Column("items", sa.JSON(), nullable=False),
    sa.Column("actor", sa.String(128)),  # who asked: chatbot, cs:<user>, a marketplace
    source_column(),  # the source of the request event
    sa.Column("via", sa.String(32)),  # who collects: carrier (the shop's port) or the marketplace
    sa.Column("marketplace_ref", sa.String(200)),
    timestamp("requested_at", nullable=False),
    timestamp("pickup_booked_at"),
    timestamp("picked_up_at"),
    timestamp("received_at"),
    timestamp("inspected_at"),
    timestamp("reshipped_at"),
    timestamp("refunded_at"),
    timestamp("completed_at"),
    sa.Column("carrier", sa.String(32)),
    sa.Column("return_tracking_no", sa.String(64)),
    sa.Column("pickup_ref", sa.String(200)),
    sa.Column("inspection_result", sa.String(8)),  # pass | fail
    sa.Column("inspection_note", sa.String(2000)),
    sa.Column("inspection_photo_id", sa.String(64)),
    sa.Column("inspected_by", sa.String(128)),
    sa.Column("refund_amount", sa.Integer()),
    sa.Column(
        "refund_status", sa.String(32)
    ),  # queued | duplicate | nothing_paid | over_refund | done | failed
    sa.Column("reship_tracking_no", sa.String(64)),
    timestamp("due_at"),
    sa.Column("stalled_step", sa.String(32)),  # the status whose deadline passed (exception opened once)
    sa.Column("problem", sa.String(500)),  # the last outside action that failed, in words
    timestamp("created_at", nullable=False),
    timestamp("updated_at", nullable=False),
    sa.Index("ix_returns_status_due", "status", "due_at"),
)
