"""KPI facts: the populations every catalog KPI aggregates over (orders, delivered orders, stage changes,
tickets, returns, …), derived lazily from one snapshot in one time zone. After an incremental snapshot
refresh the per-order facts are patched for the changed orders only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES
from deliveryhub.kpi.snapshot import NOTICE_TYPES, UTC_DT, Snapshot

DIMS = ("carrier", "warehouse", "channel", "region", "category")
_US_PER_DAY = 86_400_000_000
_ERROR_CANCEL = r"(?i)(duplicate|중복|payment|결제)"
DELAY_NOTICE_KINDS = ("delay", "delay_notice", "delivery_delay", "delay_risk")
# Notice statuses that mean the customer was told (a notice event without a status was sent).
TOLD_STATUSES = ("sent", "delivered")


def _hours(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 3.6e9


def _days(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / _US_PER_DAY


def _minutes(end: pl.Expr, start: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_microseconds().cast(pl.Float64) / 6e7


def _ids(df: pl.DataFrame) -> pl.Series:
    return df["order_id"].drop_nulls().unique()


HEAVY = (
    "orders",
    "delivered_orders",
    "delivered_parcels",
    "parcels_at_period_end",
    "stage_changes",
    "packings",
)


class _Base:
    """Base frames for building facts: the whole snapshot, or only the orders that changed."""

    def __init__(self, snap: Snapshot, tz: str, ids: pl.Series | None = None) -> None:
        self.tz = tz
        if ids is None:
            self.o, self.p, self.stages, self.packed = snap.orders, snap.parcels, snap.stages, snap.packed
        else:
            keep = pl.col("order_id").is_in(ids)
            self.o, self.p = snap.orders.filter(keep), snap.parcels.filter(keep)
            self.stages, self.packed = snap.stages.filter(keep), snap.packed.filter(keep)
        ev = snap.events
        self.by_type = (
            {t: ev.filter(pl.col("type") == t) for t in ev["type"].unique().to_list()} if ev.height else {}
        )
        self.empty_ev = ev.clear()
        self.snap = snap
        self._cache: dict[str, Any] = {}

    def evs(self, *types: str) -> pl.DataFrame:
        got = [self.by_type[t] for t in types if t in self.by_type]
        return pl.concat(got) if got else self.empty_ev

    def notices(self) -> pl.DataFrame:
        """Customer notices owed or sent: the hub's jobs and notices reported as events
        (`x-notification.sent`, e.g. a shop's earlier notifier, written as history). Columns: order_id,
        stage, kind, sent_at (null when not sent), automatic, required, learned_at, deadline_at, opted_out."""
        if "notices" not in self._cache:
            ev = self.evs(*NOTICE_TYPES)
            told = pl.col("status").is_null() | pl.col("status").is_in(list(TOLD_STATUSES))
            n = ev.select(
                "order_id",
                "stage",
                "kind",
                pl.when(told).then(pl.col("occurred_at")).otherwise(None).alias("sent_at"),
                "automatic",
                pl.col("stage").is_in(list(CUSTOMER_FACING_STAGES)).alias("required"),
                pl.col("occurred_at").alias("learned_at"),
                pl.lit(None, UTC_DT).alias("deadline_at"),
                (pl.col("status") == "suppressed").fill_null(False).alias("opted_out"),
            )
            jobs = self.snap.notices_table  # notices the notifications feature owed or sent
            if jobs is not None and jobs.height:
                jobs = jobs.with_columns(
                    pl.when(pl.col("status").is_in(list(TOLD_STATUSES)))
                    .then(pl.col("sent_at"))
                    .otherwise(None)
                    .alias("sent_at"),
                    pl.col("required").fill_null(False),
                    (pl.col("status") == "suppressed").fill_null(False).alias("opted_out"),
                )
                n = pl.concat([n, jobs.select(n.columns)], how="vertical_relaxed")
            self._cache["notices"] = n
        return self._cache["notices"]  # type: ignore[no-any-return]

    def notifier_since(self) -> pl.DataFrame:
        """order_id → notifier_since: when a notifier first knew of the order (before, nobody could tell)."""
        return self.notices().group_by("order_id").agg(pl.col("learned_at").min().alias("notifier_since"))

    def notices_sent(self) -> pl.DataFrame:
        """The notices a channel took (the customer was told)."""
        return self.notices().filter(pl.col("sent_at").is_not_null())

    def orders(self) -> pl.DataFrame:
        if "orders" in self._cache:
            return self._cache["orders"]  # type: ignore[no-any-return]
        pc = self.p.group_by("order_id").agg(
            pl.col("carrier").drop_nulls().first().alias("carrier"),
            pl.col("handed_over_at").min().alias("handed_over_at"),
        )
        packed_first = self.packed.group_by("order_id").agg(pl.col("occurred_at").min().alias("packed_at"))
        claims = self.evs("claim.opened")
        cancels = self.evs("order.cancelled")
        errors = pl.concat(
            [
                _ids(self.evs("fulfillment.pick_error")),
                _ids(claims.filter(pl.col("kind") == "wrong_item")),
                _ids(cancels.filter(pl.col("reason").fill_null("").str.contains(_ERROR_CANCEL))),
            ]
        ).unique()
        out = (
            self.o.join(pc, on="order_id", how="left")
            .join(packed_first, on="order_id", how="left")
            .with_columns(pl.min_horizontal("packed_at", "handed_over_at").alias("ready_at"))
            .with_columns(
                _hours(pl.col("ready_at"), pl.col("created_at")).alias("processing_hours"),
                pl.col("cancelled_at").is_not_null().alias("cancelled"),
                pl.col("order_id").is_in(_ids(self.evs("inventory.shortage"))).alias("has_shortage"),
                pl.col("order_id").is_in(errors).alias("order_error"),
            )
        )
        self._cache["orders"] = out
        return out

    def build(self, name: str) -> pl.DataFrame:
        """One fact, by name."""
        tz = self.tz
        if name == "orders":
            return self.orders()
        if name == "delivered_orders":
            claims = self.evs("claim.opened")
            delay_notice = (
                self.notices_sent()
                .filter(pl.col("kind").is_in(DELAY_NOTICE_KINDS) | pl.col("stage").is_in(DELAY_NOTICE_KINDS))
                .group_by("order_id")
                .agg(pl.col("sent_at").min().alias("delay_notice_at"))
            )
            return (
                self.orders()
                .filter(pl.col("delivered_at").is_not_null())
                .join(delay_notice, on="order_id", how="left")
                .join(self.notifier_since(), on="order_id", how="left")
                .with_columns(
                    pl.col("delivered_at").dt.convert_time_zone(tz).dt.date().alias("delivered_date"),
                    _days(pl.col("delivered_at"), pl.col("created_at")).alias("delivery_days"),
                    _days(pl.col("delivered_at"), pl.col("handed_over_at")).alias("transit_days"),
                    pl.col("order_id")
                    .is_in(_ids(claims.filter(pl.col("kind").is_in(["wrong_item", "missing"]))))
                    .alias("claim_wrong_or_missing"),
                    pl.col("order_id")
                    .is_in(_ids(claims.filter(pl.col("kind") == "damage")))
                    .alias("claim_damage"),
                    pl.col("order_id").is_in(_ids(self.evs("return.requested"))).alias("return_requested"),
                    (pl.col("delay_notice_at").dt.convert_time_zone(tz).dt.date() <= pl.col("promised_date"))
                    .fill_null(False)
                    .alias("delay_notified"),
                    # A delay notice was owed when a notifier knew of the order by its promised date; orders
                    # the hub learned of afterwards (history, back-fills, imports) are left out, counted.
                    (pl.col("notifier_since").dt.convert_time_zone(tz).dt.date() <= pl.col("promised_date"))
                    .fill_null(False)
                    .alias("delay_notice_owed"),
                )
            )
        if name == "delivered_parcels":
            return self.p.filter(pl.col("delivered_at").is_not_null())
        if name == "parcels_at_period_end":
            return self.p
        if name == "stage_changes":
            # A stage change owed a notice when the hub queued a required notice for it (it learned of the
            # change in time) or a notifier reported one; a customer who opted out of every channel was not
            # owed one. Changes nobody owed a notice (history, a stage passed over) are left out, counted.
            n = self.notices().filter(pl.col("stage").is_not_null() & pl.col("required"))
            df = self.stages.with_columns(
                pl.col("stage").is_in(list(CUSTOMER_FACING_STAGES)).alias("customer_facing")
            )
            per = n.group_by("order_id", "stage").agg(
                pl.col("sent_at").min().alias("first_notice_at"),
                (pl.col("sent_at").is_not_null() & pl.col("automatic").fill_null(True))
                .any()
                .alias("auto_noticed"),
                pl.col("deadline_at").min().alias("notice_deadline_at"),
                pl.col("opted_out").all().alias("opted_out"),
            )
            owed = pl.col("opted_out").is_not_null() | (pl.col("notifier_since") <= pl.col("occurred_at"))
            return (
                df.join(per, on=["order_id", "stage"], how="left")
                .join(self.notifier_since(), on="order_id", how="left")
                .with_columns(
                    pl.col("auto_noticed").fill_null(False),
                    (
                        pl.col("customer_facing")
                        & owed.fill_null(False)
                        & ~pl.col("opted_out").fill_null(False)
                    ).alias("notice_due"),
                    _minutes(pl.col("first_notice_at"), pl.col("occurred_at")).alias("notice_delay_minutes"),
                )
            )
        if name == "packings":
            return self.packed.select("order_id", pl.col("occurred_at").alias("packed_at"), "packaging")
        if name == "tickets":
            created = (
                self.evs("ticket.created")
                .sort("occurred_at")
                .unique("ticket_key", keep="first")
                .select(
                    "ticket_key",
                    "order_id",
                    pl.col("occurred_at").alias("created_at"),
                    pl.col("category").alias("voc_category"),
                    "channel",
                    "text",
                )
            )
            # A CS lead's relabel (ticket.recategorized) wins over the category the ticket was created with.
            relabelled = (
                self.evs("ticket.recategorized")
                .sort("occurred_at")
                .unique("ticket_key", keep="last")
                .select("ticket_key", pl.col("category").alias("relabelled_category"))
            )
            created = (
                created.join(relabelled, on="ticket_key", how="left")
                .with_columns(pl.coalesce("relabelled_category", "voc_category").alias("voc_category"))
                .drop("relabelled_category")
            )
            replies = (
                self.evs("ticket.replied")
                .group_by("ticket_key")
                .agg(
                    pl.col("occurred_at").min().alias("first_reply_at"),
                    (pl.col("by") == "agent").fill_null(False).any().alias("has_agent_reply"),
                )
            )
            resolves = (
                self.evs("ticket.resolved")
                .group_by("ticket_key")
                .agg(pl.col("occurred_at").min().alias("resolved_at"))
            )
            return (
                created.join(replies, on="ticket_key", how="left")
                .join(resolves, on="ticket_key", how="left")
                .with_columns(
                    pl.col("has_agent_reply").fill_null(False),
                    _minutes(pl.col("first_reply_at"), pl.col("created_at")).alias("first_response_minutes"),
                    _hours(pl.col("resolved_at"), pl.col("created_at")).alias("resolution_hours"),
                )
                .with_columns(
                    (pl.col("resolved_at").is_not_null() & ~pl.col("has_agent_reply")).alias(
                        "resolved_without_agent"
                    )
                )
            )
        if name == "surveys":
            return self.evs("survey.answered").select(
                "order_id", pl.col("occurred_at").alias("answered_at"), "csat", "nps"
            )
        if name == "claims":
            return self.evs("claim.opened").select(
                "order_id", pl.col("occurred_at").alias("opened_at"), "kind"
            )
        if name in ("returns", "exchanges"):
            start_t, end_t, end_name = (
                ("return.requested", "return.refunded", "refunded_at")
                if name == "returns"
                else ("exchange.requested", "exchange.completed", "completed_at")
            )
            s = (
                self.evs(start_t)
                .sort("occurred_at")
                .group_by("order_id")
                .agg(
                    pl.col("occurred_at").min().alias("requested_at"), pl.col("kind").first().alias("reason")
                )
            )
            e = self.evs(end_t).group_by("order_id").agg(pl.col("occurred_at").min().alias(end_name))
            return s.join(e, on="order_id", how="left").with_columns(
                _days(pl.col(end_name), pl.col("requested_at")).alias("processing_days")
            )
        if name == "costs":
            return self.evs("cost.recorded").select("order_id", "occurred_at", "kind", "amount")
        if name == "inventory_counts":
            return self.snap.inventory
        if name == "received":
            q = self.snap.quarantine
            return (
                q.filter(pl.col("type") == "received")
                .select("hour", pl.col("n").alias("received"))
                .join(
                    q.filter(pl.col("type") == "quarantined").select(
                        "hour", pl.col("n").alias("quarantined")
                    ),
                    on="hour",
                    how="full",
                    coalesce=True,
                )
                .with_columns(pl.col("received").fill_null(0), pl.col("quarantined").fill_null(0))
            )
        raise KeyError(name)


class Facts:
    """Derived populations of one snapshot in one zone, built lazily; after an incremental snapshot
    refresh the per-order facts are patched for the changed orders only."""

    def __init__(self, snap: Snapshot, tz: str, now: datetime, prev: Facts | None = None) -> None:
        self.snap = snap
        self.tz = tz
        self.now = now
        self.base = _Base(snap, tz)
        self.types = snap.types
        self.notices = self.base.notices().height
        self.frames: dict[str, pl.DataFrame] = {}
        self._dated: dict[tuple[str, str], pl.DataFrame] = {}
        self._dims: pl.DataFrame | None = None
        self._seq: pl.DataFrame | None = None
        usable = prev is not None and snap.prev_key == prev.snap.key and snap.changed is not None
        self.prev = prev if usable else None
        self._sub: _Base | None = None

    def _subset(self) -> _Base:
        if self._sub is None:
            assert self.snap.changed is not None
            self._sub = _Base(self.snap, self.tz, self.snap.changed)
        return self._sub

    def frame(self, name: str) -> pl.DataFrame:
        """A fact by name (built on first use)."""
        if name not in self.frames:
            prev = self.prev
            if prev is not None and name in HEAVY and name in prev.frames:
                changed = self.snap.changed
                assert changed is not None
                old = prev.frames.pop(name)
                self.frames[name] = pl.concat(
                    [old.filter(~pl.col("order_id").is_in(changed)), self._subset().build(name)],
                    how="vertical_relaxed",
                )
            else:
                self.frames[name] = self.base.build(name)
        return self.frames[name]

    def dated(self, name: str, time_col: str) -> pl.DataFrame:
        """The fact with `__d`: the local date of `time_col` (rows without that time dropped)."""
        key = (name, time_col)
        if key not in self._dated:
            prev = self.prev

            def local(df: pl.DataFrame) -> pl.DataFrame:
                if time_col not in df.columns:
                    raise KeyError(f"{name} has no column {time_col}")
                return df.filter(pl.col(time_col).is_not_null()).with_columns(
                    pl.col(time_col).dt.convert_time_zone(self.tz).dt.date().alias("__d")
                )

            if prev is not None and name in HEAVY and key in prev._dated:
                changed = self.snap.changed
                assert changed is not None
                old = prev._dated.pop(key)
                self._dated[key] = pl.concat(
                    [old.filter(~pl.col("order_id").is_in(changed)), local(self._subset().build(name))],
                    how="vertical_relaxed",
                )
            else:
                self._dated[key] = local(self.frame(name))
        return self._dated[key]

    def with_dim(self, df: pl.DataFrame, by: str) -> pl.DataFrame:
        """`df` with dimension column `by` (joined from the order when the fact lacks it)."""
        if by in df.columns or "order_id" not in df.columns or by not in DIMS:
            return df
        if self._dims is None:
            o = self.snap.orders.select("order_id", "channel", "region", "category", "warehouse")
            pc = self.snap.parcels.group_by("order_id").agg(pl.col("carrier").drop_nulls().first())
            self._dims = o.join(pc, on="order_id", how="left")
        return df.join(self._dims.select("order_id", by), on="order_id", how="left")

    def with_customer_seq(self, df: pl.DataFrame) -> pl.DataFrame:
        """`df` (orders) with customer_seq: the order's rank among all its customer's orders by time."""
        if self._seq is None:
            self._seq = self.frame("orders").select(
                "order_id", pl.col("created_at").rank("ordinal").over("customer_id").alias("customer_seq")
            )
        return df.join(self._seq, on="order_id", how="left")


def derive_facts(snap: Snapshot, tz: str, now: datetime) -> Facts:
    """Every population the catalog reads (built lazily on first use)."""
    return Facts(snap, tz, now)
