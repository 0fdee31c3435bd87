"""domain/address.py: Korean delivery addresses read from what customers type (pure)."""

from __future__ import annotations

import pytest

from deliveryhub.domain.address import (
    REMOTE_ZIPS,
    check_address,
    confirm_text,
    is_jeju,
    normalise_sido,
    remote_area,
    sido_of_zip,
)


@pytest.mark.parametrize(
    ("text", "zip_code", "line1", "line2"),
    [
        (
            "서울 강남구 테헤란로 152 강남파이낸스센터 10층 06236",
            "06236",
            "서울특별시 강남구 테헤란로 152",
            "강남파이낸스센터 10층",
        ),
        ("06236 서울시 강남구 테헤란로152, 10층", "06236", "서울특별시 강남구 테헤란로 152", "10층"),
        ("[06236] 서울특별시 강남구 테헤란로 152", "06236", "서울특별시 강남구 테헤란로 152", ""),
        ("우편번호: 04524 서울 중구 세종대로 110", "04524", "서울특별시 중구 세종대로 110", ""),
        ("경기도 성남시 분당구 백현로 26(정자동) 13553", "13553", "경기도 성남시 분당구 백현로 26", ""),
        (
            "경기 성남시 분당구 불정로 6 (정자동) 13561 그린팩토리 3층",
            "13561",
            "경기도 성남시 분당구 불정로 6",
            "그린팩토리 3층",
        ),
        (
            "부산 해운대구 센텀중앙로 79 48058 101동 1203호",
            "48058",
            "부산광역시 해운대구 센텀중앙로 79",
            "101동 1203호",
        ),
        ("대구 수성구 달구벌대로 2450 42190", "42190", "대구광역시 수성구 달구벌대로 2450", ""),
        ("인천 연수구 컨벤시아대로 165 21998", "21998", "인천광역시 연수구 컨벤시아대로 165", ""),
        ("광주 서구 내방로 111 61945", "61945", "광주광역시 서구 내방로 111", ""),
        ("대전 서구 둔산로 100 35242", "35242", "대전광역시 서구 둔산로 100", ""),
        ("울산 남구 중앙로 201 44675", "44675", "울산광역시 남구 중앙로 201", ""),
        ("세종 한누리대로 2130 30151", "30151", "세종특별자치시 한누리대로 2130", ""),
        ("강원도 춘천시 중앙로 1 24266", "24266", "강원특별자치도 춘천시 중앙로 1", ""),
        ("전라북도 전주시 완산구 효자로 225 54968", "54968", "전북특별자치도 전주시 완산구 효자로 225", ""),
        ("충북 청주시 상당구 상당로 82 28542", "28542", "충청북도 청주시 상당구 상당로 82", ""),
        ("서울 강남구 테헤란로 7길 22 06134", "06134", "서울특별시 강남구 테헤란로7길 22", ""),
        ("서울 마포구 월드컵북로4길 12-3 03993 2층", "03993", "서울특별시 마포구 월드컵북로4길 12-3", "2층"),
        ("서울 중구 세종대로 지하 2 04524", "04524", "서울특별시 중구 세종대로 지하 2", ""),
        ("경북 울릉군 울릉읍 도동길 1 40220", "40220", "경상북도 울릉군 울릉읍 도동길 1", ""),
    ],
)
def test_real_shaped_addresses_normalise(text: str, zip_code: str, line1: str, line2: str) -> None:
    check = check_address(text)
    assert check.ok, check.problems
    assert check.address is not None
    assert (check.address.zip, check.address.line1, check.address.line2) == (zip_code, line1, line2)
    assert check.address.source == "format"


def test_parts_are_checked_like_text() -> None:
    check = check_address(zip_code="06236", line1="서울 강남구 테헤란로 152", line2="10층 1001호")
    assert check.ok
    assert check.address is not None
    assert check.address.as_event_address() == {
        "zip": "06236",
        "line1": "서울특별시 강남구 테헤란로 152",
        "line2": "10층 1001호",
    }
    assert (check.sido, check.sigungu, check.road, check.building_no) == (
        "서울특별시",
        "강남구",
        "테헤란로",
        "152",
    )


def test_missing_sido_is_taken_from_the_zip() -> None:
    check = check_address("강남구 테헤란로 152 06236")
    assert check.ok and check.address is not None
    assert check.address.line1 == "서울특별시 강남구 테헤란로 152"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("서울 강남구 테헤란로 152", "no_zip"),
        ("서울 강남구 테헤란로 152 135-080", "old_zip"),
        ("135080 서울 강남구 테헤란로 152", "old_zip"),
        ("서울 강남구 역삼동 737 06236", "jibun"),
        ("경기도 성남시 분당구 정자동 3-2 13553", "jibun"),
        ("서울 강남구 역삼동 산 12 06236", "jibun"),
        ("152 Teheran-ro, Gangnam-gu, Seoul 06236", "not_korean"),
        ("서울 강남구", "too_short"),
        ("집", "too_short"),
        ("   ", "empty"),
        ("부산 해운대구 센텀중앙로 79 06236", "zip_region_mismatch"),
        ("서울 강남구 테헤란로 06236", "no_building_no"),
        ("서울 강남구 강남파이낸스센터 06236", "no_road"),
        ("테헤란로 152 99999", "bad_zip"),
        ("서울 테헤란로 152 06236", "no_sigungu"),
    ],
)
def test_clumsy_input_is_answered_with_the_problem(text: str, code: str) -> None:
    check = check_address(text)
    assert not check.ok
    assert check.address is None
    assert code in check.codes, check.problems
    for problem_code, ko, en in check.problems:
        assert problem_code and ko and en
        assert ko != en


