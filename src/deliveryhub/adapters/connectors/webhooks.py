"""Inbound webhooks: Shopify order webhooks and carrier tracking pushes, signature-verified, into ingest.

Public by prefix (``/v1/webhooks/``): the signature (or an operator-configured IP allowlist) is the
authentication, see ``inbound.py``; with nothing configured a push is refused (403) and nothing is stored.
The raw body is verified before it is parsed. A carrier push never names its order: it is attached to the
order whose parcel the hub knows under that tracking number, and unknown numbers go to quarantine. Shopify
bodies must fit their topic and a webhook id is accepted once per shop. Orders a push spoke about are
remembered, so money those facts would trigger waits for a human (monitors/compensation.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from deliveryhub.adapters.connectors import inbound, runtime
from deliveryhub.adapters.connectors.base import MappingResult, get_connector
from deliveryhub.adapters.connectors.shopify import mapper as shopify_mapper
from deliveryhub.adapters.connectors.shopify import topics as shopify_topics
from deliveryhub.adapters.connectors.tracking import KOREAN_CARRIERS
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.contracts.events import ContractError
from deliveryhub.entrypoints.api.deps import HubDep
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.pii.cipher import decrypt_field

log = structlog.get_logger(__name__)

PUSH_CARRIERS: tuple[str, ...] = ("cj", "lotte", "hanjin", "epost", "logen", "aftership", "easypost")

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
_SHOP_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


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


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "invalid_signature", f"웹훅 서명을 확인할 수 없어요. / {message}", "X-Shopify-Hmac-Sha256"
    )


# ------------------------------------------------------------------------------------------- helpers


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, "invalid_json", f"본문이 올바른 JSON이 아니에요. / body is not valid JSON: {exc}", "body"
        ) from None


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


def bind_orders(hub: Any, carrier: str, mapped: MappingResult) -> list[dict[str, Any]]:
    """Point every pushed event at the order whose parcel the hub knows under that tracking number.

    Whatever order id the payload (or anyone) named is ignored. Korean carriers must match the parcel's
    carrier; aggregators (AfterShip, EasyPost) report for many carriers, so the number alone must be
    unique. Events whose number is unknown or ambiguous are returned (to quarantine), never ingested.
    """
    numbers = {_number(e) for e in mapped.events} - {""}
    owners: dict[str, set[tuple[str, str]]] = {}
    if numbers:
        query = sa.select(t.parcels.c.tracking_no, t.parcels.c.order_id, t.parcels.c.shipment_id).where(
            t.parcels.c.tracking_no.in_(sorted(numbers))
        )
        if carrier in KOREAN_CARRIERS:
            query = query.where(t.parcels.c.carrier == carrier)
        with hub.db.read() as conn:
            for r in conn.execute(query):
                owners.setdefault(r.tracking_no, set()).add((r.order_id, r.shipment_id))
    bound: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    for ev in mapped.events:
        found = owners.get(_number(ev), set())
        if len(found) == 1:
            ev["order_id"], ev["shipment_id"] = next(iter(found))
            bound.append(ev)
        else:
            unknown.append(ev)
    mapped.events = bound
    mapped.unmapped = [u for u in mapped.unmapped if "unknown:" not in u]
    return unknown


def _number(ev: dict[str, Any]) -> str:
    data = ev.get("data")
    number = data.get("tracking_no") if isinstance(data, dict) else None
    return str(number or ev.get("shipment_id") or "")


def _quarantine_unknown(hub: Any, carrier: str, source: str, events: list[dict[str, Any]]) -> list[str]:
    """Keep pushed events of unknown tracking numbers in quarantine (encrypted) with the reason."""
    if not events:
        return []
    reasons = []
    rejected = []
    for i, ev in enumerate(events):
        number = _number(ev) or "?"
        reason = (
            f"{carrier} push for tracking no. {number}: no order of this carrier has that number "
            "(orders are found only by a tracking number the hub already knows)"
        )
        ev["order_id"] = None  # never a phantom order, even if the item is replayed unchanged
        rejected.append((i, ev, ContractError("unknown_tracking_no", reason, "shipment_id")))
        reasons.append(reason)
    with hub.db.write() as conn:
        hub.ingest._quarantine(conn, rejected, hub.clock.now(), source)  # the one quarantine writer
    log.warning("webhook_unknown_tracking_no", carrier=carrier, events=len(events))
    return sorted(set(reasons))


# ------------------------------------------------------------------------------------------- Shopify


async def _refusals_logged(connector: str, request: Request, hub: Any, work: Awaitable[Any]) -> Any:
    """One short security log line per refused push (no body, headers or secrets)."""
    try:
        return await work
    except ApiError as exc:
        log.warning(
            "webhook_refused",
            connector=connector,
            status=exc.status,
            code=exc.code,
            peer=inbound.peer_address(request, hub.settings),
        )
        raise


@router.post("/shopify", summary="Shopify-format order webhook (X-Shopify-Hmac-Sha256)")
async def shopify_webhook(request: Request, hub: HubDep) -> dict[str, Any]:
    """Verify the HMAC, check the topic fits the body, refuse a reused webhook id, map and ingest."""
    answer: dict[str, Any] = await _refusals_logged("shopify", request, hub, _shopify(request, hub))
    return answer


async def _shopify(request: Request, hub: Any) -> dict[str, Any]:
    shop = (request.headers.get("x-shopify-shop-domain") or "").strip().lower() or None
    config = _config(hub)  # read per request: a rotated per-shop secret applies without a restart
    per_shop = runtime.shop_secret(config, shop)
    if per_shop:
        secrets = [per_shop]
    else:
        shop_settings = runtime.connector_settings("shopify")
        secrets = [s for s in (hub.settings.shopify_webhook_secret, runtime.secret_value(shop_settings)) if s]
    if not secrets:
        raise inbound.not_configured("shopify", signing=True)
    body = await request.body()  # read only once a secret exists to check it with
    signature = request.headers.get("x-shopify-hmac-sha256")
    if not signature:
        raise _unauthorized("missing X-Shopify-Hmac-Sha256 header")
    # Check every candidate (no early exit), so timing does not tell which secret is in use.
    checks = [shopify_mapper.verify_hmac(body, signature, s) for s in secrets]
    if not any(checks):
        raise _unauthorized("X-Shopify-Hmac-Sha256 does not match the body")
    if shop is not None and (len(shop) > 255 or not _SHOP_DOMAIN.fullmatch(shop)):
        raise ApiError(
            400,
            "invalid_field",
            "X-Shopify-Shop-Domain 값이 올바른 도메인이 아니에요. / "
            "X-Shopify-Shop-Domain is not a domain name",
            "X-Shopify-Shop-Domain",
        )
    topic = (request.headers.get("x-shopify-topic") or "").strip()
    if not topic or len(topic) > 64:
        raise ApiError(
            400,
            "missing_field",
            "X-Shopify-Topic 헤더가 필요해요. / X-Shopify-Topic header is required",
            "X-Shopify-Topic",
        )
    webhook_id = (request.headers.get("x-shopify-webhook-id") or "").strip()
    if not webhook_id or len(webhook_id) > 128:
        raise ApiError(
            400,
            "missing_field",
            "X-Shopify-Webhook-Id 헤더가 필요해요(최대 128자). / X-Shopify-Webhook-Id header is required "
            "(at most 128 characters)",
            "X-Shopify-Webhook-Id",
        )
    payload = _parse_json(body)
    wrong = shopify_topics.mismatch(topic, payload)
    if wrong is not None:
        raise ApiError(
            422,
            "topic_body_mismatch",
            f"웹훅 본문이 주제({topic})와 맞지 않아 거부했어요. / The body does not fit X-Shopify-Topic: "
            f"{wrong[1]}",
            wrong[0],
        )

    def work() -> dict[str, Any]:
        account = shop or ""
        with hub.db.write() as conn:
            # Across shops: the shop header is not signed either, so it cannot make an old body new.
            earlier = inbound.topics_for_body(conn, "shopify", body)
            clash = sorted(e for e in earlier if not shopify_topics.may_share_body(e, topic))
            seen = (
                None
                if clash
                else inbound.remember_delivery(
                    conn, "shopify", account, webhook_id, topic, body, hub.clock.now()
                )
            )
        if clash:
            log.warning("shopify_body_replayed_under_other_topic", topic=topic, earlier=clash, shop=shop)
            raise ApiError(
                409,
                "topic_body_mismatch",
                f"이 본문은 이미 {', '.join(clash)} 웹훅으로 받았어요. 다른 주제로 다시 보낼 수 "
                f"없어요. / This exact body was already received as {', '.join(clash)}; "
                f"it cannot be re-sent as {topic}",
                "X-Shopify-Topic",
            )
        if seen is None and topic in earlier:
            # The very same signed body under the same topic, with a new id: a copy, acknowledged only.
            return _replayed(topic=topic, webhook_id=webhook_id, shop=shop)
        if seen is not None:
            if seen.topic != topic or seen.body_sha256 != hashlib.sha256(body).hexdigest():
                raise ApiError(
                    409,
                    "webhook_id_reused",
                    "이미 다른 내용으로 받은 웹훅 ID예요. / This X-Shopify-Webhook-Id was already received "
                    "with a different topic or body",
                    "X-Shopify-Webhook-Id",
                )
            return _replayed(topic=topic, webhook_id=webhook_id, shop=shop)
        previous = None
        if topic == "orders/updated" and isinstance(payload, dict) and payload.get("id") is not None:
            previous = _stored_address(hub, str(payload["id"]))
        # Webhook ids are unique per shop only: the event id carries the shop so two shops never collide.
        hook = f"{account}/{webhook_id}" if account else webhook_id
        hook = hook if len(hook) <= 110 else hashlib.sha256(hook.encode()).hexdigest()
        mapped = shopify_mapper.map_webhook(topic, hook, payload, previous_address=previous)
        _remember_orders(hub, "webhook:shopify", mapped)
        results = _ingest_or_forget(hub, mapped, "oms", ("shopify", account, webhook_id))
        return _answer(results, mapped, topic=topic, webhook_id=webhook_id, shop=shop)

    return await run_in_threadpool(work)


def _replayed(**extra: Any) -> dict[str, Any]:
    """The answer to a delivery already received: acknowledged, nothing done."""
    return {
        **extra,
        "replayed": True,
        "accepted": 0,
        "duplicate": 0,
        "rejected": 0,
        "results": [],
        "unmapped": [],
    }


def auth_status(hub: Any) -> dict[str, str]:
    """How each push route authenticates now: signature, allowlist, both, or refused (not configured)."""
    out: dict[str, str] = {}
    for code in PUSH_CARRIERS:
        cs = runtime.connector_settings(code)
        secret, allow = bool(runtime.secret_value(cs)), bool((cs.webhook_allow_ips or "").strip())
        if code in _VERIFY and not secret:
            allow = False  # AfterShip/EasyPost always sign: without the secret nothing is accepted
        out[code] = "+".join(n for n, on in (("signature", secret), ("allowlist", allow)) if on) or "refused"
    shop = runtime.connector_settings("shopify")
    per_shop = (_config(hub).get("shopify") or {}).get("shops") or {}
    has_shop_secret = hub.settings.shopify_webhook_secret or runtime.secret_value(shop) or per_shop
    out["shopify"] = "signature" if has_shop_secret else "refused"
    return out


def _ingest_or_forget(
    hub: Any, mapped: MappingResult, source: str, receipt: tuple[str, str, str] | None
) -> list[Any]:
    """Ingest; if that fails, forget the receipt so the sender's retry of this delivery is not lost."""
    if not mapped.events:
        return []
    try:
        return list(hub.ingest.ingest(mapped.events, source_hint=source))
    except Exception:
        if receipt is not None:
            with hub.db.write() as conn:
                inbound.forget_delivery(conn, *receipt)
        raise


