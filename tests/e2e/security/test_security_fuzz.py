"""Fuzzing: schemathesis against the app's own OpenAPI (no 500s, no response-schema violations), and
hypothesis against every connector's webhook/payload parser (never raises, emits valid events)."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from deliveryhub.adapters.connectors.base import MappingResult, connector_codes, get_connector
from deliveryhub.adapters.connectors.shopify.mapper import map_webhook
from deliveryhub.contracts.events import parse_event
from deliveryhub.entrypoints.api.app import create_app
from deliveryhub.security.apikeys import create_api_key
from dh_testkit import make_hub

pytestmark = pytest.mark.slow

_TMP = Path(tempfile.mkdtemp(prefix="dh-fuzz-"))
_HUB = make_hub(_TMP, base64.b64encode(secrets.token_bytes(32)).decode())
_ADMIN = create_api_key(_HUB.db, "fuzz-admin", "admin")
_APP = create_app(_HUB, run_worker=False)
EXAMPLES = int(os.environ.get("DH_FUZZ_EXAMPLES", "25"))  # per operation; bounded so `make test` stays quick
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate])  # no shrinking: the curl line already pinpoints a failure
def test_api_never_500_and_matches_its_schema(case: Any) -> None:
    if case.path in ("/v1/crypto/rotate", "/v1/keys/{key_id}"):
        # Starting rotations or revoking the fuzzer's own key would only test the fuzzer.
        case.headers = {**(case.headers or {}), "Authorization": "Bearer dhk_invalid"}
    else:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_ADMIN}"}
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])


# ---------------------------------------------------------------------- webhook / payload parsers
SAMPLES = ["", "2026-11-20T10:00:00+09:00", "91", "배송완료", "delivered", "InTransit", "612345678901"]
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                      st.text(max_size=30), st.sampled_from(SAMPLES))
json_like = st.recursive(json_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.sampled_from([
        "id", "order", "orders", "tracking", "trackings", "data", "msg", "result", "status", "code", "tag",
        "checkpoints", "tracking_details", "events", "invoiceNo", "tracking_number", "datetime", "time",
        "location", "message", "customer", "shipping_address", "line_items", "fulfillments", "created_at",
        "updated_at", "total_price", "financial_status", "name", "phone", "email", "statusCode", "scanType",
    ]) | st.text(max_size=8), kids, max_size=6)), max_leaves=25)


def _check(result: Any) -> None:
    assert isinstance(result, MappingResult)
    for ev in result.events:
        parse_event(ev)  # everything a mapper emits is a valid canonical event


@pytest.mark.parametrize("code", connector_codes())
def test_every_connector_parser_survives_arbitrary_payloads(code: str) -> None:
    connector = get_connector(code)

    @given(payload=json_like)
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    def run(payload: Any) -> None:
        _check(connector.map_payload(payload))

    run()


@given(topic=st.sampled_from(["orders/create", "orders/paid", "orders/cancelled", "orders/updated",
                              "fulfillments/create", "fulfillments/update", "refunds/create",
                              "order_transactions/create", "x/unknown", ""]),
       webhook_id=st.one_of(st.none(), st.text(max_size=40)), payload=json_like)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_shopify_webhook_parser_survives_arbitrary_bodies(topic: str, webhook_id: str | None,
                                                          payload: Any) -> None:
    _check(map_webhook(topic, webhook_id, payload))
