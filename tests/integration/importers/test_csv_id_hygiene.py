"""CSV import: an id cell carrying a control or invisible format character (pasted from a chat, or a
crafted spreadsheet with an RTL override) rejects its row naming the column; the other rows import."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.adapters.connectors.csv_import import EXAMPLES_DIR, read_csv_events

HEADER = (
    "주문번호,주문일시,결제일시,결제금액,수령인,연락처,우편번호,주소,상품코드,수량,판매가,"
    "택배사,송장번호,송장등록일시,출고일시,배송완료일시"
)
GOOD = (
    "A-1,2024-11-03 14:05,,9900,홍길동,010-1234-5678,06236,서울 강남구 테헤란로 1,SKU-1,1,9900,"
    "CJ대한통운,612345678901,2024-11-04,,"
)


@pytest.mark.parametrize(
    ("column", "row"),
    [
        ("주문번호", GOOD.replace("A-1", "A-\u202e2", 1)),
        ("주문번호", GOOD.replace("A-1", "A-\u200b3", 1)),
        ("상품코드", GOOD.replace("SKU-1", "SKU-\x1b4")),
        ("송장번호", GOOD.replace("612345678901", "6123\ufeff45678901")),
    ],
)
def test_a_bad_id_cell_rejects_its_row_naming_the_column(tmp_path: Path, column: str, row: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join([HEADER, GOOD, row]) + "\n", encoding="utf-8")
    results = list(read_csv_events(path, EXAMPLES_DIR / "korean_oms.yaml"))
    assert [r.ok for r in results] == [True, False]
    rejection = results[1].rejection
    assert rejection is not None and rejection.column == column
    assert "U+" in rejection.reason and column in rejection.reason
