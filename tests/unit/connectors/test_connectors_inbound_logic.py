"""Pure pieces of inbound authentication: the signed message, allowlists, and Shopify topic/body fit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deliveryhub.adapters.connectors.base import parse_allowlist
from deliveryhub.adapters.connectors.shopify.topics import may_share_body, mismatch
from deliveryhub.adapters.connectors.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign_push,
    verify_timestamped,
)

SAMPLE = "carrier_shop_api_payloads/shopify/sample_webhook_orders_create.json"


def test_signature_binds_timestamp_and_body() -> None:
    body = b'{"tracking_no":"1"}'
    headers = sign_push("s3cret", body, 1_700_000_000)
    assert set(headers) == {SIGNATURE_HEADER} and TIMESTAMP_HEADER not in headers
    ts, v1 = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
    assert ts == "1700000000" and len(v1) == 64
    sig = "sha256=" + v1  # the same HMAC in the two-header form
    assert verify_timestamped(body, ts, sig, "s3cret")
    assert verify_timestamped(body, ts, sig.removeprefix("sha256=").upper(), "s3cret")  # bare hex, any case
    assert not verify_timestamped(body, "1700000001", sig, "s3cret")  # moved timestamp
    assert not verify_timestamped(body + b" ", ts, sig, "s3cret")  # changed body
    assert not verify_timestamped(body, ts, sig, "s3cret ")  # other secret
    assert not verify_timestamped(body, ts, "sha256=", "s3cret")
    assert not verify_timestamped(body, ts, "sha256=" + "ä" * 64, "s3cret")  # junk never raises


def test_allowlist_parsing_names_the_bad_entry() -> None:
    nets = parse_allowlist(" 10.0.0.0/8, 192.0.2.7 ,,2001:db8::/32", "X")
    assert [str(n) for n in nets] == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]
    assert parse_allowlist("10.1.2.3/8", "X")[0].prefixlen == 8  # host bits tolerated
    with pytest.raises(ValueError, match="DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS: '10.0.0.0/33'"):
        parse_allowlist("10.0.0.0/8,10.0.0.0/33", "DELIVERYHUB_CJ_WEBHOOK_ALLOW_IPS")
    with pytest.raises(ValueError, match="'\\*'"):
        parse_allowlist("*", "X")


@pytest.fixture
def order(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / SAMPLE).read_text())  # type: ignore[no-any-return]


def test_order_topics_need_their_facts(order: dict[str, Any]) -> None:
    assert mismatch("orders/create", order) is None
    assert mismatch("orders/cancelled", dict(order, cancelled_at=None)) == (
        "cancelled_at",
        "orders/cancelled needs cancelled_at",
    )
    assert mismatch("orders/cancelled", order) is None  # the sample does carry cancelled_at
    assert mismatch("orders/paid", order)[0] == "financial_status"  # type: ignore[index]
    assert mismatch("orders/paid", dict(order, financial_status="paid")) is None
    assert mismatch("orders/fulfilled", order)[0] == "fulfillment_status"  # type: ignore[index]
    assert mismatch("orders/fulfilled", dict(order, fulfillment_status="fulfilled")) is None
    assert mismatch("orders/create", {"id": 1})[0] == "body"  # type: ignore[index]
    assert mismatch("orders/create", dict(order, order_id=5))[0] == "body"  # type: ignore[index]
    assert mismatch("orders/create", [order])[0] == "body"  # type: ignore[index]


def test_other_topics_need_their_object(order: dict[str, Any]) -> None:
    fulfillment = {"id": 9, "order_id": order["id"], "status": "success", "tracking_number": "1"}
    assert mismatch("fulfillments/create", fulfillment) is None
    assert mismatch("fulfillments/update", dict(fulfillment, status=None)) == (
        "status",
        "fulfillments/update needs status",
    )
    assert mismatch("fulfillments/create", order)[0] == "order_id"  # type: ignore[index]
    assert mismatch("fulfillments/create", dict(order, order_id=1, status="x"))[0] == "body"  # type: ignore[index]
    assert mismatch("refunds/create", {"id": 1, "order_id": 2, "transactions": []}) is None
    assert mismatch("refunds/create", {"id": 1, "order_id": 2})[0] == "transactions"  # type: ignore[index]
    assert mismatch("products/create", {"id": 1}) is None  # not mapped, so not checked


def test_which_topics_may_share_one_body() -> None:
    assert may_share_body("orders/create", "orders/create")
    assert may_share_body("orders/create", "orders/paid")
    assert may_share_body("orders/cancelled", "orders/updated")
    assert may_share_body("orders/updated", "orders/fulfilled")
    assert may_share_body("orders/paid", "orders/fulfilled")  # a till order: created paid and fulfilled
    assert not may_share_body("orders/create", "orders/cancelled")
    assert not may_share_body("orders/paid", "orders/cancelled")
    assert not may_share_body("orders/cancelled", "orders/create")
    assert not may_share_body("orders/updated", "fulfillments/create")
    assert not may_share_body("fulfillments/create", "fulfillments/update")
