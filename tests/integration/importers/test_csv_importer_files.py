"""The shop CSV importer on files written to a temporary directory: encodings, reruns, rejections naming
the column, Excel exports, mapping files."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.adapters.connectors.csv_import import (
    EXAMPLES_DIR,
    CsvImportError,
    MappingError,
    load_mapping,
    parse_mapping,
    read_csv_events,
)

EXAMPLE = EXAMPLES_DIR / "korean_oms.yaml"


def _rows(path: Path) -> list:
    return list(read_csv_events(path, load_mapping(EXAMPLE)))


HEADER = (
    "주문번호,주문일시,결제일시,결제금액,수령인,연락처,우편번호,주소,상품코드,수량,판매가,"
    "택배사,송장번호,송장등록일시,출고일시,배송완료일시"
)


ROWS = [
    'A-1001,2024.11.03 14:05,2024-11-03 14:06:00,"12,900",홍길동,010-1234-5678,06236,'
    '서울 강남구 테헤란로 1,SKU-1,1,"12,900원",CJ대한통운,612345678901,'
    "2024/11/04,20241104,2024년 11월 5일 14시 5분",
    "A-1002,2024-11-03 09:00:00,,9900,김철수,01098765432,48058,부산 해운대구,SKU-2,2,4950,롯데택배,,,,",
]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "detected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp949", "cp949")]
)
def test_encodings_give_the_same_events(tmp_path: Path, encoding: str, detected: str) -> None:
    path = _write(tmp_path / "orders.csv", "\n".join([HEADER, *ROWS]) + "\n", encoding)
    reader = read_csv_events(path, EXAMPLE)
    assert reader.encoding == detected
    results = list(reader)
    assert [r.row for r in results] == [2, 3]
    assert all(r.ok for r in results)
    first, second = results
    assert [e["type"] for e in first.events] == [
        "order.created",
        "order.paid",
        "shipment.waybill_created",
        "shipment.handed_over",
        "shipment.delivered",
    ]
    created = first.events[0]
    assert created["event_id"].startswith("csv:A-1001:order.created:")
    assert created["source"] == "import:csv"
    assert created["occurred_at"] == "2024-11-03T14:05:00+09:00"
    assert created["data"]["customer"] == {"name": "홍길동", "phone": "01012345678"}
    assert created["data"]["address"] == {"zip": "06236", "line1": "서울 강남구 테헤란로 1"}
    assert created["data"]["items"] == [{"sku": "SKU-1", "qty": 1, "price": 12900}]
    assert created["data"]["total"] == 12900
    assert created["data"]["channel"] == "oms"  # from defaults
    waybill = first.events[2]
    assert waybill["data"] == {"carrier": "cj", "tracking_no": "612345678901"}
    assert waybill["shipment_id"] == "612345678901"
    assert first.events[-1]["occurred_at"] == "2024-11-05T14:05:00+09:00"
    assert [e["type"] for e in second.events] == ["order.created"]  # empty cells make no event


def test_same_ids_whatever_the_encoding_and_on_rerun(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *ROWS]) + "\n"
    ids = []
    for encoding in ("utf-8", "utf-8-sig", "cp949", "utf-8"):
        path = _write(tmp_path / f"{encoding}.csv", text, encoding)
        ids.append([e["event_id"] for r in _rows(path) for e in r.events])
    assert all(run == ids[0] for run in ids)
    assert len(set(ids[0])) == len(ids[0])


def test_a_later_export_only_adds_new_facts(tmp_path: Path) -> None:
    early = _write(tmp_path / "early.csv", "\n".join([HEADER, ROWS[1]]) + "\n", "utf-8")
    later_row = ROWS[1].replace(",,,,", ",123456789012,2024-11-04 10:00,,")
    later = _write(tmp_path / "later.csv", "\n".join([HEADER, later_row]) + "\n", "utf-8")
    early_ids = {e["event_id"] for r in _rows(early) for e in r.events}
    later_ids = {e["event_id"] for r in _rows(later) for e in r.events}
    assert early_ids < later_ids
    assert {i.split(":")[2] for i in later_ids - early_ids} == {"shipment.waybill_created"}


def test_bad_date_is_a_rejection_naming_the_column(tmp_path: Path) -> None:
    bad = ROWS[1].replace("2024-11-03 09:00:00", "2024-13-45 09:00")
    path = _write(tmp_path / "orders.csv", "\n".join([HEADER, ROWS[0], bad]) + "\n", "utf-8")
    ok, rejected = _rows(path)
    assert ok.ok
    assert rejected.row == 3 and rejected.events == []
    assert rejected.rejection is not None
    assert rejected.rejection.column == "주문일시"
    assert "주문일시" in rejected.rejection.reason and "2024-13-45 09:00" in rejected.rejection.reason
    assert str(rejected.rejection).startswith("row 3: ")


def test_bad_cells_are_all_named(tmp_path: Path) -> None:
    bad = ROWS[1].replace("롯데택배", "우주택배").replace(",2,4950,", ",두개,4950,")
    path = _write(tmp_path / "orders.csv", "\n".join([HEADER, bad]) + "\n", "utf-8")
    (result,) = _rows(path)
    assert result.rejection is not None
    assert result.rejection.column == "수량"
    assert "'택배사'" in result.rejection.reason and "우주택배" in result.rejection.reason


def test_required_event_and_order_id(tmp_path: Path) -> None:
    no_date = ROWS[1].replace("2024-11-03 09:00:00", "")
    no_id = ROWS[1].replace("A-1002", "")
    path = _write(tmp_path / "orders.csv", "\n".join([HEADER, no_date, "", ",,,", no_id]) + "\n", "utf-8")
    results = _rows(path)
    assert [r.row for r in results] == [2, 5]  # blank rows are skipped but still counted
    assert results[0].rejection is not None and results[0].rejection.column == "주문일시"
    assert results[1].rejection is not None and results[1].rejection.column == "주문번호"


def test_too_many_cells(tmp_path: Path) -> None:
    path = _write(tmp_path / "orders.csv", "\n".join([HEADER, ROWS[1] + ",extra"]) + "\n", "utf-8")
    (result,) = _rows(path)
    assert result.rejection is not None and "17 cells" in result.rejection.reason


def test_missing_header_column_fails_before_any_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "orders.csv", HEADER.replace("수령인", "받는분") + "\n", "utf-8")
    with pytest.raises(CsvImportError, match="'수령인'"):
        read_csv_events(path, EXAMPLE)


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(HEADER.encode("utf-8") + b"\n\xff\xfe\xfa\x80\x81\xc8\n")
    with pytest.raises(CsvImportError, match="CP949"):
        read_csv_events(path, EXAMPLE)


def test_tab_separated_utf16_from_excel(tmp_path: Path) -> None:
    text = "\n".join(line.replace(",", "\t") for line in [HEADER, ROWS[1]]) + "\n"
    path = _write(tmp_path / "orders.txt", text, "utf-16")
    reader = read_csv_events(path, EXAMPLE)
    assert (reader.encoding, reader.delimiter) == ("utf-16", "\t")
    assert [r.ok for r in reader] == [True]


def test_event_type_per_row_from_a_status_column(tmp_path: Path) -> None:
    mapping = parse_mapping(
        {
            "columns": {"주문번호": "order_id", "택배사": "carrier", "송장번호": "tracking_no"},
            "events": [
                {
                    "type_column": "처리상태",
                    "type_values": {
                        "송장등록": "shipment.waybill_created",
                        "배송완료": "shipment.delivered",
                    },
                    "occurred_at": "처리일시",
                }
            ],
        }
    )
    text = (
        "주문번호,처리상태,처리일시,택배사,송장번호\n"
        "B1,송장등록,2024.11.03 14:05,한진택배,111\n"
        "B1,배송완료,2024.11.04 09:00,한진택배,111\n"
        "B2,반품,2024.11.04 09:00,한진택배,222\n"
    )
    results = list(read_csv_events(_write(tmp_path / "s.csv", text, "cp949"), mapping))
    assert [r.events[0]["type"] for r in results[:2]] == ["shipment.waybill_created", "shipment.delivered"]
    assert results[1].events[0]["data"] == {"carrier": "hanjin", "tracking_no": "111"}
    assert results[2].rejection is not None and results[2].rejection.column == "처리상태"


def test_mapping_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("columns: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match="YAML"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="cannot read"):
        load_mapping(tmp_path / "absent.yaml")
