"""DLP: real-format personal data (valid checksums) is masked; near-misses are left alone."""

from __future__ import annotations

import pytest

from deliveryhub.pii import dlp
from dh_testkit import rrn

VALID_RRN = rrn("900101", "1", "23456")
BAD_RRN = VALID_RRN[:-1] + str((int(VALID_RRN[-1]) + 1) % 10)

MASKED = [
    # (kind, text, the secret part that must disappear)
    ("phone", "기사님 연락처 010-1234-5678 입니다", "1234-5678"),
    ("phone", "전화 01098765432", "98765432"),
    ("phone", "call +82 10-2345-6789 please", "2345-6789"),
    ("phone", "사무실 02-312-4567", "312-4567"),
    ("phone", "대표번호 031-123-4567", "123-4567"),
    ("rrn", f"주민번호 {VALID_RRN[:6]}-{VALID_RRN[6:]} 입니다", VALID_RRN[6:]),
    ("rrn", f"주민번호 {VALID_RRN}", VALID_RRN),
    ("card", "카드 4111 1111 1111 1111 로 결제", "4111 1111 1111"),
    ("card", "card 4111111111111111", "411111111111"),
    ("card", "마스터 5500-0000-0000-0004", "5500-0000-0000"),
    ("card", "amex 378282246310005", "37828224631"),
    ("account", "환불 계좌 110-123-456789 신한은행", "110-123-456"),
    ("account", "우리은행 1002-123-456789 로 입금", "1002-123-456"),
    ("account", "국민은행 계좌 12345678901234", "12345678901"),
    ("email", "메일은 kim.minsu@example.co.kr 로", "kim.minsu@"),
    ("address", "주소: 서울특별시 강남구 테헤란로 152, 101동 1001호", "테헤란로 152"),
    ("address", "경기도 성남시 분당구 판교역로 235 으로 보내주세요", "판교역로 235"),
    ("address", "부산광역시 해운대구 우동 1411-2", "우동 1411"),
    ("address", "ship to 123 Main Street, Apt 4B", "123 Main Street"),
]

LEFT_ALONE = [
    BAD_RRN,  # 13 digits, wrong checksum, no hyphen
    "991332-1234567",  # not a date
    "900101-9234567",  # gender digit 9 does not exist
    "4111111111111112",  # Luhn fails
    "운송장 6012345678901",  # 13-digit waybill (epost)
    "송장번호 123456789012",  # 12-digit CJ waybill
    "주문번호 ORD-2026-000123",
    "2026-11-22 도착 예정",
    "옥천HUB 간선하차",
    "서울강남 대리점 도착",
    "수량 3개, 35000원",
    "고객센터 1588-1255",
    "10:30~12:30 배송예정",
    "batch 1234567890 processed",  # long number without a bank word
]


@pytest.mark.parametrize(("kind", "text", "secret"), MASKED)
def test_real_formats_are_found_and_masked(kind: str, text: str, secret: str) -> None:
    kinds = [f.kind for f in dlp.find_personal_data(text)]
    assert kind in kinds, (text, kinds)
    masked = dlp.mask_text(text)
    assert masked is not None and secret not in masked, masked


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_near_misses_are_left_alone(text: str) -> None:
    assert dlp.find_personal_data(text) == []
    assert dlp.mask_text(text) == text


def test_masks_keep_what_operations_need() -> None:
    assert dlp.mask_text("010-1234-5678") == "010-****-****"
    assert dlp.mask_text("서울특별시 강남구 테헤란로 152") == "서울특별시 강남구 ***"
    assert dlp.mask_text("4111 1111 1111 1111") == "****-****-****-1111"
    assert dlp.mask_name("홍길동") == "홍*동"


def test_structlog_processor_masks_values_and_sensitive_keys() -> None:
    out = dlp.structlog_processor(None, "info", {"event": "sent to 010-1234-5678", "phone": "anything",
                                                 "data": {"email": "a@b.co", "note": "kim@example.com"}})
    assert "1234-5678" not in out["event"]
    assert out["phone"] == "***"
    assert out["data"]["email"] == "***" and "kim@" not in out["data"]["note"]
