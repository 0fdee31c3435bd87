"""A local 도로명주소 검색 API (business.juso.go.kr ``/addrlink/addrLinkApi.do``, resultType=json).

It checks ``confmKey`` (E0001 승인되지 않은 KEY otherwise), refuses an empty keyword (E0005) and the
characters the service refuses (E0013), and searches a small catalogue of real-shaped addresses: every
keyword word must appear in the road or lot address. Answers the documented JSON
``{"results": {"common": {errorCode, errorMessage, totalCount, currentPage, countPerPage}, "juso": [...]}}``.
Faults: ``fail_next(500)``, ``slow_next(seconds)``; ``fixed_body`` answers a given JSON as is (e.g. a
captured response); ``.requests`` logs the query of every call.

    with juso_server() as juso:
        monkeypatch.setenv("DELIVERYHUB_JUSO_KEY", juso.confm_key)
        monkeypatch.setenv("DELIVERYHUB_JUSO_URL", juso.api_url)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from providers.serving import serving

CONFM_KEY = "devU01TX0FVVEgyMDI2MTIwNjE1"
PATH = "/addrlink/addrLinkApi.do"


def _juso(
    si: str, sgg: str, emd: str, rn: str, no: str, zip_no: str, jibun_no: str, bd: str = "", eng: str = ""
) -> dict[str, Any]:
    road1 = f"{si} {sgg} {rn} {no}"
    return {
        "roadAddr": f"{road1} ({emd}{', ' + bd if bd else ''})",
        "roadAddrPart1": road1,
        "roadAddrPart2": f" ({emd}{', ' + bd if bd else ''})",
        "jibunAddr": f"{si} {sgg} {emd} {jibun_no}{' ' + bd if bd else ''}",
        "engAddr": eng,
        "zipNo": zip_no,
        "admCd": "",
        "rnMgtSn": "",
        "bdMgtSn": "",
        "detBdNmList": "",
        "bdNm": bd,
        "bdKdcd": "0",
        "siNm": si,
        "sggNm": sgg,
        "emdNm": emd,
        "liNm": "",
        "rn": rn,
        "udrtYn": "0",
        "buldMnnm": no.split("-")[0],
        "buldSlno": no.split("-")[1] if "-" in no else "0",
        "mtYn": "0",
        "lnbrMnnm": jibun_no.split("-")[0],
        "lnbrSlno": jibun_no.split("-")[1] if "-" in jibun_no else "0",
        "emdNo": "01",
    }


# Public buildings and landmarks, shaped as the API answers them.
CATALOGUE: list[dict[str, Any]] = [
    _juso(
        "서울특별시",
        "강남구",
        "역삼동",
        "테헤란로",
        "152",
        "06236",
        "737",
        "강남파이낸스센터",
        "152 Teheran-ro, Gangnam-gu, Seoul",
    ),
    _juso(
        "서울특별시",
        "중구",
        "태평로1가",
        "세종대로",
        "110",
        "04524",
        "31",
        "서울특별시청",
        "110 Sejong-daero, Jung-gu, Seoul",
    ),
    _juso("경기도", "성남시 분당구", "정자동", "불정로", "6", "13561", "178-1", "NAVER그린팩토리"),
    _juso("제주특별자치도", "제주시", "영평동", "첨단로", "242", "63309", "2181", ""),
    _juso("경상북도", "울릉군 울릉읍", "도동리", "도동길", "1", "40220", "1", ""),
    _juso("전라남도", "신안군 흑산면", "예리", "흑산일주로", "1", "58853", "1", ""),
]


@dataclass
class JusoState:
    """The catalogue, the queued faults and the request log."""

    confm_key: str = CONFM_KEY
    catalogue: list[dict[str, Any]] = field(default_factory=lambda: list(CATALOGUE))
    requests: list[dict[str, str]] = field(default_factory=list)
    faults: list[tuple[int, float]] = field(default_factory=list)
    fixed_body: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def api_url(self) -> str:
        """The addrLinkApi.do URL of this server."""
        return self.url + PATH

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` calls with HTTP `status` (an HTML error page, as a gateway would)."""
        with self.lock:
            self.faults += [(status, 0.0)] * times

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next `times` calls only after `seconds` (for timeouts)."""
        with self.lock:
            self.faults += [(0, seconds)] * times

    def answer(self, query: dict[str, str]) -> dict[str, Any]:
        """The JSON the API answers for one query."""
        if self.fixed_body is not None:
            return dict(self.fixed_body)
        if query.get("confmKey") != self.confm_key:
            return _error("E0001", "승인되지 않은 KEY 입니다.")
        keyword = (query.get("keyword") or "").strip()
        if not keyword:
            return _error("E0005", "검색어가 입력되지 않았습니다.")
        if re.search(r"[%=><\[\]]", keyword):
            return _error("E0013", "검색어에 SQL 예약어 또는 특수문자(%,=,>,<,[,])는 사용할 수 없습니다.")
        if len(keyword) < 2:
            return _error("E0008", "검색어는 두글자 이상 입력되어야 합니다.")
        words = keyword.split()
        found = [
            j
            for j in self.catalogue
            if all(
                w in j["roadAddr"] or w in j["jibunAddr"] or w in j["roadAddr"].replace(" ", "")
                for w in words
            )
        ]
        per_page = int(query.get("countPerPage") or 10)
        return {
            "results": {
                "common": {
                    "errorMessage": "정상",
                    "countPerPage": str(per_page),
                    "totalCount": str(len(found)),
                    "errorCode": "0",
                    "currentPage": str(query.get("currentPage") or 1),
                },
                "juso": found[:per_page],
            }
        }


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "results": {"common": {"errorMessage": message, "errorCode": code, "totalCount": "0"}, "juso": None}
    }


def _handler(state: JusoState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _serve(self, raw_query: str) -> None:
            split = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
            with state.lock:
                state.requests.append(query)
                fault = state.faults.pop(0) if state.faults else None
            if fault and fault[1]:
                time.sleep(fault[1])
            if fault and fault[0]:
                self._send(fault[0], b"<html><body>error</body></html>", "text/html")
                return
            if split.path != PATH:
                self._send(404, b"not found", "text/plain")
                return
            body = json.dumps(state.answer(query), ensure_ascii=False).encode()
            self._send(200, body, "application/json;charset=UTF-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve(urlsplit(self.path).query)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode() if length else ""
            self._serve("&".join(p for p in (urlsplit(self.path).query, form) if p))

    return Handler


@contextmanager
def juso_server(confm_key: str = CONFM_KEY) -> Iterator[JusoState]:
    """Start a local 도로명주소 API on a free loopback port (`.api_url`); stop it on exit."""
    state = JusoState(confm_key=confm_key)
    with serving(_handler(state), "fake-juso") as url:
        state.url = url
        yield state
