"""Inbound webhooks: Shopify order webhooks and carrier tracking pushes, signature-verified, into ingest.

Public by prefix (``/v1/webhooks/``): the signature is the authentication. The raw body is verified
before it is parsed; a wrong or missing signature answers 401 and stores nothing. Event ids come from the
webhook id / payload facts (see the mappers), so a re-delivered webhook is a no-op in the inbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.adapters.connectors import runtime
from deliveryhub.adapters.connectors.base import MappingResult, get_connector
from deliveryhub.adapters.connectors.shopify import mapper as shopify_mapper
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.entrypoints.api.deps import HubDep
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.security.cipher import decrypt_field

log = structlog.get_logger(__name__)

PUSH_CARRIERS: tuple[str, ...] = ("cj", "lotte", "hanjin", "epost", "logen", "aftership", "easypost")
# Carriers that always sign their pushes: refused when we hold no secret to check them with.
SIGNING_CARRIERS = frozenset({"aftership", "easypost"})

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


# ----------------------------------------------------------------------------------------- signatures


def _hmac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def verify_aftership(body: bytes, header: str | None, secret: str) -> bool:
    """``aftership-hmac-sha256``: base64 HMAC-SHA256 of the raw body with the webhook secret."""
    if not header or not secret:
        return False
    expected = base64.b64encode(_hmac(secret, body))
    return hmac.compare_digest(expected, header.strip().encode())


def verify_easypost(body: bytes, header: str | None, secret: str) -> bool:
    """``X-Hmac-Signature: hmac-sha256-hex=<hex>``; EasyPost NFKD-normalizes the secret first."""
    if not header or not secret:
        return False
    key = unicodedata.normalize("NFKD", secret)
    expected = ("hmac-sha256-hex=" + _hmac(key, body).hex()).encode()
    return hmac.compare_digest(expected, header.strip().lower().encode())


def verify_shared(body: bytes, header: str | None, secret: str) -> bool:
    """``X-Deliveryhub-Signature: sha256=<hex>`` (or bare hex) for carriers sharing a secret with us."""
    if not header or not secret:
        return False
    value = header.strip().lower()
    value = value.split("=", 1)[1] if value.startswith("sha256=") else value
    return hmac.compare_digest(_hmac(secret, body).hex().encode(), value.encode())


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "invalid_signature", message)


# ------------------------------------------------------------------------------------------- helpers


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {exc}", "body") from None


def _answer(results: list[Any], mapped: MappingResult, **extra: Any) -> dict[str, Any]:
    items = [r.as_dict() for r in results]
    counts = {s: sum(1 for r in items if r["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {**extra, **counts, "results": items, "unmapped": mapped.unmapped}


def _stored_address(hub: Any, order_id: str) -> dict[str, Any] | None:
    """The order's current address (decrypted in memory only) so an unchanged orders/updated is no event."""
    try:
        with hub.db.read() as conn:
            row = conn.execute(
                sa.select(
                    t.customers.c.customer_id,
                    t.customers.c.kek_id,
                    t.customers.c.dek_wrapped,
                    t.customers.c.address_enc,
                )
                .join(t.orders, t.orders.c.customer_id == t.customers.c.customer_id)
                .where(t.orders.c.order_id == order_id)
            ).first()
        if row is None or row.address_enc is None or row.dek_wrapped is None:
            return None
        dek = hub.keyring.unwrap_dek(row.customer_id, row.kek_id, row.dek_wrapped)
        text = decrypt_field(dek, row.customer_id, "address", row.address_enc)
        value = orjson.loads(text) if text else None
        return value if isinstance(value, dict) else None
    except Exception:  # noqa: BLE001 - no previous address only means the change is recorded
        log.warning("shopify_previous_address_unavailable", order_id=order_id)
        return None


def resolve_orders(hub: Any, mapped: MappingResult) -> None:
    """Replace ``unknown:<tracking no>`` order ids with the order whose parcel carries that number."""
    numbers = {
        str(e.get("shipment_id"))
        for e in mapped.events
        if str(e.get("order_id") or "").startswith("unknown:") and e.get("shipment_id")
    }
    if not numbers:
        return
    with hub.db.read() as conn:
        rows = conn.execute(
            sa.select(t.parcels.c.tracking_no, t.parcels.c.order_id, t.parcels.c.carrier).where(
                t.parcels.c.tracking_no.in_(sorted(numbers))
            )
        ).all()
    owners: dict[str, set[str]] = {}
    for r in rows:
        owners.setdefault(r.tracking_no, set()).add(r.order_id)
    resolved: set[str] = set()
    for ev in mapped.events:
        number = str(ev.get("shipment_id") or "")
        if str(ev.get("order_id") or "").startswith("unknown:") and len(owners.get(number, ())) == 1:
            ev["order_id"] = next(iter(owners[number]))
            resolved.add(number)
    if resolved:
        mapped.unmapped = [u for u in mapped.unmapped if not any(f"unknown:{n}" in u for n in resolved)]


