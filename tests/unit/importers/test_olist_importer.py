from __future__ import annotations

import csv
import gzip
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from deliveryhub.adapters.connectors.olist import (
    ImportAnomalies,
    count_olist_orders,
    iter_olist_events,
    read_olist,
)
from deliveryhub.adapters.connectors.olist.mapper import map_order

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def _rows(directory: Path, stem: str) -> list[dict[str, str]]:
    path = directory / f"{stem}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def olist_run(olist_sample_dir: Path) -> tuple[list[dict[str, Any]], ImportAnomalies, float]:
    started = time.perf_counter()
    events, anomalies = read_olist(olist_sample_dir)
    return events, anomalies, time.perf_counter() - started


@pytest.fixture(scope="module")
def expected_counts(olist_sample_dir: Path) -> Counter[str]:
    """Event counts recomputed straight from the CSV files with the csv module."""
    orders = _rows(olist_sample_dir, "olist_orders_dataset")
    items = _rows(olist_sample_dir, "olist_order_items_dataset")
    reviews = _rows(olist_sample_dir, "olist_order_reviews_dataset")
    with_items = {r["order_id"] for r in items}
    expected: Counter[str] = Counter()
    for o in orders:
        expected["order.created"] += 1
        expected["order.paid"] += bool(o["order_approved_at"])
        expected["shipment.handed_over"] += bool(o["order_delivered_carrier_date"])
        expected["shipment.delivered"] += bool(o["order_delivered_customer_date"])
        expected["order.cancelled"] += o["order_status"] == "canceled"
        expected["cost.recorded"] += o["order_id"] in with_items
    seen = set()
    for r in reviews:
        key = (r["order_id"], r["review_id"])
        if key in seen:
            continue
        seen.add(key)
        expected["survey.answered"] += 1
        expected["ticket.created"] += bool(
            r["review_comment_message"].strip() or r["review_comment_title"].strip()
        )
    return expected


def test_every_order_produces_order_created(olist_run, olist_sample_dir: Path) -> None:
    events, _, _ = olist_run
    created = {e["order_id"] for e in events if e["type"] == "order.created"}
    order_ids = {r["order_id"] for r in _rows(olist_sample_dir, "olist_orders_dataset")}
    assert len(order_ids) == 8135
    assert created == order_ids
    assert count_olist_orders(olist_sample_dir) == 8135


def test_event_counts_match_an_independent_count(olist_run, expected_counts: Counter[str]) -> None:
    events, _, _ = olist_run
    assert Counter(e["type"] for e in events) == expected_counts


def test_envelope_shape(olist_run) -> None:
    events, _, _ = olist_run
    for e in events:
        assert set(e) == {"event_id", "source", "type", "occurred_at", "order_id", "shipment_id", "data"}
        assert e["source"] == "import:olist"
        assert 1 <= len(e["event_id"]) <= 128
        assert datetime.fromisoformat(e["occurred_at"]).utcoffset() is not None
    assert len({e["event_id"] for e in events}) == len(events)


def test_order_created_content(olist_run, olist_sample_dir: Path) -> None:
    events, _, _ = olist_run
    created = {e["order_id"]: e for e in events if e["type"] == "order.created"}
    e = created["a4591c265e18cb1dcee52889e2d8acc3"]  # first row of the sample
    assert e["occurred_at"] == "2017-07-09T21:57:05-03:00"
    data = e["data"]
    assert data["channel"] == "olist"
    assert data["customer"] == {
        "customer_id": "503740e9ca751ccdda7ba28e9ab8f608",
        "external_id": "80bb27c7c16e8f973207a5086ab329e2",
    }
    assert "name" not in data["customer"] and "phone" not in data["customer"]
    assert data["address"] == {"zip": "86320", "city": "congonhinhas", "state": "PR"}
    assert data["region"] == "PR"
    assert data["promised_delivery_date"] == "2017-08-01"
    assert data["items"][0]["sku"] == "060cb19345d90064d1015407193c233d"
    assert data["warehouse"] == data["items"][0]["seller_id"]
    assert data["category"] == "automotivo"
    # total = sum(price) + sum(freight), recomputed from the items file
    items = [
        r for r in _rows(olist_sample_dir, "olist_order_items_dataset") if r["order_id"] == e["order_id"]
    ]
    assert data["total"] == pytest.approx(sum(float(r["price"]) + float(r["freight_value"]) for r in items))


