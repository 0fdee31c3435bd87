"""Pure logic of notifications: policy windows, backoff, rules validation and matching, rendering,
tracking tokens, webhook signatures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deliveryhub.adapters.channels.base import OutgoingMessage
from deliveryhub.adapters.channels.kakao import NhnAlimtalk
from deliveryhub.adapters.channels.sms import NhnSms, sms_bytes
from deliveryhub.adapters.channels.webhook import sign, verify
from deliveryhub.domain.lifecycle import CUSTOMER_FACING_STAGES
from deliveryhub.kernel.retry import backoff_delay
from deliveryhub.notifications import policy
from deliveryhub.notifications.render import eta_text, fill, render, template_codes, variables_of
from deliveryhub.notifications.rules import RuleError, load_rules, parse_rules, trigger_of
from deliveryhub.notifications.tracking import make_token, read_token

SEOUL_22 = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)  # 22:00 KST


def test_advertising_at_22_is_deferred_to_08_seoul() -> None:
    assert policy.next_allowed(SEOUL_22, advertising=True, quiet=None) == datetime(
        2026, 11, 22, 23, 0, tzinfo=UTC
    )
    assert policy.next_allowed(SEOUL_22, advertising=False, quiet=None) == SEOUL_22


@pytest.mark.parametrize(
    ("hh", "mm", "deferred"), [(20, 59, False), (21, 0, True), (7, 59, True), (8, 0, False)]
)
def test_ad_night_window_edges(hh: int, mm: int, deferred: bool) -> None:
    local = datetime(2026, 11, 23, hh, mm, tzinfo=policy.ZoneInfo("Asia/Seoul"))
    out = policy.next_allowed(local.astimezone(UTC), advertising=True, quiet=None)
    assert (out != local) is deferred
    if deferred:
        assert out.astimezone(policy.ZoneInfo("Asia/Seoul")).time() == time(8, 0)


def test_customer_quiet_hours_apply_to_informational_and_chain_with_ad_night() -> None:
    quiet = (time(22, 0), time(9, 30))
    out = policy.next_allowed(SEOUL_22, advertising=False, quiet=quiet)
    assert out.astimezone(policy.ZoneInfo("Asia/Seoul")).time() == time(9, 30)
    # Ad night ends 08:00 but the customer sleeps until 09:30.
    assert policy.next_allowed(SEOUL_22, advertising=True, quiet=quiet) == out
    assert policy.next_allowed(SEOUL_22, advertising=False, quiet=(time(8, 0), time(12, 0))) == SEOUL_22


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
def test_ads_never_land_in_the_night(naive: datetime) -> None:
    out = policy.next_allowed(naive.replace(tzinfo=UTC), advertising=True, quiet=None)
    local = out.astimezone(policy.ZoneInfo("Asia/Seoul")).time()
    assert not policy.in_window(local, time(21, 0), time(8, 0))
    assert out >= naive.replace(tzinfo=UTC)


def test_notice_retry_backoff_is_exponential_with_equal_jitter_and_capped() -> None:
    # The schedule the sender stores for a notice's next attempt (kernel.retry, "equal" jitter).
    def delay(attempt: int, rand: float) -> float:
        return backoff_delay(attempt, 30, 3600, jitter="equal", rand=rand)

    assert delay(1, 0.0) == 15 and delay(1, 0.999) < 30
    assert delay(3, 0.0) == 60
    assert delay(20, 0.5) == 2700


def test_advertising_never_goes_by_alimtalk_and_opt_out_removes_channels() -> None:
    assert policy.allowed_channels(["kakao", "sms", "email"], advertising=True, opt_out=set()) == [
        "sms",
        "email",
    ]
    assert policy.allowed_channels(["kakao", "sms", "email"], advertising=False, opt_out={"sms"}) == [
        "kakao",
        "email",
    ]


def test_default_rules_load_and_cover_every_customer_facing_stage() -> None:
    rules = load_rules()
    stages = {
        n for r in rules if r.kind == "stage" and r.audience == "customer" and r.required for n in r.names
    }
    assert stages == CUSTOMER_FACING_STAGES
    assert all(r.template in template_codes() for r in rules)


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"id": "x", "on": {"stage": ["received"]}, "template": "nope", "channels": ["email"]}, "template"),
        (
            {"id": "x", "on": {"stage": ["received"]}, "template": "delivered", "channels": ["pigeon"]},
            "channels",
        ),
        (
            {
                "id": "x",
                "on": {"stage": ["received"]},
                "template": "delivered",
                "channels": ["email"],
                "audience": "x",
            },
            "audience",
        ),
        ({"id": "x", "on": {"when": ["received"]}, "template": "delivered", "channels": ["email"]}, "on"),
        (
            {
                "id": "x",
                "on": {"stage": ["delivered"]},
                "template": "review_coupon",
                "channels": ["kakao"],
                "advertising": True,
            },
            "channels",
        ),
        (
            {
                "id": "x",
                "on": {"stage": ["delivered"]},
                "template": "delivered",
                "channels": ["email"],
                "color": 1,
            },
            "unknown field",
        ),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(rule: dict[str, object], field: str) -> None:
    with pytest.raises(RuleError) as err:
        parse_rules({"rules": [rule]}, "my.yaml")
    assert "rule 'x'" in str(err.value) and field in str(err.value)


def test_rule_conditions_and_once_per_keys() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "id": "big_refund",
                    "on": {"event": ["return.refunded"]},
                    "template": "return_refunded",
                    "channels": ["email"],
                    "when": {"amount": {"exists": True}},
                },
                {
                    "id": "eta",
                    "on": {"event": ["shipment.eta_updated"]},
                    "template": "eta_revised",
                    "channels": ["email"],
                    "once_per": "eta",
                },
            ]
        }
    )
    refund = trigger_of(
        "return.refunded", {"type": "return.refunded", "order_id": "O", "data": {"amount": 5}}, "O"
    )
    no_amount = trigger_of("return.refunded", {"type": "return.refunded", "order_id": "O", "data": {}}, "O")
    assert refund is not None and no_amount is not None
    assert rules[0].matches(refund) and not rules[0].matches(no_amount)
    eta = trigger_of(
        "shipment.eta_updated",
        {"type": "shipment.eta_updated", "order_id": "O", "data": {"eta_min": "a", "eta_max": "b"}},
        "O",
    )
    assert eta is not None and rules[1].stage_key(eta) == "eta:a/b"


def test_trigger_of_stage_changes_and_exceptions() -> None:
    assert trigger_of("order.stage_changed", {"stage": "delivered", "current": False}, "O") is None
    t = trigger_of("order.stage_changed", {"order_id": "O", "stage": "delivered", "current": True}, "O")
    assert t is not None and (t.kind, t.name) == ("stage", "delivered")
    ex = trigger_of("exception.opened", {"exception_id": 7, "type": "delay_risk", "order_id": "O"}, "O")
    assert ex is not None and (ex.kind, ex.name, ex.ref) == ("exception", "delay_risk", "7")


def test_fill_and_variables() -> None:
    assert variables_of("#{고객명}님 #{주문번호}") == ["고객명", "주문번호"]
    assert fill("#{고객명}님, #{없음}!", {"고객명": "홍길동"}) == "홍길동님, !"


def test_eta_text_ko_en() -> None:
    lo, hi = "2026-11-23T05:00:00+00:00", "2026-11-23T07:00:00+00:00"
    assert eta_text(lo, hi, "ko", "Asia/Seoul") == "11월 23일(월) 14:00~16:00"
    assert eta_text(lo, hi, "en", "Asia/Seoul") == "Mon 23 Nov 14:00–16:00"
    assert eta_text(None, None, "ko", "Asia/Seoul") == "확인 중"


def test_render_advertising_and_html_escaping() -> None:
    out = render(
        "review_coupon",
        "ko",
        {"상점명": "샵", "고객명": "<b>x</b>"},
        advertising=True,
        opt_out_line="무료수신거부 080-111-2222",
    )
    assert out["text"].startswith("(광고)") and out["subject"].startswith("(광고)")
    assert out["text"].endswith("무료수신거부 080-111-2222")
    assert "<b>x</b>" not in out["html"] and "&lt;b&gt;x&lt;/b&gt;" in out["html"]
    info = render("delivered", "en", {"상점명": "Shop", "고객명": "Kim", "주문번호": "O-1"})
    assert not info["text"].startswith("(광고)") and "order O-1 was delivered" in info["text"]


def test_every_template_in_both_languages_uses_known_variables() -> None:
    from deliveryhub.notifications.render import messages, variables_for

    known = set(variables_for({}, "ko", "Asia/Seoul", "s", "n"))
    for lang in ("ko", "en"):
        for code, tpl in messages(lang).items():
            assert set(variables_of(tpl["text"] + tpl["subject"])) <= known, (lang, code)
            assert len(tpl["text"]) < 1000


def test_tracking_tokens() -> None:
    key = b"k" * 32
    issued = datetime(2026, 11, 1, tzinfo=UTC)
    token = make_token(key, "O-1/한글", 3, issued)
    assert read_token(key, token) == "O-1/한글"
    assert read_token(b"x" * 32, token) is None
    head, gen, at, mac = token.split(".")
    assert (gen, at) == ("3", str(int(issued.timestamp())))
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert read_token(key, f"{head}.{gen}.{at}.{flipped}") is None
    # Every signed part is covered: another order, a newer generation, a later issue time.
    assert read_token(key, f"{make_token(key, 'O-2').split('.')[0]}.{gen}.{at}.{mac}") is None
    assert read_token(key, f"{head}.4.{at}.{mac}") is None
    assert read_token(key, f"{head}.{gen}.{int(at) + 86400}.{mac}") is None
    for bad in ("!!!", "", f"{head}.{mac}", f"{head}.0.{at}.{mac}", f"{head}.-1.{at}.{mac}", "a.b.c.d.e"):
        assert read_token(key, bad) is None, bad
    assert read_token(key, token + "한") is None and read_token(key, "x" * 401) is None


def test_webhook_signature_documented_algorithm() -> None:
    body = b'{"order_id":"O-1"}'
    header = sign("s3cret", body, 1_700_000_000)
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("s3cret", header, body, now=1_700_001_000)  # too old: replay
    assert not verify("s3cret", "garbage", body)


def test_nhn_request_bodies() -> None:
    msg = OutgoingMessage(
        to="+82 10-1234-5678",
        text="안녕하세요",
        template_code="delivered",
        variables={"주문번호": "O-1"},
        idempotency_key="O-1|delivered|delivered",
    )
    body = NhnAlimtalk("http://x", "app", "secret", "sender").request_body(msg)
    assert body == {
        "senderKey": "sender",
        "templateCode": "delivered",
        "recipientList": [
            {
                "recipientNo": "01012345678",
                "templateParameter": {"주문번호": "O-1"},
                "resendParameter": {"isResend": False},
                "recipientGroupingKey": "O-1|delivered|delivered",
            }
        ],
    }
    path, sms = NhnSms("http://x", "app", "s", "15770000").request(msg)
    assert path == "/sms/v3.0/appKeys/app/sender/sms" and sms["sendNo"] == "15770000"
    long = OutgoingMessage(to="01012345678", text="가" * 46, subject="제목")
    assert sms_bytes(long.text) == 92
    assert NhnSms("http://x", "app", "s", "1").request(long)[0].endswith("/sender/mms")


def test_console_redacts_every_tracking_token() -> None:
    from deliveryhub.adapters.channels.console import redact_links

    token = make_token(b"k" * 32, "O-1/한글", 2, datetime(2026, 11, 1, tzinfo=UTC))
    link = f"https://shop.example/track/{token}"
    text = f"배송 조회: {link}\n(영문) {link}?lang=en. 챗봇: https://shop.example/chat?t={token}&lang=en"
    out = redact_links(text, link)
    mac = token.rsplit(".", 1)[1]
    assert mac not in out and token.split(".")[0] not in out
    assert out.count("/track/[redacted]") == 2 and "chat?t=[redacted]&lang=en" in out
    assert redact_links("no link here, order O-1") == "no link here, order O-1"
