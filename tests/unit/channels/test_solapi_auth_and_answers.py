"""SOLAPI: the documented HMAC-SHA256 header, send-many bodies, and the answers in the data folder."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import httpx

from deliveryhub.adapters.channels.base import OutgoingMessage
from deliveryhub.adapters.channels.solapi import (
    SolapiAlimtalk,
    SolapiSms,
    auth_header,
    parse_auth_header,
    read_send_answer,
    report_status,
    signature,
    verify_auth_header,
)

PAYLOADS = "korean_commerce_payloads"


def _doc_sample(shared_data: Path) -> str:
    doc = (shared_data / PAYLOADS / "solapi__auth_hmac_signature__doc.md").read_text(encoding="utf-8")
    found = re.search(r'"Authorization: (HMAC-SHA256 [^"]+)"', doc)
    assert found is not None
    return found.group(1)


def test_header_has_the_documented_syntax(shared_data: Path) -> None:
    sample = parse_auth_header(_doc_sample(shared_data))
    assert sample == {
        "apiKey": "NCSAYU7YDBXYORXC",
        "date": "2019-07-01T00:41:48Z",
        "salt": "jqsba2jxjnrjor",
        "signature": "1779eac71a24cbeeadfa7263cb84b7ea0af1714f5c0270aa30ffd34600e363b4",
    }
    # The doc publishes no secret, so its signature cannot be recomputed; ours has the same form.
    ours = auth_header("NCSAYU7YDBXYORXC", "s3cret", date=sample["date"], salt=sample["salt"])
    assert ours.split(", signature=")[0] == _doc_sample(shared_data).split(", signature=")[0]
    mine = parse_auth_header(ours)
    assert mine is not None and re.fullmatch(r"[0-9a-f]{64}", mine["signature"])


def test_signature_is_hmac_sha256_of_date_plus_salt() -> None:
    expected = hmac.new(b"secret", b"2019-07-01T00:41:48Zjqsba2jxjnrjor", hashlib.sha256).hexdigest()
    assert signature("secret", "2019-07-01T00:41:48Z", "jqsba2jxjnrjor") == expected
    header = auth_header("KEY", "secret")
    fields = parse_auth_header(header)
    assert fields is not None and 12 <= len(fields["salt"]) <= 64
    assert verify_auth_header(header, "KEY", "secret")
    assert not verify_auth_header(header, "KEY", "other")
    assert auth_header("KEY", "secret") != auth_header("KEY", "secret")  # a fresh salt every time
    assert parse_auth_header("Bearer x") is None


def test_bodies_match_the_documented_requests(shared_data: Path) -> None:
    ata_doc = json.loads(
        (shared_data / PAYLOADS / "solapi__send_many_v4_alimtalk_ATA__request.json").read_text()
    )
    sms_doc = json.loads((shared_data / PAYLOADS / "solapi__send_many_v4_sms__request.json").read_text())
    kakao = SolapiAlimtalk(
        "http://x", "k", "s", "02-930-2266", "KA01PF190227072057634pRBhbpAw1w1", sms_fallback=True
    )
    msg = OutgoingMessage(to="010-0000-0001", text="안내", template_code="tpl", variables={"이름": "홍길동"})
    ours = kakao.message("01000000001", msg)
    doc = ata_doc["messages"][0]
    assert {k for k in doc if k not in ("kakaoOptions", "text")} <= set(ours)
    assert "text" not in ours  # the template is filled from variables
    plain = kakao.message("01000000001", OutgoingMessage(to="", text="안내", template_code="tpl"))
    assert plain["text"] == "안내" and plain["kakaoOptions"]["variables"] == {}
    assert ours["type"] == doc["type"] and ours["from"] == doc["from"] == "029302266"
    assert ours["kakaoOptions"]["pfId"] == doc["kakaoOptions"]["pfId"]
    assert ours["kakaoOptions"]["variables"] == {"#{이름}": "홍길동"}
    assert ours["kakaoOptions"]["disableSms"] is False
    sms = SolapiSms("http://x", "k", "s", "029302266").message("01000000001", OutgoingMessage("", "내용"))
    assert sms == sms_doc["messages"][0]
    lms = SolapiSms("http://x", "k", "s", "029302266").message("01000000001", OutgoingMessage("", "가" * 46))
    assert lms["type"] == "LMS" and lms["subject"]


def _resp(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_published_answers_read_as_accepted_groups(shared_data: Path) -> None:
    for name in ("alimtalk_ATA", "sms"):
        body = json.loads(
            (shared_data / PAYLOADS / f"solapi__send_many_v4_{name}__response.json").read_text()
        )
        result = read_send_answer("solapi", _resp(body))
        assert result.ok and result.message_id == body["groupId"]


def test_failed_message_list_is_a_permanent_failure() -> None:
    body = {
        "groupInfo": {"groupId": "G4V1", "count": {"registeredFailed": 1, "registeredSuccess": 0}},
        "failedMessageList": [
            {"to": "01000000001", "statusCode": "1062", "statusMessage": "발신번호 미등록"}
        ],
    }
    result = read_send_answer("solapi", _resp(body))
    assert not result.ok and result.retryable is False and "1062" in (result.error or "")
    nothing = read_send_answer("solapi", _resp({"count": {"registeredFailed": 1}}))
    assert not nothing.ok and nothing.retryable is False
    ok = read_send_answer("solapi", _resp({"groupInfo": {"groupId": "G4V2"}, "failedMessageList": []}))
    assert ok.ok and ok.message_id == "G4V2"


def test_delivery_report_codes() -> None:
    assert report_status({"statusCode": "4000"}) == "delivered"
    assert report_status([{"statusCode": "3000"}]) is None
    assert report_status({"statusCode": "3059"}) == "failed"
    assert report_status([{"statusCode": "3104"}, {"statusCode": "4000"}]) == "delivered"  # SMS replacement
    assert report_status([]) is None
