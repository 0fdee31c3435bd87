"""`import xlsx`: an OMS Excel export built with openpyxl — a title row, a two-row header with merged
group cells and a vertically merged 주문번호, one row per product line, dates as date cells, Excel serials
and Korean text — imports as one order per 주문번호, with the CSV importer's row-level rejections."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from deliveryhub.adapters.connectors.csv_import.xlsx import (
    XlsxImportError,
    cell_text,
    korean_date_text,
    read_xlsx_events,
)
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.entrypoints.import_xlsx_cli import import_xlsx
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import drain, make_hub

MAPPING = """
version: 1
source: import:csv
timezone: Asia/Seoul
columns:
  주문번호: order_id
  수령인: customer.name
  연락처: customer.phone
  상품코드: items.sku
  수량: items.qty
  판매가: items.price
  택배사: carrier
  송장번호: tracking_no
events:
  - type: order.created
    occurred_at: 주문일시
    required: true
  - type: shipment.waybill_created
    occurred_at: 송장등록일시
"""

SUB_HEADER = [
    "주문일시",
    "수령인",
    "연락처",
    "상품코드",
    "수량",
    "판매가",
    "택배사",
    "송장번호",
    "송장등록일시",
]


def _row(
    order: Any, at: Any, sku: str, qty: Any, waybill: tuple[Any, Any, Any] = (None, None, None)
) -> list[Any]:
    carrier, tracking, registered = waybill
    return [order, at, "김민지", "010-2345-6789", sku, qty, 15900, carrier, tracking, registered]


def build_export(path: Path) -> Path:
    """A typical 주문내역 export: 3 orders of 2 + 1 + 3 product lines and one bad row."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "주문내역"
    ws.append(["주문내역 (2026-12-01 ~ 2026-12-06)"])
    ws.merge_cells("A1:J1")
    ws.append(["주문번호", "주문정보", None, None, "상품정보", None, None, "배송정보", None, None])
    ws.merge_cells("A2:A3")  # 주문번호 spans both header rows
    ws.merge_cells("B2:D2")
    ws.merge_cells("E2:G2")
    ws.merge_cells("H2:J2")
    ws.append([None, *SUB_HEADER])
    placed = datetime(2026, 12, 1, 9, 30)
    ws.append(_row("O-2026-1", placed, "SKU-A", 1))
    ws.append(_row("O-2026-1", placed, "SKU-B", 2))
    ws.append(_row(20261201002, "2026년 12월 1일 14:30", "SKU-C", 1))  # 주문번호 typed as a number
    serial = 46357.5  # 2026-12-01 12:00 as an Excel serial
    cj = ("CJ대한통운", 612345678901, "2026.12.02")
    ws.append(_row("O-2026-3", serial, "SKU-D", 1, cj))
    ws.append(_row("O-2026-4", placed, "SKU-X", "두개"))  # the bad row: 수량 is not a number
    ws.append(_row("O-2026-3", serial, "SKU-E", 3, cj))
    ws.append([None] * 10)  # a blank row is skipped
    ws.append(_row("O-2026-3", serial, "SKU-F", 1, cj))
    wb.save(path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The export and its mapping."""
    mapping = tmp_path / "oms_xlsx.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return build_export(tmp_path / "주문내역.xlsx"), mapping


def test_rows_group_into_orders_with_one_rejection(files: tuple[Path, Path]) -> None:
    export, mapping = files
    reader = read_xlsx_events(export, mapping)
    results = list(reader)
    assert reader.header_row == 3 and reader.sheet == "주문내역"
    rejected = [r.rejection for r in results if r.rejection is not None]
    assert len(rejected) == 1
    assert rejected[0].row == 8 and rejected[0].column == "수량" and "두개" in rejected[0].reason
    created = [e for r in results for e in r.events if e["type"] == "order.created"]
    assert {e["order_id"]: len(e["data"]["items"]) for e in created} == {
        "O-2026-1": 2,
        "20261201002": 1,
        "O-2026-3": 3,
    }
    at = {e["order_id"]: e["occurred_at"] for e in created}
    assert at == {
        "O-2026-1": "2026-12-01T09:30:00+09:00",
        "20261201002": "2026-12-01T14:30:00+09:00",
        "O-2026-3": "2026-12-01T12:00:00+09:00",
    }
    waybills = [e for r in results for e in r.events if e["type"] == "shipment.waybill_created"]
    assert [(w["order_id"], w["data"]["tracking_no"], w["data"]["carrier"]) for w in waybills] == [
        ("O-2026-3", "612345678901", "cj")
    ]


def test_import_into_the_hub(tmp_path: Path, master_key: str, files: tuple[Path, Path]) -> None:
    export, mapping = files
    hub = make_hub(tmp_path, master_key)
    summary, rejections = import_xlsx(hub.ingest, export, mapping)
    assert summary["orders"] == 3 and summary["rows_rejected"] == 1, summary
    assert summary["rejected"] == 0 and summary["imported"] == 4  # 3 orders + 1 waybill
    assert [(r, c) for r, c, _ in rejections] == [(8, "수량")]
    drain(hub)
    key = create_api_key(hub.db, "ops", "ops")
    with TestClient(create_app(hub, run_worker=False)) as client:
        h = {"Authorization": f"Bearer {key}"}
        for order_id in ("O-2026-1", "20261201002", "O-2026-3"):
            assert client.get(f"/v1/orders/{order_id}", headers=h).status_code == 200
        assert client.get("/v1/orders/O-2026-4", headers=h).status_code == 404
    again, _ = import_xlsx(hub.ingest, export, mapping)  # a rerun adds nothing
    assert again["imported"] == 0 and again["duplicate"] == 4
    hub.close()


def test_a_rejected_line_leaves_its_whole_order_out(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _export, mapping = files
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["주문번호", *SUB_HEADER])
    ws.append(_row("O-9", "2026-12-01 10:00", "SKU-A", 1))
    ws.append(_row("O-9", "2026-12-01 10:00", "SKU-B", -1.5))
    wb.save(tmp_path / "one.xlsx")
    results = list(read_xlsx_events(tmp_path / "one.xlsx", mapping))
    assert [(r.row, r.ok) for r in results] == [(2, False), (3, False)]
    assert results[0].rejection is not None and "row 3" in results[0].rejection.reason


def test_header_not_found_and_not_a_workbook(tmp_path: Path, files: tuple[Path, Path]) -> None:
    _export, mapping = files
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["번호", "이름"])
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(XlsxImportError, match="missing: '"):
        read_xlsx_events(tmp_path / "other.xlsx", mapping)
    (tmp_path / "fake.xlsx").write_text("주문번호,수량\n", encoding="utf-8")
    with pytest.raises(XlsxImportError, match="not an Excel"):
        read_xlsx_events(tmp_path / "fake.xlsx", mapping)
    summary, _ = import_xlsx(None, tmp_path / "fake.xlsx", mapping)  # type: ignore[arg-type]
    assert "not an Excel" in summary["error"]


def test_cell_texts() -> None:
    assert korean_date_text("2026년 12월 1일 14:30") == "2026-12-01 14:30"
    assert korean_date_text("2026년 12월 1일 오후 2시 5분") == "2026-12-01 14:05"
    assert korean_date_text("2026년 12월 1일") == "2026-12-01"
    assert korean_date_text("2026-12-01") is None
    assert cell_text(46357.0, is_date=True) == "2026-12-01 00:00:00"
    assert cell_text(612345678901.0) == "612345678901"
    assert cell_text(None) == "" and cell_text(" a ") == "a"
