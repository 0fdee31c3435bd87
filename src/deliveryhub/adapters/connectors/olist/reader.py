"""File access for the Olist data set: finds each table as .csv or .csv.gz and yields its rows."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

TABLES: dict[str, str] = {
    "orders": "olist_orders_dataset",
    "items": "olist_order_items_dataset",
    "reviews": "olist_order_reviews_dataset",
    "payments": "olist_order_payments_dataset",
    "customers": "olist_customers_dataset",
    "products": "olist_products_dataset",
    "sellers": "olist_sellers_dataset",
    "categories": "product_category_name_translation",
}


class OlistFilesError(FileNotFoundError):
    """The directory does not hold the Olist orders table."""


def find_table(directory: Path, table: str) -> Path | None:
    """Path of `table` (a key of TABLES) in `directory`, plain CSV preferred over gzip; None if absent."""
    stem = TABLES[table]
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _open_text(path: Path) -> io.TextIOBase:
    # utf-8-sig: some copies (product_category_name_translation.csv) start with a BOM
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller


def iter_rows(path: Path) -> Iterator[dict[str, str]]:
    """Rows as dicts (header names stripped); quoted fields may contain line breaks."""
    with _open_text(path) as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        width = len(header)
        for cells in reader:
            if not cells:
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield dict(zip(header, cells, strict=False))


def iter_table(directory: Path, table: str) -> Iterator[dict[str, str]]:
    """Rows of `table`, or nothing when the file is absent."""
    path = find_table(directory, table)
    if path is None:
        return iter(())
    return iter_rows(path)


def require_orders(directory: Path) -> Path:
    if not directory.is_dir():
        raise OlistFilesError(f"{directory} is not a directory")
    path = find_table(directory, "orders")
    if path is None:
        stem = TABLES["orders"]
        raise OlistFilesError(
            f"no {stem}.csv or {stem}.csv.gz in {directory}; "
            "point `import olist` at the folder holding the Kaggle olistbr/brazilian-ecommerce files"
        )
    return path
