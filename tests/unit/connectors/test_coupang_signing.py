"""Coupang Wing HMAC: the published Python example (assets/guides/hmac-example.sample.ts) reproduces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from deliveryhub.adapters.connectors.coupang.client import (
    authorization,
    parse_authorization,
    signature,
    signed_date,
)

# The example's own keys, path and query; it prints no fixed date, so one is chosen here and the expected
# signature was computed independently: printf '%s' "$message" | openssl dgst -sha256 -hmac "$secret".
ACCESS = "0a3a0f34-7852-4ad8-9368-766290b8b1ab"
SECRET = "7ffcdf980d908fe7ca3d642868e22f99f0306bf5"
PATH = "/v2/providers/openapi/apis/api/v4/vendors/A00******/returnRequests"
QUERY = urlencode({"createdAtFrom": "2018-08-08", "createdAtTo": "2018-08-08", "status": "UC"})
AT = datetime(2018, 8, 8, 9, 15, 0, tzinfo=UTC)
EXPECTED = "075d20be6e68836d34d44f1f4e44e73887666acc8512993aa90aaa4a495172dc"


def test_signed_date_is_utc_yymmdd_t_hhmmss_z() -> None:
    assert signed_date(AT) == "180808T091500Z"
    assert signed_date(AT.astimezone(timezone(timedelta(hours=9)))) == "180808T091500Z"


def test_published_example_reproduces() -> None:
    assert QUERY == "createdAtFrom=2018-08-08&createdAtTo=2018-08-08&status=UC"
    assert signature(SECRET, "180808T091500Z", "GET", PATH, QUERY) == EXPECTED
    header = authorization(ACCESS, SECRET, "GET", PATH, QUERY, AT)
    assert header == (
        f"CEA algorithm=HmacSHA256, access-key={ACCESS}, signed-date=180808T091500Z, signature={EXPECTED}"
    )
    assert parse_authorization(header) == {
        "algorithm": "HmacSHA256",
        "access-key": ACCESS,
        "signed-date": "180808T091500Z",
        "signature": EXPECTED,
    }


def test_the_example_file_builds_the_message_this_way(shared_data: Path) -> None:
    text = (shared_data / "korean_commerce_payloads" / "coupang_wing__hmac_signing_examples.md").read_text()
    assert "message = datetime+method+path+query" in text
    assert 'authorization  = "CEA algorithm=HmacSHA256, access-key="+accesskey+", signed-date="' in text
    assert f'accesskey = "{ACCESS}"' in text and f'secretkey = "{SECRET}"' in text


def test_method_and_query_are_signed() -> None:
    base = signature(SECRET, "180808T091500Z", "GET", PATH, QUERY)
    assert signature(SECRET, "180808T091500Z", "PUT", PATH, QUERY) != base
    assert signature(SECRET, "180808T091500Z", "GET", PATH, QUERY + "&x=1") != base
    assert parse_authorization("Bearer x") == {}
