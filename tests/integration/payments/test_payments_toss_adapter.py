"""The Toss Payments adapter against a local Toss server: auth, partial cancels, the Idempotency-Key,
retryable answers (500, 429, PROVIDER_ERROR) versus refusals, and the secret key kept out of every message."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from deliveryhub.adapters.outside.toss import TossError, TossPayments, basic_auth
from deliveryhub.contracts.outside import RefundRequest
from deliveryhub.payments.config import load_payments
from dh_testkit import free_port
from providers.toss_server import TossState, toss_server


@pytest.fixture
def toss() -> Iterator[TossState]:
    with toss_server() as state:
        yield state


def client(toss: TossState, secret: str | None = None) -> TossPayments:
    return TossPayments(secret or toss.secret_key, toss.url, timeout_s=5)


def test_basic_auth_is_the_secret_key_and_a_colon() -> None:
    # The docs' own example: test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R -> dGVzdF9za196WExr…Og==
    value = basic_auth("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R")
    assert value == "Basic dGVzdF9za196WExrS0V5cE5BcldtbzUwblgzbG1lYXhZRzVSOg=="
    assert base64.b64decode(value.split()[1]).endswith(b":")


def test_partial_cancels_then_over_the_balance_is_refused(toss: TossState) -> None:
    key = toss.add_payment("ORD-A1", 30000)
    toss_client = client(toss)
    first = toss_client.refund(RefundRequest("ORD-A1", key, 10000, "부분 반품"), "refund:return:RT-1")
    assert first.outcome == "done"
    assert first.ref == toss.cancels(key)[0]["transactionKey"]
    assert first.data["balance_amount"] == 20000 and first.data["status"] == "PARTIAL_CANCELED"
    over = toss_client.refund(RefundRequest("ORD-A1", key, 25000, "초과"), "refund:comp:E-1")
    assert over.outcome == "refused"
    assert "NOT_CANCELABLE_AMOUNT" in over.message and over.data["status"] == 403
    rest = toss_client.refund(RefundRequest("ORD-A1", key, 20000, "나머지"), "refund:comp:E-2")
    assert rest.outcome == "done" and toss.payment(key)["status"] == "CANCELED"
    more = toss_client.refund(RefundRequest("ORD-A1", key, 1000, "더"), "refund:comp:E-3")
    assert more.outcome == "refused" and "ALREADY_CANCELED_PAYMENT" in more.message
    sent = toss.calls("POST", "/cancel")
    assert [r.body["cancelAmount"] for r in sent] == [10000, 25000, 20000, 1000]
    assert [r.idempotency_key for r in sent] == [
        "refund:return:RT-1",
        "refund:comp:E-1",
        "refund:comp:E-2",
        "refund:comp:E-3",
    ]
    assert all(r.body["cancelReason"] for r in sent)


def test_one_cancel_per_key_even_when_toss_answers_500_once(toss: TossState) -> None:
    key = toss.add_payment("ORD-A2", 30000)
    toss_client = client(toss)
    request = RefundRequest("ORD-A2", key, 12000, "반품 환불")
    toss.fail_next(500, after=True)  # Toss cancels, the answer is lost
    lost = toss_client.refund(request, "refund:return:RT-2")
    assert lost.outcome == "retry" and "FAILED_INTERNAL_SYSTEM_PROCESSING" in lost.message
    again = toss_client.refund(request, "refund:return:RT-2")
    assert again.outcome == "done"
    assert len(toss.cancels(key)) == 1
    assert again.ref == toss.cancels(key)[0]["transactionKey"]
    assert toss.payment(key)["balanceAmount"] == 18000
    once_more = toss_client.refund(request, "refund:return:RT-2")  # a third try: still the first answer
    assert once_more.outcome == "done" and once_more.ref == again.ref and len(toss.cancels(key)) == 1


def test_500_before_acting_is_retried_and_429_honours_retry_after(toss: TossState) -> None:
    key = toss.add_payment("ORD-A3", 5000)
    toss_client = client(toss)
    request = RefundRequest("ORD-A3", key, 5000, "취소")
    toss.fail_next(500)
    assert toss_client.refund(request, "refund:cancel:ORD-A3").outcome == "retry"
    toss.fail_next(429, retry_after=7)
    limited = toss_client.refund(request, "refund:cancel:ORD-A3")
    assert (limited.outcome, limited.retry_after) == ("retry", 7.0)
    toss.fail_next(
        400, code="PROVIDER_ERROR", message="일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."
    )
    assert toss_client.refund(request, "refund:cancel:ORD-A3").outcome == "retry"
    toss.fail_next(403, code="FORBIDDEN_CONSECUTIVE_REQUEST", message="반복적인 요청은 허용되지 않습니다.")
    assert toss_client.refund(request, "refund:cancel:ORD-A3").outcome == "retry"
    assert toss_client.refund(request, "refund:cancel:ORD-A3").outcome == "done"
    assert len(toss.cancels(key)) == 1


def test_a_wrong_secret_is_refused_and_never_echoed(toss: TossState) -> None:
    key = toss.add_payment("ORD-A4", 5000)
    wrong = "test_sk_WRONG_secret_value_42"
    toss_client = client(toss, wrong)
    result = toss_client.refund(RefundRequest("ORD-A4", key, 5000, "취소"), "refund:cancel:ORD-A4")
    assert result.outcome == "refused" and "UNAUTHORIZED_KEY" in result.message
    assert wrong not in result.message and wrong not in repr(toss_client)
    with pytest.raises(TossError) as err:
        toss_client.get_payment(key)
    assert not err.value.retryable and wrong not in str(err.value)
    assert toss.cancels(key) == []


def test_unknown_payment_and_bad_input(toss: TossState) -> None:
    toss_client = client(toss)
    assert toss_client.get_payment("no_such_key") is None
    assert toss_client.get_payment("../etc/passwd") is None  # never sent
    missing = toss_client.refund(RefundRequest("O", "no_such_key", 1000, "x"), "k1")
    assert missing.outcome == "refused" and "NOT_FOUND_PAYMENT" in missing.message
    assert toss_client.refund(RefundRequest("O", "a/b", 1000, "x"), "k2").outcome == "refused"
    assert toss_client.refund(RefundRequest("O", "abc", 0, "x"), "k3").outcome == "refused"
    assert toss_client.refund(RefundRequest("O", "abc", 10, "x"), "k" * 301).outcome == "refused"
    assert all("/etc" not in r.path and "a/b" not in r.path for r in toss.calls())


def test_unreachable_toss_is_a_retry() -> None:
    toss_client = TossPayments("test_sk_x", f"http://127.0.0.1:{free_port()}", timeout_s=2)
    result = toss_client.refund(RefundRequest("O", "abc", 1000, "x"), "k")
    assert result.outcome == "retry" and "unreachable" in result.message
    with pytest.raises(TossError) as err:
        toss_client.get_payment("abc")
    assert err.value.retryable


def test_config_section_wins_over_the_environment_and_reads_env_refs(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        'payments:\n  toss_secret_key: "${MY_TOSS_KEY}"\n  toss_base_url: http://toss.local\n',
        encoding="utf-8",
    )
    env = {"MY_TOSS_KEY": "live_sk_from_env_var", "DELIVERYHUB_TOSS_SECRET_KEY": "test_sk_fallback"}
    cfg = load_payments(path, environ=env)
    assert (
        cfg.toss_secret_key is not None and cfg.toss_secret_key.get_secret_value() == "live_sk_from_env_var"
    )
    assert cfg.toss_base_url == "http://toss.local"
    assert "live_sk_from_env_var" not in repr(cfg)
    fallback = load_payments(None, environ={"DELIVERYHUB_TOSS_SECRET_KEY": "test_sk_fallback"})
    assert fallback.toss_secret_key is not None
    assert fallback.toss_secret_key.get_secret_value() == "test_sk_fallback"
    assert fallback.toss_base_url == "https://api.tosspayments.com"
    assert load_payments(None, environ={}).toss_secret_key is None
