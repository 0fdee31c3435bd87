"""Tables of the CS feature: chat sessions and messages, tickets and their messages, SLA alerts, FAQ,
unanswered questions and CSAT surveys. Free text is stored DLP-masked; personal data stays in `customers`.
"""

from __future__ import annotations

import sqlalchemy as sa

from deliveryhub.adapters.persistence.columns import customer_id_column, id_column, order_id_column, timestamp
from deliveryhub.adapters.persistence.tables import metadata

# One customer conversation with the bot. `state`: bot | handed_off | closed. `pending` holds what the
# bot is waiting for (order number, phone digits, an address, a yes/no to an offer).
chat_sessions = sa.Table(
    "chat_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    timestamp("created_at", nullable=False, index=True),
    timestamp("updated_at", nullable=False),
    sa.Column("lang", sa.String(2), nullable=False, default="ko"),
    sa.Column("state", sa.String(16), nullable=False, default="bot"),
    order_id_column(index=True),
    customer_id_column(index=True),
    sa.Column("verified", sa.Boolean(), nullable=False, default=False),
    timestamp("verified_at"),
    sa.Column("verify_failures", sa.Integer(), nullable=False, default=0),
    sa.Column("pending", sa.JSON()),
    sa.Column("low_conf_streak", sa.Integer(), nullable=False, default=0),
    sa.Column("clarified", sa.Boolean(), nullable=False, default=False),
    sa.Column("ticket_id", sa.BigInteger()),
    timestamp("handed_off_at"),
    sa.Column("client_ip", sa.String(64)),
    sa.Column("last_intent", sa.String(32)),
    sa.Column("bot_answers", sa.Integer(), nullable=False, default=0),
    sa.Column("voc_category", sa.String(32)),
    sa.Column("voc_sentiment", sa.String(16)),
    sa.Column("emitted", sa.JSON()),  # canonical events already recorded for this conversation
    # How the customer proved identity: "digits" (order number + phone digits) or "link" (a notification's
    # signed link: view-only, acting needs the digits too).
    sa.Column("verified_by", sa.String(8)),
)

# Durable counters of failed identity checks per order, per customer and per client address (hashed),
# shared by every session and API worker. `locks` drives the backoff: each further lock lasts twice as long.
chat_verify_guard = sa.Table(
    "chat_verify_guard",
    metadata,
    sa.Column("scope", sa.String(8), primary_key=True),  # order | customer | ip
    sa.Column("key", sa.String(128), primary_key=True),  # order id | customer id | keyed hash of the address
    sa.Column("failures", sa.Integer(), nullable=False, default=0),  # in the current window
    timestamp("window_start"),
    timestamp("last_failure_at"),
    sa.Column("locks", sa.Integer(), nullable=False, default=0),
    timestamp("locked_until", index=True),
)

