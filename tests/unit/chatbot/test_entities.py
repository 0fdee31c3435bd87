from __future__ import annotations

import pytest

from deliveryhub.chatbot.nlu.entities import (
    carrier_from_text,
    detect_carrier,
    extract_entities,
    loose_last4,
    order_candidates,
)


def test_order_ids() -> None:
    assert extract_entities("ORD-2024-000123 배송 언제 와요?")["order_id"] == "ORD-2024-000123"
    assert extract_entities("ord-2024-000123")["order_id"] == "ORD-2024-000123"
    assert extract_entities("주문번호 20241103-0001234 취소해주세요")["order_id"] == "20241103-0001234"
    assert extract_entities("주문번호 98765432 어디쯤이에요")["order_id"] == "98765432"


def test_order_ids_with_several_digit_groups_are_taken_whole() -> None:
    """The demo's ORD-YYMMDD-NNNNNNN was cut at the second hyphen ("ORD-261204"), so the right last four
    digits never verified an order typed by hand."""
    assert extract_entities("ORD-261204-7900123 배송 언제 와요?")["order_id"] == "ORD-261204-7900123"
    said = "주문번호 ORD-261204-7900123 이고 전화번호 뒷자리는 6709예요. 배송 언제 와요?"
    assert extract_entities(said)["order_id"] == "ORD-261204-7900123"
    assert extract_entities("a-2026-12-00042 반품할게요")["order_id"] == "A-2026-12-00042"
    assert "order_id" not in extract_entities("XL-100 사이즈로 교환돼요?")


def test_tracking_and_carrier() -> None:
    ents = extract_entities("송장번호 553825406594 조회가 안돼요")
    assert ents["tracking_no"] == "553825406594"
    assert ents["carrier"] in {"cj", "lotte"}
    ents = extract_entities("우체국 6078921007831")
    assert ents["tracking_no"] == "6078921007831" and ents["carrier"] == "epost"
    ents = extract_entities("롯데택배 운송장 1234-5678-9012 입니다")
    assert ents["tracking_no"] == "123456789012" and ents["carrier"] == "lotte"


def test_detect_carrier_rules() -> None:
    assert detect_carrier("6078921007831") == "epost"
    assert detect_carrier("12345678901") == "logen"
    assert detect_carrier("1234567890") == "cj"
    # 12 digits: lotte when the last digit is the first eleven mod 7
    body = "12345678901"
    lotte = body + str(int(body) % 7)
    assert detect_carrier(lotte) == "lotte"
    not_lotte = body + str((int(body) % 7 + 1) % 10)
    assert detect_carrier(not_lotte) == "cj"
    assert detect_carrier("123") is None
    assert detect_carrier("abc") is None
    assert carrier_from_text("한진택배로 보냈대요") == "hanjin"
    assert carrier_from_text("CJ대한통운") == "cj"
    assert carrier_from_text("그냥 택배") is None


def test_phone_and_last4() -> None:
    ents = extract_entities("알림 번호 010-1234-5678로 바꿔주세요")
    assert ents["phone"] == "010-1234-5678"
    assert ents["phone_last4"] == "5678"
    assert extract_entities("01098765432")["phone"] == "010-9876-5432"
    assert extract_entities("1234") == {"phone_last4": "1234"}
    assert extract_entities("전화번호 뒷자리 4321이요")["phone_last4"] == "4321"
    assert "phone" not in extract_entities("ORD-2024-000123")


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("11월 3일에 주문했어요", ["--11-03"]),
        ("2024-11-03 주문", ["2024-11-03"]),
        ("2024.11.3에 결제", ["2024-11-03"]),
        ("어제 주문했는데 내일 와요?", ["yesterday", "tomorrow"]),
        ("3일 전에 시켰어요", ["3_days_ago"]),
        ("오늘 받을 수 있나요", ["today"]),
    ],
)
def test_dates(text: str, dates: list[str]) -> None:
    assert extract_entities(text)["dates"] == dates


def test_date_is_not_an_order_id() -> None:
    ents = extract_entities("2024-11-03 주문했는데 ORD-2024-000123")
    assert ents["order_id"] == "ORD-2024-000123"
    assert ents["dates"] == ["2024-11-03"]


def test_options() -> None:
    assert extract_entities("블랙 L사이즈 260 교환해주세요")["options"] == ["블랙", "L", "260"]
    assert extract_entities("XL로 바꿔주세요")["options"] == ["XL"]
    assert extract_entities("화이트 말고 네이비로")["options"] == ["화이트", "네이비"]
    assert "options" not in extract_entities("배송비 2500원 환불해주세요")
    assert "options" not in extract_entities("배송 언제 와요?")


def test_nothing_found_means_empty() -> None:
    assert extract_entities("안녕하세요") == {}
    assert extract_entities("") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("주문번호 ORD-261204-7900123이고 뒷자리 6709예요", ["ORD-261204-7900123"]),  # particle stripped
        ("네이버 2026120418273645로 주문했어요", ["2026120418273645"]),
        ("３０００１２３４５６７８９０ 배송 어디쯤", ["30001234567890"]),  # full-width folded
        ("카페24 주문 20261204-0001234 취소", ["20261204-0001234"]),
        ("a-2026-12-00042는 언제 와요", ["a-2026-12-00042"]),  # case kept: the lookup ignores it
        ("뒷자리 6709, 2500원, XL-100 사이즈", []),  # too few digits to be an order number
    ],
)
def test_order_candidates_are_runs_of_letters_digits_and_hyphens(text: str, expected: list[str]) -> None:
    assert order_candidates(text) == expected


def test_a_lone_four_digit_group_next_to_the_order_number_is_the_phone_digits() -> None:
    assert loose_last4("ORD-261204-7900123 / 6709 배송 언제 와요", ["ORD-261204-7900123"]) == "6709"
    assert loose_last4("A-2026-12-00042 2026년에 주문, 1000원", ["A-2026-12-00042"]) is None
    assert loose_last4("A-2026-12-00042 1234 5678", ["A-2026-12-00042"]) is None  # two: ambiguous
