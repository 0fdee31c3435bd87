"""State of the running connectors: polling schedule, carrier rate slots, unknown statuses, source silence."""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import (
    order_id_column,
    shipment_id_column,
    source_column,
    timestamp,
)
from deliveryhub.adapters.persistence.tables import metadata

# One row per in-flight parcel the poller knows; `lease_until` is the claim that keeps two workers apart.
connector_poll_state = sa.Table(
    "connector_poll_state",
    metadata,
    order_id_column(primary_key=True),
    shipment_id_column(primary_key=True),
    sa.Column("carrier", sa.String(32), nullable=False, index=True),
    sa.Column("tracking_no", sa.String(64), nullable=False),
    timestamp("next_poll_at", nullable=False, index=True),
    timestamp("lease_until"),
    timestamp("last_poll_at"),
    sa.Column("last_result", sa.String(32)),
    sa.Column("polls", sa.Integer(), nullable=False, default=0),
    sa.Column("failures", sa.Integer(), nullable=False, default=0),
)

# Per carrier API: the next request slot (rate limit shared by every worker), backoff and counters.
connector_carrier_state = sa.Table(
    "connector_carrier_state",
    metadata,
    sa.Column("carrier", sa.String(32), primary_key=True),
    timestamp("next_slot_at"),
    timestamp("backoff_until"),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False, default=0),
    sa.Column("requests", sa.Integer(), nullable=False, default=0),
    sa.Column("errors", sa.Integer(), nullable=False, default=0),
    timestamp("last_poll_at"),
    timestamp("last_success_at"),
    sa.Column("last_error", sa.String(500)),
    timestamp("last_error_at"),
)

# Raw carrier statuses no table could map, with counts, so ops can add a row to the carrier's table.
connector_unknown_statuses = sa.Table(
    "connector_unknown_statuses",
    metadata,
    sa.Column("carrier", sa.String(64), primary_key=True),
    sa.Column("raw", sa.String(200), primary_key=True),
    sa.Column("raw_code", sa.String(64)),
    sa.Column("raw_status", sa.String(500)),
    sa.Column("count", sa.Integer(), nullable=False, default=0),
    timestamp("first_seen_at", nullable=False),
    timestamp("last_seen_at", nullable=False),
    sa.Column("example_order_id", sa.String(128)),
)

# One open silence episode per source; `alerted_at` is claimed once so only one ops alert goes out.
connector_silence = sa.Table(
    "connector_silence",
    metadata,
    source_column(primary_key=True),
    timestamp("silent_since", nullable=False),
    timestamp("detected_at", nullable=False),
    timestamp("alerted_at"),
    sa.Column("alert_key", sa.String(200)),
)

# Every authenticated inbound push, keyed by who sent it and its delivery id (Shopify's X-Shopify-Webhook-Id,
# or a hash of a carrier's signature): a replayed delivery is recognised, and a Shopify body already heard
# under one topic cannot come back under another (the topic and webhook id are outside Shopify's HMAC).
connector_webhook_receipts = sa.Table(
    "connector_webhook_receipts",
    metadata,
    sa.Column("connector", sa.String(32), primary_key=True),
    sa.Column("account", sa.String(255), primary_key=True),  # shop domain; "" for carriers
    sa.Column("delivery_id", sa.String(128), primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("body_sha256", sa.String(64), nullable=False),
    timestamp("received_at", nullable=False, index=True),
    sa.Index("ix_connector_webhook_receipts_body", "connector", "body_sha256"),
)

# Orders a webhook push has told us something about: money those facts would trigger waits for a human
# (monitors/compensation.py reads this; the push is authenticated, but it is not an operator's decision).
connector_pushed_orders = sa.Table(
    "connector_pushed_orders",
    metadata,
    order_id_column(primary_key=True),
    source_column(primary_key=True),
    timestamp("first_pushed_at", nullable=False),
    timestamp("last_pushed_at", nullable=False),
    sa.Column("pushes", sa.Integer(), nullable=False, default=1),
)

# A waybill written back to the marketplace an order came from (발송처리 / 송장 업로드): one row per
# (source, order, tracking number), so a retried or replayed waybill never dispatches twice.
connector_writebacks = sa.Table(
    "connector_writebacks",
    metadata,
    source_column(primary_key=True),
    order_id_column(primary_key=True),
    sa.Column("tracking_no", sa.String(64), primary_key=True),
    shipment_id_column(),
    sa.Column("carrier", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending | done | dead
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    timestamp("next_attempt_at", nullable=False),
    timestamp("created_at", nullable=False),
    timestamp("done_at"),
    sa.Column("last_error", sa.String(500)),
)

# Where a polling marketplace connector left off (Naver's lastChangedFrom, Coupang's time window, Cafe24's
# catch-up date): one row per source, in each hub's (shop's) own database.
connector_cursors = sa.Table(
    "connector_cursors",
    metadata,
    source_column(primary_key=True),
    sa.Column("cursor", sa.String(500)),
    timestamp("updated_at"),
)