# ------------------------------------------------------------------------------------------- Shopify


@router.post("/shopify", summary="Shopify-format order webhook (X-Shopify-Hmac-Sha256)")
async def shopify_webhook(request: Request, hub: HubDep) -> dict[str, Any]:
    """Verify the HMAC over the raw body, map the topic to canonical events and ingest them."""
    body = await request.body()
    shop = request.headers.get("x-shopify-shop-domain")
    config = _config(hub)  # read per request: a rotated per-shop secret applies without a restart
    per_shop = runtime.shop_secret(config, shop)
    if per_shop:
        secrets = [per_shop]
    else:
        shop_settings = runtime.connector_settings("shopify")
        secrets = [s for s in (hub.settings.shopify_webhook_secret, runtime.secret_value(shop_settings)) if s]
    if not secrets:
        raise _unauthorized(
            "no Shopify webhook secret is configured (DELIVERYHUB_SHOPIFY_WEBHOOK_SECRET "
            "or a per-shop secret); the webhook cannot be verified"
        )
    signature = request.headers.get("x-shopify-hmac-sha256")
    if not signature:
        raise _unauthorized("missing X-Shopify-Hmac-Sha256 header")
    # Check every candidate (no early exit), so timing does not tell which secret is in use.
    checks = [shopify_mapper.verify_hmac(body, signature, s) for s in secrets]
    if not any(checks):
        raise _unauthorized("X-Shopify-Hmac-Sha256 does not match the body")
    topic = (request.headers.get("x-shopify-topic") or "").strip()
    if not topic:
        raise ApiError(400, "missing_field", "X-Shopify-Topic header is required", "X-Shopify-Topic")
    webhook_id = request.headers.get("x-shopify-webhook-id")
    payload = _parse_json(body)

    def work() -> dict[str, Any]:
        previous = None
        if topic == "orders/updated" and isinstance(payload, dict) and payload.get("id") is not None:
            previous = _stored_address(hub, str(payload["id"]))
        mapped = shopify_mapper.map_webhook(topic, webhook_id, payload, previous_address=previous)
        results = hub.ingest.ingest(mapped.events, source_hint="oms") if mapped.events else []
        return _answer(results, mapped, topic=topic, webhook_id=webhook_id, shop=shop)

    return await run_in_threadpool(work)


def _config(_hub: Any) -> dict[str, Any]:
    try:
        return runtime.load_connectors_config()
    except ValueError:
        log.exception("connectors_config_unreadable")
        return {}


# ------------------------------------------------------------------------------------------ carriers

Verifier = Callable[[bytes, str | None, str], bool]
_VERIFY: dict[str, tuple[str, Verifier]] = {
    "aftership": ("aftership-hmac-sha256", verify_aftership),
    "easypost": ("x-hmac-signature", verify_easypost),
}
_SHARED = ("x-deliveryhub-signature", verify_shared)


@router.post("/carriers/{carrier}", summary="Carrier tracking push (signed where the carrier signs)")
async def carrier_webhook(carrier: str, request: Request, hub: HubDep) -> dict[str, Any]:
    """Verify the push, map it with the carrier's mapper, attach known orders by tracking no., ingest."""
    if carrier not in PUSH_CARRIERS:
        raise ApiError(
            404,
            "unknown_carrier",
            f"unknown carrier {carrier!r}; known: {', '.join(PUSH_CARRIERS)}",
            "carrier",
        )
    body = await request.body()
    settings = runtime.connector_settings(carrier)
    secret = runtime.secret_value(settings)
    header_name, verify = _VERIFY.get(carrier, _SHARED)
    env_name = f"DELIVERYHUB_{carrier.upper()}_WEBHOOK_SECRET"
    if secret:
        signature = request.headers.get(header_name)
        if not signature:
            raise _unauthorized(f"missing {header_name} header")
        if not verify(body, signature, secret):
            raise _unauthorized(f"{header_name} does not match the body")
    elif carrier in SIGNING_CARRIERS:
        raise _unauthorized(f"{carrier} signs its webhooks but no secret is configured ({env_name})")
    payload = _parse_json(body)
    order_id = request.query_params.get("order_id") or None
    connector = get_connector(carrier)

    def work() -> dict[str, Any]:
        mapped = connector.map_payload(payload, order_id=order_id)
        resolve_orders(hub, mapped)
        results = hub.ingest.ingest(mapped.events, source_hint=connector.source) if mapped.events else []
        return _answer(results, mapped, carrier=carrier)

    return await run_in_threadpool(work)
