"""The 도로명주소 API adapter against a local juso server (and the captured real answer): results as
normalised addresses, [] on error codes, HTTP errors and timeouts; wired as core.address_book."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from deliveryhub.adapters.outside.juso import JusoLookup, keyword_of, parse_results
from deliveryhub.payments.config import load_address_lookup
from dh_testkit import free_port, make_hub
from providers.juso_server import JusoState, juso_server


@pytest.fixture
def juso() -> Iterator[JusoState]:
    with juso_server() as state:
        yield state


def test_a_customer_text_finds_its_road_address(juso: JusoState) -> None:
    lookup = JusoLookup(juso.confm_key, juso.api_url, timeout_s=3)
    found = lookup.lookup("서울 강남구 테헤란로 152 강남파이낸스센터 10층 06236")
    assert len(found) == 1
    address = found[0]
    assert (address.zip, address.line1, address.source) == ("06236", "서울특별시 강남구 테헤란로 152", "juso")
    assert address.jibun == "서울특별시 강남구 역삼동 737 강남파이낸스센터"
    query = juso.requests[-1]
    assert query["keyword"] == "서울특별시 강남구 테헤란로 152"  # the detail and zip left out
    assert query["resultType"] == "json" and query["confmKey"] == juso.confm_key


def test_island_and_jeju_results_are_flagged(juso: JusoState) -> None:
    lookup = JusoLookup(juso.confm_key, juso.api_url)
    (ulleung,) = lookup.lookup("울릉군 도동길 1")
    assert ulleung.remote and not ulleung.jeju
    (jeju,) = lookup.lookup("첨단로 242")
    assert jeju.jeju


@pytest.mark.parametrize("fault", ["bad_key", "http_500", "timeout", "unreachable", "nothing", "refused"])
def test_errors_answer_an_empty_list(juso: JusoState, fault: str) -> None:
    key, url, timeout, text = juso.confm_key, juso.api_url, 3.0, "테헤란로 152"
    if fault == "bad_key":
        key = "WRONG-KEY"
    elif fault == "http_500":
        juso.fail_next(500)
    elif fault == "timeout":
        juso.slow_next(2)
        timeout = 0.3
    elif fault == "unreachable":
        url = f"http://127.0.0.1:{free_port()}/addrlink/addrLinkApi.do"
    elif fault == "nothing":
        text = "없는로 999"
    elif fault == "refused":
        text = "%"
    lookup = JusoLookup(key, url, timeout_s=timeout)
    assert lookup.lookup(text) == []
    assert "WRONG-KEY" not in repr(lookup)


def test_the_captured_real_answer_parses(shared_data: Path) -> None:
    body = json.loads(
        (
            shared_data / "korean_commerce_payloads" / "juso__addrLinkApi_json__captured_response.json"
        ).read_text(encoding="utf-8")
    )
    (address,) = parse_results(body)
    assert address.zip == "13553"
    assert address.line1 == "경기도 성남시 분당구 백현로 26"
    assert address.jibun == "경기도 성남시 분당구 정자동 3-2"
    assert not address.jeju and not address.remote
    bad_key = {
        "results": {
            "common": {"errorMessage": "승인되지 않은 KEY 입니다.", "errorCode": "E0001"},
            "juso": None,
        }
    }
    assert parse_results(bad_key) == []
    assert parse_results("garbage") == [] and parse_results({"results": None}) == []


def test_keywords_drop_what_the_service_refuses() -> None:
    assert keyword_of("테헤란로 152 [10층] %") == "테헤란로 152"  # the road part only
    assert keyword_of("강남파이낸스센터 <10층> %=") == "강남파이낸스센터 10층"
    assert len(keyword_of("가" * 100)) == 40
    assert keyword_of("06236") == ""


def test_wired_as_the_address_book_when_configured(
    tmp_path: Path, master_key: str, juso: JusoState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELIVERYHUB_JUSO_KEY", juso.confm_key)
    monkeypatch.setenv("DELIVERYHUB_JUSO_URL", juso.api_url)
    hub = make_hub(tmp_path, master_key)
    try:
        assert isinstance(hub.address_book, JusoLookup)
        assert hub.address_book.lookup("세종대로 110")[0].zip == "04524"
    finally:
        hub.close()
    cfg = load_address_lookup(None, environ={})
    assert cfg.juso_key is None
