from __future__ import annotations

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliveryhub.adapters.connectors.csv_import import (
    EXAMPLES_DIR,
    CellError,
    MappingError,
    load_mapping,
    map_row,
    parse_datetime,
    parse_mapping,
)
from deliveryhub.adapters.connectors.csv_import.parse import parse_carrier, parse_number

EXAMPLE = EXAMPLES_DIR / "korean_oms.yaml"
SEOUL = ZoneInfo("Asia/Seoul")

HEADER = (
    "주문번호,주문일시,결제일시,결제금액,수령인,연락처,우편번호,주소,상품코드,수량,판매가,"
    "택배사,송장번호,송장등록일시,출고일시,배송완료일시"
)
COLS = {"주문번호": "order_id"}
PAID = [{"type": "order.paid", "occurred_at": "x"}]


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"columns": COLS, "evnets": []}, "evnets"),
        ({"columns": COLS, "events": [{"type": "order.creatd", "occurred_at": "x"}]}, "events[0].type"),
        ({"columns": COLS, "events": [{"type": "order.created"}]}, "events[0].occurred_at"),
        ({"columns": {"주문번호": {"field": "order id"}}, "events": PAID}, "columns.주문번호.field"),
        ({"columns": {"주문번호": {"field": "order_id", "type": "money"}}, "events": PAID}, ".type"),
        ({"columns": COLS, "timezone": "Seoul", "events": PAID}, "timezone"),
        ({"columns": {"이름": "customer.name"}, "events": PAID}, "order_id"),
    ],
)
def test_mapping_errors_name_the_key(doc: dict, key: str) -> None:
    with pytest.raises(MappingError) as info:
        parse_mapping(doc)
    assert key in str(info.value)


def test_example_mapping_is_valid() -> None:
    mapping = load_mapping(EXAMPLE)
    assert mapping.timezone == "Asia/Seoul" and mapping.source == "import:csv"
    assert [e.type for e in mapping.events][0] == "order.created"


# --- Korean date formats ---------------------------------------------------------------------------

DATES = [
    ("2024.11.03 14:05", datetime(2024, 11, 3, 14, 5)),
    ("2024.11.03", datetime(2024, 11, 3)),
    ("2024. 11. 3.", datetime(2024, 11, 3)),
    ("2024. 11. 3. 오후 2:05:00", datetime(2024, 11, 3, 14, 5)),
    ("2024-11-03 14:05:00", datetime(2024, 11, 3, 14, 5)),
    ("2024-11-03 오전 12:30", datetime(2024, 11, 3, 0, 30)),
    ("2024-11-03 12:30 PM", datetime(2024, 11, 3, 12, 30)),
    ("2024-11-03T14:05:00", datetime(2024, 11, 3, 14, 5)),
    ("2024/11/03", datetime(2024, 11, 3)),
    ("2024/1/3 9:07", datetime(2024, 1, 3, 9, 7)),
    ("20241103", datetime(2024, 11, 3)),
    ("202411031405", datetime(2024, 11, 3, 14, 5)),
    ("20241103140501", datetime(2024, 11, 3, 14, 5, 1)),
    ("2024년 11월 3일 14시 5분", datetime(2024, 11, 3, 14, 5)),
    ("2024년 11월 3일", datetime(2024, 11, 3)),
    ("2024년 11월 3일 (일) 오후 2시", datetime(2024, 11, 3, 14, 0)),
    ("2024년11월3일 14시5분30초", datetime(2024, 11, 3, 14, 5, 30)),
    ("45599", datetime(2024, 11, 3)),
    ("45599.5868055556", datetime(2024, 11, 3, 14, 5)),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_korean_date_formats(text: str, expected: datetime) -> None:
    assert parse_datetime(text)[0] == expected


def test_offsets_are_kept() -> None:
    at, has_time = parse_datetime("2024-11-03T05:05:00+00:00")
    assert has_time and at.utcoffset() is not None and at.hour == 5
    assert parse_datetime("2024-11-03 14:05Z")[0].utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    ["", "2024-13-01", "2024-02-30", "2024.11.03 25:00", "2024-11-03 오후 13:00", "1234", "99999",
     "11/03/2024", "2024-11/03", "2024년 13월 1일", "오늘", "2024-11-03 14:05 오전 오후"],
)  # fmt: skip
def test_not_dates(text: str) -> None:
    with pytest.raises(CellError):
        parse_datetime(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [("CJ대한통운", "cj"), ("CJ 대한통운", "cj"), ("롯데택배", "lotte"), ("한진택배", "hanjin"),
     ("우체국택배", "epost"), ("로젠택배", "logen"), ("대한통운", "cj"), ("cj", "cj")],
)  # fmt: skip
def test_carrier_names(text: str, code: str) -> None:
    assert parse_carrier(text) == code


def test_numbers() -> None:
    assert parse_number("12,900") == 12900
    assert parse_number("₩12,900") == 12900
    assert parse_number("12,900원") == 12900
    assert parse_number("1.50") == 1.5
    for bad in ("", "abc", "NaN", "1e400", "--1"):
        with pytest.raises(CellError):
            parse_number(bad)


# --- robustness ------------------------------------------------------------------------------------

ROW_MAPPING = load_mapping(EXAMPLE)
HEADERS = [h for h in HEADER.split(",")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=len(HEADERS), max_size=len(HEADERS)))
def test_arbitrary_cells_never_crash_the_row_parser(cells: list[str]) -> None:
    result = map_row(2, dict(zip(HEADERS, cells, strict=True)), ROW_MAPPING, SEOUL)
    assert (result.rejection is None) == bool(result.events)
    for event in result.events:
        assert datetime.fromisoformat(event["occurred_at"]).utcoffset() is not None
        assert len(event["event_id"]) <= 128


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.from_regex(r"\d{4}[.\-/ 년]\s?\d{1,2}[.\-/ 월]\s?\d{1,2}.{0,12}", fullmatch=True),
        st.from_regex(r"\d{5,14}(\.\d{1,10})?", fullmatch=True),
    )
)
def test_date_parser_only_raises_cell_errors(text: str) -> None:
    with contextlib.suppress(CellError):
        parse_datetime(text)