def test_emoji_and_odd_spacing_are_ignored() -> None:
    check = check_address("🏠  서울  강남구\t테헤란로 152 🙏🏻 06236  ❤️ 10층")
    assert check.ok, check.problems
    assert check.address is not None
    assert check.address.line1 == "서울특별시 강남구 테헤란로 152"
    assert check.address.line2 == "10층"


def test_given_zip_part_wins_and_an_old_one_is_refused() -> None:
    assert check_address(zip_code="135-080", line1="서울 강남구 테헤란로 152").codes == ["old_zip"]
    assert "bad_zip" in check_address(zip_code="0623", line1="서울 강남구 테헤란로 152").codes
    assert check_address(zip_code=" 06236 ", line1="서울 강남구 테헤란로 152").ok


@pytest.mark.parametrize(
    ("text", "jeju", "remote"),
    [
        ("제주 제주시 첨단로 242 63309", True, False),
        ("제주특별자치도 서귀포시 중앙로 105 63592", True, False),
        ("경북 울릉군 울릉읍 도동길 1 40220", False, True),
        ("인천 옹진군 백령면 백령로 831 23100", False, True),
        ("전남 신안군 흑산면 흑산일주로 1 58853", False, True),
        ("전남 완도군 청산면 청산로 1 59141", False, True),
        ("전남 진도군 조도면 조도로 1 58953", False, True),
        ("서울 강남구 테헤란로 152 06236", False, False),
        ("전남 완도군 완도읍 장보고대로 1 59117", False, False),  # the island of 완도 itself has a bridge
    ],
)
def test_jeju_and_island_flags_come_from_the_zip(text: str, jeju: bool, remote: bool) -> None:
    check = check_address(text)
    assert check.ok, check.problems
    assert check.address is not None
    assert (check.address.jeju, check.address.remote) == (jeju, remote)


def test_zip_helpers() -> None:
    assert is_jeju("63000") and is_jeju("63644") and not is_jeju("63645") and not is_jeju("6300")
    assert remote_area("40200") == "경북 울릉군"
    assert remote_area("06236") is None and remote_area("abc") is None
    assert sido_of_zip("06236") == "서울특별시"
    assert sido_of_zip("30151") == "세종특별자치시"
    assert sido_of_zip("99999") is None
    for lo, hi, _name in REMOTE_ZIPS:
        assert lo <= hi and sido_of_zip(f"{lo:05d}") is not None


@pytest.mark.parametrize(
    ("written", "official"),
    [
        ("서울", "서울특별시"),
        ("서울시", "서울특별시"),
        ("부산", "부산광역시"),
        ("경기", "경기도"),
        ("강원도", "강원특별자치도"),
        ("전라북도", "전북특별자치도"),
        ("제주도", "제주특별자치도"),
        ("세종시", "세종특별자치시"),
        ("충남", "충청남도"),
        ("경남", "경상남도"),
    ],
)
def test_sido_names_are_written_out(written: str, official: str) -> None:
    assert normalise_sido(written) == official


def test_unknown_sido_is_none() -> None:
    assert normalise_sido("강남구") is None
    assert normalise_sido("Seoul") is None


def test_confirm_text_mentions_jeju_and_islands() -> None:
    jeju = check_address("제주 제주시 첨단로 242 63309").address
    island = check_address("경북 울릉군 울릉읍 도동길 1 40220 2층").address
    seoul = check_address("서울 강남구 테헤란로 152 06236 10층").address
    assert jeju is not None and island is not None and seoul is not None
    assert "제주" in confirm_text(jeju)[0] and "Jeju" in confirm_text(jeju)[1]
    assert "도서산간" in confirm_text(island)[0] and "[40220]" in confirm_text(island)[0]
    assert confirm_text(seoul) == ("[06236] 서울특별시 강남구 테헤란로 152, 10층",) * 2


def test_the_detail_is_kept_even_when_the_address_is_not_ok() -> None:
    check = check_address("서울 강남구 테헤란로 152 강남파이낸스센터 10층")  # no zip: a lookup can find it
    assert not check.ok and check.codes == ["no_zip"]
    assert (check.road, check.building_no, check.detail) == ("테헤란로", "152", "강남파이낸스센터 10층")
