"""도로명주소 검색 API (business.juso.go.kr): the `AddressLookup` port.

As the service documents it: ``GET {url}?confmKey=…&currentPage=1&countPerPage=N&keyword=…&resultType=json``
answers ``{"results": {"common": {"errorCode", "errorMessage", "totalCount", …}, "juso": [ … ]}}``; errorCode
"0" is success (E0001 an unapproved key, E0005–E0013 a keyword the service will not search). Each ``juso``
element has ``zipNo``, ``roadAddrPart1`` (the road address without 참고항목), ``roadAddr``, ``jibunAddr``,
``siNm``, ``sggNm``, ``rn``, ``buldMnnm``/``buldSlno``, ``bdNm``, ``engAddr`` ….

`lookup` never raises: an error code, a timeout or an unreachable service answers [] (and logs the code,
never the approval key).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import structlog

from deliveryhub.contracts.outside import NormalisedAddress
from deliveryhub.domain.address import check_address, is_jeju, remote_area

log = structlog.get_logger(__name__)

DEFAULT_URL = "https://business.juso.go.kr/addrlink/addrLinkApi.do"
# Characters the service refuses in a keyword (E0013: SQL reserved words or % = > < [ ]), and its length cap
# (E0010: 한글 40자, 영문·숫자 80자).
_FORBIDDEN = re.compile(r"[%=><\[\]{}();'\"\\|*^$#@!?~`+]")
_MAX_KEYWORD = 40


def keyword_of(text: str) -> str:
    """The search keyword for a customer's text: the road part when it reads as one (the detail — 동, 호,
    층 — and the zip make the service find nothing), refused characters dropped, capped."""
    parsed = check_address(text or "")
    if parsed.road and parsed.building_no:
        words = (parsed.sido, parsed.sigungu, parsed.road, parsed.building_no)
        text = " ".join(w for w in words if w)
    text = re.sub(r"(?<!\d)\d{5}(?!\d)|(?<!\d)\d{3}-\d{3}(?!\d)", " ", text or "")  # a zip is no keyword
    text = _FORBIDDEN.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:_MAX_KEYWORD].strip()


class JusoLookup:
    """Road-name address search through the 도로명주소 API."""

    def __init__(
        self,
        confm_key: str,
        url: str = DEFAULT_URL,
        *,
        timeout_s: float = 3.0,
        count: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not confm_key:
            raise ValueError("a 도로명주소 API approval key (confmKey) is required")
        self._key = confm_key
        self.url = url
        self.timeout_s = timeout_s
        self.count = max(1, min(count, 100))
        self._transport = transport

    def __repr__(self) -> str:
        return f"JusoLookup(url={self.url!r}, confm_key=***)"

    def lookup(self, text: str) -> list[NormalisedAddress]:
        """The road-name addresses matching `text` (best first); [] when none or the service failed."""
        keyword = keyword_of(text)
        if len(keyword) < 2:
            return []
        params = {
            "confmKey": self._key,
            "currentPage": "1",
            "countPerPage": str(self.count),
            "keyword": keyword,
            "resultType": "json",
        }
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
                resp = client.get(self.url, params=params)
        except httpx.HTTPError as exc:
            log.info("juso_unreachable", error=type(exc).__name__)
            return []
        if resp.status_code != 200:
            log.info("juso_http_error", status=resp.status_code)
            return []
        try:
            body = resp.json()
        except ValueError:
            log.info("juso_not_json")
            return []
        return parse_results(body)


def parse_results(body: Any) -> list[NormalisedAddress]:
    """The addresses of an addrLinkApi JSON answer; [] on an error code or an unexpected shape."""
    results = body.get("results") if isinstance(body, Mapping) else None
    common = results.get("common") if isinstance(results, Mapping) else None
    if not isinstance(results, Mapping) or not isinstance(common, Mapping):
        log.info("juso_unexpected_shape")
        return []
    code = str(common.get("errorCode", ""))
    if code != "0":
        log.info("juso_error", code=code[:16])
        return []
    out: list[NormalisedAddress] = []
    for item in results.get("juso") or []:
        if not isinstance(item, Mapping):
            continue
        zip_no = str(item.get("zipNo") or "").strip()
        line1 = str(item.get("roadAddrPart1") or item.get("roadAddr") or "").strip()
        if not (re.fullmatch(r"\d{5}", zip_no) and line1):
            continue
        out.append(
            NormalisedAddress(
                zip=zip_no,
                line1=line1,
                line2="",  # the detail (동/호) is the customer's: the caller keeps it from their text
                jeju=is_jeju(zip_no),
                remote=remote_area(zip_no) is not None,
                jibun=str(item.get("jibunAddr") or "").strip() or None,
                source="juso",
            )
        )
    return out
