"""Korean particles by the preceding word's final consonant (받침)."""

from __future__ import annotations

import pytest

from deliveryhub.kernel.korean import attach, final_consonant, josa

# word | pair | particle
CASES = """
배송 | 은/는 | 은
배송 완료 | 은/는 | 는
주문 | 이/가 | 이
택배사 | 이/가 | 가
상품 | 을/를 | 을
주소 | 을/를 | 를
운송장번호 123456789406 | 으로/로 | 으로
운송장번호 567890123400 | 으로/로 | 으로
운송장번호 567890123401 | 으로/로 | 로
운송장번호 567890123402 | 으로/로 | 로
서울 | 으로/로 | 로
부산 | 으로/로 | 으로
문자 | 로/으로 | 로
이메일 | 으로/로 | 로
알림톡 | 으로/로 | 으로
교환 | 과/와 | 과
반품 | 와/과 | 과
취소 | 와/과 | 와
'배송 중' | 이에요/예요 | 이에요
12월 3일(목) 13시~15시 | 이에요/예요 | 예요
10 | 은/는 | 은
CJ | 은/는 | 는
XL | 이/가 | 이
"""
# 406 육 (ㄱ), 400 영 (ㅇ), 401 일 (ㄹ + 으로 → 로), 402 이 (a vowel); 10 십; CJ 제이; XL 엑스엘


ROWS = [tuple(cell.strip() for cell in row.split("|")) for row in CASES.strip().splitlines()]


@pytest.mark.parametrize(("word", "pair", "expected"), ROWS)
def test_particle_follows_the_final_sound(word: str, pair: str, expected: str) -> None:
    assert josa(word, pair) == expected


def test_attach_and_the_sound_classes() -> None:
    assert attach("서울", "으로/로") == "서울로"
    assert attach("부산", "으로/로") == "부산으로"
    assert final_consonant("달") == "ㄹ"
    assert final_consonant("나") == ""
    assert final_consonant("") == ""


def test_unknown_pair_is_an_error() -> None:
    with pytest.raises(KeyError):
        josa("배송", "에/에서")
