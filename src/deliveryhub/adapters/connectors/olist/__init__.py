"""Importer for the Olist public e-commerce data set (Kaggle olistbr/brazilian-ecommerce).

Usage::

    anomalies = ImportAnomalies()
    for event in iter_olist_events(Path("olist/"), "America/Sao_Paulo", anomalies=anomalies):
        ...
    # or: events, anomalies = read_olist(Path("olist/"))

Tables are read from `<dir>/olist_*_dataset.csv` or `.csv.gz`; only orders is required. Items,
customers, payments, reviews, products, sellers and the category translation are used when present.
Mapping rules and decisions: see `mapper`. Data is never fixed up: oddities are emitted as the data says
and counted in `ImportAnomalies`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from deliveryhub.adapters.connectors.olist.anomalies import DESCRIPTIONS, ImportAnomalies
from deliveryhub.adapters.connectors.olist.mapper import SOURCE, Product, Row, Seller, map_order
from deliveryhub.adapters.connectors.olist.reader import (
    OlistFilesError,
    find_table,
    iter_rows,
    iter_table,
    require_orders,
)

DEFAULT_TZ = "America/Sao_Paulo"

__all__ = [
    "DEFAULT_TZ",
    "DESCRIPTIONS",
    "SOURCE",
    "ImportAnomalies",
    "OlistFilesError",
    "count_olist_orders",
    "iter_olist_events",
    "read_olist",
]

ProgressCallback = Callable[[int, int], None]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as America/Sao_Paulo)") from exc


def _group(rows: Iterator[dict[str, str]]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[(row.get("order_id") or "").strip()].append(row)
    return grouped


def count_olist_orders(dir: Path) -> int:
    """Number of distinct orders in the orders table (for a progress bar total)."""
    return len({(r.get("order_id") or "").strip() for r in iter_rows(require_orders(Path(dir)))})


def iter_olist_events(
    dir: Path,
    tz: str = DEFAULT_TZ,
    *,
    anomalies: ImportAnomalies | None = None,
    progress: ProgressCallback | None = None,
) -> Iterator[dict[str, Any]]:
    """Canonical events for every order in `dir`, order by order in file order.

    Findings are added to `anomalies` (pass your own to read them after the generator is exhausted).
    `progress(done_orders, total_orders)` is called after each order.
    """
    directory = Path(dir)
    orders_path = require_orders(directory)
    zone = _zone(tz)
    an = anomalies if anomalies is not None else ImportAnomalies()

    orders: list[Row] = []
    order_ids: set[str] = set()
    for row in iter_rows(orders_path):
        oid = (row.get("order_id") or "").strip()
        if not oid:
            continue
        if oid in order_ids:
            an.add("duplicate_order_row", oid)
            continue
        order_ids.add(oid)
        orders.append(row)

    has_items = find_table(directory, "items") is not None
    items = _group(iter_table(directory, "items"))
    payments = _group(iter_table(directory, "payments"))
    reviews = _group(iter_table(directory, "reviews"))
    customers = {(r.get("customer_id") or "").strip(): r for r in iter_table(directory, "customers")}
    translation = {
        (r.get("product_category_name") or "").strip(): (r.get("product_category_name_english") or "").strip()
        for r in iter_table(directory, "categories")
    }
    products: dict[str, Product] | None = None
    if find_table(directory, "products") is not None:
        products = {}
        for r in iter_table(directory, "products"):
            cat = (r.get("product_category_name") or "").strip() or None
            products[(r.get("product_id") or "").strip()] = Product(cat, translation.get(cat or "") or None)
    sellers: dict[str, Seller] | None = None
    if find_table(directory, "sellers") is not None:
        sellers = {
            (r.get("seller_id") or "").strip(): Seller(
                (r.get("seller_zip_code_prefix") or "").strip(),
                (r.get("seller_city") or "").strip(),
                (r.get("seller_state") or "").strip(),
            )
            for r in iter_table(directory, "sellers")
        }

    for oid, rows in items.items():
        if oid not in order_ids:
            for _ in rows:
                an.add("orphan_item", oid)
    review_orders: dict[str, set[str]] = defaultdict(set)
    for oid, rows in reviews.items():
        if oid not in order_ids:
            for _ in rows:
                an.add("orphan_review", oid)
            continue
        for review in rows:
            review_orders[(review.get("review_id") or "").strip()].add(oid)
    for shared in (oids for oids in review_orders.values() if len(oids) > 1):
        an.add("review_id_shared", sorted(shared)[0])

    total = len(orders)
    for done, order in enumerate(orders, start=1):
        oid = order["order_id"].strip()
        customer = customers.get((order.get("customer_id") or "").strip()) if customers else None
        yield from map_order(
            order,
            tz=zone,
            items=items.get(oid, ()),
            customer=customer,
            payments=payments.get(oid, ()),
            reviews=reviews.get(oid, ()),
            products=products,
            sellers=sellers,
            has_items_table=has_items,
            anomalies=an if customers else _NoCustomerCheck(an),
        )
        if progress is not None:
            progress(done, total)


class _NoCustomerCheck(ImportAnomalies):
    """Without a customers table, a missing customer is not an anomaly of the order."""

    def __init__(self, inner: ImportAnomalies) -> None:
        super().__init__(inner.counts, inner.examples)

    def add(self, kind: str, order_id: str) -> None:
        if kind != "order_without_customer":
            super().add(kind, order_id)


def read_olist(dir: Path, tz: str = DEFAULT_TZ) -> tuple[list[dict[str, Any]], ImportAnomalies]:
    """All events of `dir` in a list, and the anomalies found."""
    anomalies = ImportAnomalies()
    events = list(iter_olist_events(dir, tz, anomalies=anomalies))
    return events, anomalies