# Photos customers uploaded in the chat. The bytes live encrypted on disk under a per-file key, which is
# stored here sealed with the hub's upload key: deleting the row shreds the file even in a backup.
chat_attachments = sa.Table(
    "chat_attachments",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("session_id", sa.String(64), nullable=False, index=True),
    order_id_column(index=True),
    customer_id_column(index=True),
    timestamp("created_at", nullable=False, index=True),
    sa.Column("content_type", sa.String(32), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("key_enc", sa.LargeBinary(), nullable=False),
)

chat_messages = sa.Table(
    "chat_messages",
    metadata,
    id_column(),
    sa.Column("session_id", sa.String(64), nullable=False),
    timestamp("at", nullable=False),
    sa.Column("role", sa.String(12), nullable=False),  # customer | bot | agent | system
    sa.Column("text", sa.String(4000), nullable=False),  # DLP-masked
    sa.Column("intent", sa.String(32)),
    sa.Column("confidence", sa.Float()),
    sa.Index("ix_chat_messages_session_id", "session_id", "id"),
)

# The CS desk. status: open | pending (waiting for the customer; SLA paused) | solved.
tickets = sa.Table(
    "tickets",
    metadata,
    id_column(),
    timestamp("created_at", nullable=False, index=True),
    timestamp("updated_at", nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # chat | email | api | claim
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="open", index=True),
    sa.Column("priority", sa.String(8), nullable=False, default="normal"),
    sa.Column("priority_rank", sa.SmallInteger(), nullable=False, default=2),
    sa.Column("assignee", sa.String(128), index=True),
    sa.Column("session_id", sa.String(64), index=True),
    order_id_column(index=True),
    customer_id_column(index=True),
    sa.Column("customer_verified", sa.Boolean(), nullable=False, default=False),
    sa.Column("requester_enc", sa.LargeBinary()),  # sealed e-mail address of an e-mail requester
    sa.Column("requester_masked", sa.String(200)),
    sa.Column("reason", sa.String(64)),
    sa.Column("summary", sa.String(2000)),
    sa.Column("voc_category", sa.String(32), index=True),
    sa.Column("voc_sentiment", sa.String(16)),
    sa.Column(
        "source_ref", sa.String(200), unique=True
    ),  # idempotency key of the origin (claim event, mail id)
    sa.Column("canonical_id", sa.String(128), nullable=False),  # ticket_id in canonical ticket.* events
    timestamp("first_response_at"),
    timestamp("last_customer_at"),
    timestamp("last_agent_at"),
    timestamp("awaiting_reply_since"),
    timestamp("resolved_at"),
    timestamp("first_due"),
    timestamp("next_due"),
    timestamp("resolve_due"),
    timestamp("paused_at"),
    sa.Column("sla_missed", sa.JSON()),
)

ticket_messages = sa.Table(
    "ticket_messages",
    metadata,
    id_column(),
    sa.Column("ticket_id", sa.BigInteger(), nullable=False),
    timestamp("at", nullable=False),
    sa.Column("author_kind", sa.String(12), nullable=False),  # customer | agent | bot | system | note
    sa.Column("author", sa.String(128)),
    sa.Column("text", sa.String(20000), nullable=False),  # DLP-masked
    sa.Index("ix_ticket_messages_ticket_id", "ticket_id", "id"),
)

# One row per SLA breach that was acted on: the unique key makes "alert once" hold across workers.
ticket_sla_alerts = sa.Table(
    "ticket_sla_alerts",
    metadata,
    sa.Column("ticket_id", sa.BigInteger(), primary_key=True),
    sa.Column("metric", sa.String(64), primary_key=True),  # first_response | next_response:<n> | resolution
    timestamp("at", nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
)

faq_entries = sa.Table(
    "faq_entries",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("topic", sa.String(32), nullable=False, default="other"),
    sa.Column("question_ko", sa.String(500), nullable=False),
    sa.Column("answer_ko", sa.String(4000), nullable=False),
    sa.Column("question_en", sa.String(500), nullable=False),
    sa.Column("answer_en", sa.String(4000), nullable=False),
    sa.Column("keywords", sa.JSON(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    timestamp("updated_at", nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),  # "file" until edited in the UI
)

unanswered_questions = sa.Table(
    "unanswered_questions",
    metadata,
    id_column(),
    timestamp("at", nullable=False, index=True),
    sa.Column("session_id", sa.String(64)),
    sa.Column("lang", sa.String(2), nullable=False),
    sa.Column("text", sa.String(1000), nullable=False),  # DLP-masked
    sa.Column("norm", sa.String(1000), nullable=False),
    sa.Column("intent", sa.String(32)),
)

csat_surveys = sa.Table(
    "csat_surveys",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("ticket_id", sa.BigInteger(), nullable=False, index=True),
    timestamp("sent_at", nullable=False),
    timestamp("answered_at"),
    sa.Column("score", sa.SmallInteger()),
    sa.Column("comment", sa.String(2000)),
)

# A CS lead's correction of a ticket's VOC category (issue 18 item 5). The newest row per ticket is the
# ticket's category for the next training round; `text` is the DLP-masked customer text it was read from.
voc_relabels = sa.Table(
    "voc_relabels",
    metadata,
    id_column(),
    sa.Column("ticket_id", sa.BigInteger(), nullable=False, index=True),
    timestamp("at", nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("from_category", sa.String(32)),
    sa.Column("to_category", sa.String(32), nullable=False),
    sa.Column("text", sa.String(4000), nullable=False),
)
