"""The Olist importer on small hand-written export files (plain and gzip CSV) in a temporary directory."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from deliveryhub.adapters.connectors.olist import (
    OlistFilesError,
    read_olist,
)

ORDERS_HEADER = (
    "order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,"
    "order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date\n"
)


def _write(directory: Path, name: str, text: str, *, gz: bool = False) -> None:
    if gz:
        with gzip.open(directory / f"{name}.csv.gz", "wt", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        (directory / f"{name}.csv").write_text(text, encoding="utf-8")


def test_plain_csv_with_quoted_original_format(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "olist_orders_dataset",
        '"order_id","customer_id","order_status","order_purchase_timestamp","order_approved_at",'
        '"order_delivered_carrier_date","order_delivered_customer_date","order_estimated_delivery_date"\n'
        '"e481f51cbdc54678b7cc49136f2d6af7","9ef432eb6251297304e76186b10a928d",delivered,'
        "2017-10-02 10:56:33,2017-10-02 11:07:15,2017-10-04 19:55:00,"
        "2017-10-10 21:25:13,2017-10-18 00:00:00\n",
    )
    _write(
        tmp_path,
        "olist_order_reviews_dataset",
        "review_id,order_id,review_score,review_comment_title,review_comment_message,"
        "review_creation_date,review_answer_timestamp\n"
        'r1,e481f51cbdc54678b7cc49136f2d6af7,4,,"Bom,\r\nchegou ""rápido""",2017-10-11 00:00:00,'
        "2017-10-12 03:43:48\n",
        gz=True,
    )
    events, anomalies = read_olist(tmp_path)
    types = [e["type"] for e in events]
    assert types == [
        "order.created",
        "order.paid",
        "shipment.handed_over",
        "shipment.delivered",
        "survey.answered",
        "ticket.created",
    ]
    ticket = events[-1]
    assert ticket["data"]["text"] == 'Bom,\r\nchegou "rápido"'
    assert ticket["occurred_at"] == "2017-10-12T03:43:48-03:00"  # summer time began on 2017-10-15
    assert events[3]["occurred_at"] == "2017-10-10T21:25:13-03:00"
    assert ticket["event_id"] == "olist:e481f51cbdc54678b7cc49136f2d6af7:ticket.created:r1"
    assert events[0]["data"]["total"] is None  # no items or payments table: unknown, not 0
    assert not anomalies.counts.get("order_without_items")  # the items table is absent, not empty


def test_missing_orders_table(tmp_path: Path) -> None:
    with pytest.raises(OlistFilesError, match="olist_orders_dataset"):
        read_olist(tmp_path)


def test_unknown_zone(tmp_path: Path) -> None:
    _write(tmp_path, "olist_orders_dataset", ORDERS_HEADER)
    with pytest.raises(ValueError, match="time zone"):
        read_olist(tmp_path, "Mars/Olympus")


def test_bom_header(tmp_path: Path) -> None:
    # a BOM-prefixed header (as in product_category_name_translation.csv) is read correctly
    _write(
        tmp_path, "olist_orders_dataset", "\ufeff" + ORDERS_HEADER + "o1,c1,created,2018-01-01 00:00:00,,,,\n"
    )
    events, _ = read_olist(tmp_path)
    assert [e["type"] for e in events] == ["order.created"]