def _remember_orders(hub: Any, source: str, mapped: MappingResult) -> None:
    """Before ingest (the monitors may act on the events at once): which orders this push speaks about."""
    ids = {str(e["order_id"]) for e in mapped.events if e.get("order_id")}
    if ids:
        with hub.db.write() as conn:
            inbound.record_pushed_orders(conn, source, ids, hub.clock.now())


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


@router.post("/carriers/{carrier}", summary="Carrier tracking push (shared secret and/or IP allowlist)")
async def carrier_webhook(carrier: str, request: Request, hub: HubDep) -> dict[str, Any]:
    """Authenticate the push, map it, attach it to the order known by tracking no., ingest."""
    work = _carrier(carrier, request, hub)
    answer: dict[str, Any] = await _refusals_logged(carrier[:32], request, hub, work)
    return answer


async def _carrier(carrier: str, request: Request, hub: Any) -> dict[str, Any]:
    if carrier not in PUSH_CARRIERS:
        raise ApiError(
            404,
            "unknown_carrier",
            f"알 수 없는 택배사예요. / unknown carrier {carrier[:32]!r}; known: {', '.join(PUSH_CARRIERS)}",
            "carrier",
        )
    settings = runtime.connector_settings(carrier)
    inbound.admit_carrier(request, hub, carrier, settings, _VERIFY.get(carrier))  # before reading the body
    body = await request.body()
    auth = inbound.authenticate_carrier(request, hub, carrier, body, settings, _VERIFY.get(carrier))
    if "order_id" in request.query_params:
        raise ApiError(
            400,
            "order_id_not_allowed",
            "주문은 운송장 번호로만 찾아요. order_id 파라미터는 받지 않아요. / Pushes find their "
            "order only by the tracking number the hub knows; the order_id query parameter is not accepted",
            "order_id",
        )
    payload = _parse_json(body)
    connector = get_connector(carrier)

    def work() -> dict[str, Any]:
        if auth.replay_key is not None:
            with hub.db.write() as conn:
                seen = inbound.remember_delivery(
                    conn, carrier, "", auth.replay_key, carrier, body, hub.clock.now()
                )
            if seen is not None:
                log.warning("webhook_replayed", carrier=carrier, refused=auth.refuse_replay)
                if auth.refuse_replay:
                    raise ApiError(
                        409,
                        "replayed_delivery",
                        "이미 받은 서명이에요. 같은 푸시를 다시 보낼 수 없어요. / This signature was already "
                        "received; a push is accepted once (sign each delivery with a new timestamp)",
                        "X-Deliveryhub-Signature",
                    )
                return _replayed(carrier=carrier)
        mapped = connector.map_payload(payload)
        unknown = bind_orders(hub, carrier, mapped)
        mapped.unmapped.extend(_quarantine_unknown(hub, carrier, connector.source, unknown))
        _remember_orders(hub, f"webhook:{carrier}", mapped)
        receipt = (carrier, "", auth.replay_key) if auth.replay_key else None
        results = _ingest_or_forget(hub, mapped, connector.source, receipt)
        return _answer(results, mapped, carrier=carrier, quarantined=len(unknown), auth=auth.method)

    return await run_in_threadpool(work)