def test_multi_item_orders_aggregate_quantities(olist_run, olist_sample_dir: Path) -> None:
    events, _, _ = olist_run
    rows_per_order = Counter(r["order_id"] for r in _rows(olist_sample_dir, "olist_order_items_dataset"))
    for e in events:
        if e["type"] == "order.created" and e["order_id"] in rows_per_order:
            assert sum(i["qty"] for i in e["data"]["items"]) == rows_per_order[e["order_id"]]


def test_summer_time_offsets(olist_run) -> None:
    events, _, _ = olist_run
    offsets = {e["occurred_at"][-6:] for e in events}
    assert offsets == {"-03:00", "-02:00"}  # Brazil still had DST in 2016-2018


def test_determinism(olist_sample_dir: Path, olist_run) -> None:
    events, _, _ = olist_run
    again = list(iter_olist_events(olist_sample_dir))
    assert [e["event_id"] for e in again] == [e["event_id"] for e in events]
    assert again == events


def test_anomalies_listed(olist_run) -> None:
    _, anomalies, _ = olist_run
    summary = anomalies.as_dict()
    assert summary["handover_before_purchase"]["count"] == 3  # as SOURCE.md counts
    assert summary["delivered_without_date"]["count"] == 8
    assert summary["canceled_with_delivery"]["count"] >= 1
    assert summary["delivered_before_handover"]["count"] >= 1
    assert summary["review_id_shared"]["count"] == 28
    for entry in summary.values():
        assert 1 <= len(entry["examples"]) <= 5  # type: ignore[arg-type]
        assert entry["description"]


def test_anomalous_orders_are_kept_as_the_data_says(olist_run) -> None:
    events, anomalies, _ = olist_run
    by_order: dict[str, set[str]] = {}
    for e in events:
        by_order.setdefault(e["order_id"], set()).add(e["type"])
    for oid in anomalies.examples["canceled_with_delivery"]:
        assert {"order.cancelled", "shipment.delivered"} <= by_order[oid]
    for oid in anomalies.examples["handover_before_purchase"]:
        assert {"order.created", "shipment.handed_over"} <= by_order[oid]


def test_reviews_use_the_answer_time(olist_run) -> None:
    events, _, _ = olist_run
    surveys = [e for e in events if e["type"] == "survey.answered"]
    assert all(1 <= s["data"]["csat"] <= 5 for s in surveys)
    assert any(not s["occurred_at"].startswith(s["data"]["survey_sent_at"][:19]) for s in surveys)
    tickets = [e for e in events if e["type"] == "ticket.created"]
    assert all(
        t["data"]["channel"] == "review" and t["data"]["text"] and t["data"]["subject"] for t in tickets
    )


# --- small hand-made directories -------------------------------------------------------------------

ORDERS_HEADER = (
    "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,"
    "order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date\n"
)


def test_map_order_anomalies_and_other_zone() -> None:
    anomalies = ImportAnomalies()
    order = dict(
        zip(
            ORDERS_HEADER.strip().split(","),
            [
                "o1",
                "c1",
                "canceled",
                "2018-03-01 10:00:00",
                "",
                "2018-02-28 09:00:00",
                "2018-02-27 09:00:00",
                "2018-03-20 00:00:00",
            ],
            strict=True,
        )
    )
    events = map_order(order, tz=ZoneInfo("Asia/Seoul"), anomalies=anomalies)
    assert events[0]["occurred_at"] == "2018-03-01T10:00:00+09:00"
    assert {
        "handover_before_purchase",
        "delivered_before_handover",
        "delivered_before_purchase",
        "canceled_with_delivery",
    } <= set(anomalies.counts)
    cancelled = [e for e in events if e["type"] == "order.cancelled"][0]
    assert cancelled["occurred_at"] == "2018-03-01T10:00:00+09:00"  # the latest known time
    assert cancelled["data"]["occurred_at_inferred"] is True


def test_progress_callback(olist_sample_dir: Path) -> None:
    calls: list[tuple[int, int]] = []
    for _ in iter_olist_events(olist_sample_dir, progress=lambda done, total: calls.append((done, total))):
        pass
    assert calls[-1] == (8135, 8135) and len(calls) == 8135


def test_summary_tables_render(olist_run) -> None:
    from rich.console import Console

    from deliveryhub.adapters.connectors.olist.summary import (
        anomaly_table,
        event_count_table,
        rejection_table,
    )

    events, anomalies, _ = olist_run
    console = Console(record=True, width=200)
    console.print(event_count_table(Counter(e["type"] for e in events)))
    console.print(anomaly_table(anomalies))
    console.print(rejection_table([(3, "주문일시", "bad date")] * 30, limit=5))
    text = console.export_text()
    assert "order.created" in text and "8,135" in text
    assert "handover_before_purchase" in text
    assert "and 25 more" in text
