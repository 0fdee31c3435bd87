"""Every mapper returns a MappingResult on arbitrary JSON; nothing it emits breaks the envelope rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deliveryhub.adapters.connectors import base, tracking
from deliveryhub.adapters.connectors.shopify import mapper as shopify
from deliveryhub.contracts.events import TRACKING_TAGS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)

# Payloads that look like the real shapes, with arbitrary values inside, reach deeper code paths.
KEYS = st.sampled_from(
    [
        "tracking_no",
        "events",
        "order_id",
        "time",
        "code",
        "status",
        "message",
        "response",
        "companyName",
        "result",
        "date",
        "state",
        "msg",
        "data",
        "tracking",
        "checkpoints",
        "checkpoint_time",
        "tag",
        "subtag",
        "object",
        "tracking_details",
        "trackers",
        "datetime",
        "status_detail",
        "id",
        "created_at",
        "shipping_address",
        "line_items",
        "fulfillments",
        "tracking_numbers",
        "shipment_status",
        "tracking_number",
    ]
)
shaped = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=20)
    | st.sampled_from(["Tracker", "Event", "cj", "2024-05-02 10:00"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=30,
)


parse_event: Callable[[Any], Any] | None
try:  # the lead's contract: every emitted event must pass it, or it would land in quarantine
    from deliveryhub.contracts.events import parse_event
except ImportError:  # pragma: no cover - contract module not present in this checkout
    parse_event = None


def check(result: base.MappingResult) -> None:
    assert isinstance(result, base.MappingResult)
    assert all(isinstance(u, str) for u in result.unmapped)
    for event in result.events:
        assert set(event) == {"event_id", "source", "type", "occurred_at", "order_id", "shipment_id", "data"}
        assert isinstance(event["event_id"], str) and 1 <= len(event["event_id"]) <= 128
        assert isinstance(event["order_id"], str) and event["order_id"]
        assert event["source"] != "shopify"
        if parse_event is not None:
            parse_event(event)
        status = event["data"].get("status")
        if event["type"] == "shipment.tracking":
            assert status is None or status in TRACKING_TAGS


@settings(max_examples=150, deadline=None)
@given(payload=json_values | shaped)
def test_every_registered_mapper_never_raises(payload: Any) -> None:
    for code in base.connector_codes():
        check(base.get_connector(code).map_payload(payload))
    check(tracking.map_search_post(payload))


@settings(max_examples=150, deadline=None)
@given(
    topic=st.sampled_from(
        [
            "orders/create",
            "orders/paid",
            "orders/cancelled",
            "orders/updated",
            "fulfillments/create",
            "fulfillment_events/create",
            "refunds/create",
            "order_transactions/create",
            "x",
        ]
    ),
    webhook_id=st.none() | st.text(max_size=10),
    payload=json_values | shaped,
)
def test_shopify_webhooks_never_raise(topic: str, webhook_id: str | None, payload: Any) -> None:
    check(shopify.map_webhook(topic, webhook_id, payload))


@settings(max_examples=200, deadline=None)
@given(
    carrier=st.sampled_from([*base.connector_codes(), "x"]),
    code=st.none() | st.text(max_size=5),
    text=st.none() | st.text(max_size=30),
)
def test_normalize_status_never_raises(carrier: str, code: str | None, text: str | None) -> None:
    tag, _reason, known = tracking.normalize_status(carrier, code, text, message=text)
    assert (tag in TRACKING_TAGS) if known else tag is None


@given(text=st.text(max_size=60))
def test_mask_personal_never_raises(text: str) -> None:
    assert isinstance(tracking.mask_personal(text), str)
