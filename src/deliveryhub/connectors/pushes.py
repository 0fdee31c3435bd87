"""Inbound pushes: Shopify order webhooks and carrier tracking pushes, authenticated, into ingest.

The service behind ``POST /v1/webhooks/...`` (entrypoints/api/routers/webhooks.py reads the request and
turns a ``Refused`` into its answer). The signature (or an operator-configured IP allowlist) is the
authentication, see ``inbound.py``; with nothing configured a push is refused and nothing is stored. The raw
body is verified before it is parsed. A carrier push never names its order: it is attached to the order
whose parcel the hub knows under that tracking number, and unknown numbers go to quarantine. Shopify bodies
must fit their topic and a webhook id is accepted once per shop. Orders a push spoke about are remembered,
so money those facts would trigger waits for a human (monitors' compensation policy).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors.base import ConnectorSettings, MappingResult, get_connector, push_codes
from deliveryhub.adapters.connectors.shopify import mapper as shopify_mapper
from deliveryhub.adapters.connectors.shopify import topics as shopify_topics
from deliveryhub.adapters.connectors.signatures import verify_base64_hmac
from deliveryhub.adapters.connectors.tracking import KOREAN_CARRIERS
from deliveryhub.adapters.persistence import tables as t
from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.aftersales.queries import returns_by_waybill
from deliveryhub.connectors import config, inbound
from deliveryhub.connectors.inbound import Refused
from deliveryhub.contracts.events import ContractError
from deliveryhub.pii.cipher import decrypt_field
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

_SHOP_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def connectors_config(core: Core) -> dict[str, Any]:
    """The hub's connectors config (a shop's own file for a shop's hub), read per request so a rotated
    per-shop secret applies without a restart."""
    try:
        return config.load_connectors_config(config_file=core.settings.config_file)
    except ValueError:
        log.exception("connectors_config_unreadable")
        return {}


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = f"본문이 올바른 JSON이 아니에요. / body is not valid JSON: {exc}"
        raise Refused("invalid", "invalid_json", message, "body") from None


def _answer(results: list[Any], mapped: MappingResult, **extra: Any) -> dict[str, Any]:
    items = [r.as_dict() for r in results]
    counts = {s: sum(1 for r in items if r["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {**extra, **counts, "results": items, "unmapped": mapped.unmapped}


def _replayed(**extra: Any) -> dict[str, Any]:
    """The answer to a delivery already received: acknowledged, nothing done."""
    empty = {"accepted": 0, "duplicate": 0, "rejected": 0, "results": [], "unmapped": []}
    return {**extra, "replayed": True, **empty}


def stored_address(core: Core, order_id: str) -> dict[str, Any] | None:
    """The order's current address (decrypted in memory only) so an unchanged orders/updated is no event."""
    try:
        with core.db.read() as conn:
            row = conn.execute(
                sa.select(*columns(t.customers, "customer_id", "kek_id", "dek_wrapped", "address_enc"))
                .join(t.orders, t.orders.c.customer_id == t.customers.c.customer_id)
                .where(t.orders.c.order_id == order_id)
            ).first()
        if row is None or row.address_enc is None or row.dek_wrapped is None:
            return None
        dek = core.keyring.unwrap_dek(row.customer_id, row.kek_id, row.dek_wrapped)
        text = decrypt_field(dek, row.customer_id, "address", row.address_enc)
        value = orjson.loads(text) if text else None
        return value if isinstance(value, dict) else None
    except Exception:  # noqa: BLE001 - no previous address only means the change is recorded
        log.warning("shopify_previous_address_unavailable", order_id=order_id)
        return None


def _number(ev: dict[str, Any]) -> str:
    data = ev.get("data")
    number = data.get("tracking_no") if isinstance(data, dict) else None
    return str(number or ev.get("shipment_id") or "")


def bind_orders(core: Core, carrier: str, mapped: MappingResult) -> list[dict[str, Any]]:
    """Point every pushed event at the order whose parcel the hub knows under that tracking number.

    Whatever order id the payload (or anyone) named is ignored. Korean carriers must match the parcel's
    carrier; aggregators (AfterShip, EasyPost) report for many carriers, so the number alone must be
    unique. Events whose number is unknown or ambiguous are returned (to quarantine), never ingested.
    """
    numbers = {_number(e) for e in mapped.events} - {""}
    owners: dict[str, set[tuple[str, str]]] = {}
    if numbers:
        p = t.parcels
        query = sa.select(p.c.tracking_no, p.c.order_id, p.c.shipment_id).where(
            p.c.tracking_no.in_(sorted(numbers))
        )
        if carrier in KOREAN_CARRIERS:
            query = query.where(p.c.carrier == carrier)
        with core.db.read() as conn:
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


# A scan that shows the carrier has the return parcel in hand (a label alone does not).
_COLLECTED_TAGS = ("in_transit", "out_for_delivery", "delivered", "available_for_pickup", "attempt_fail")


def _collected(ev: dict[str, Any]) -> bool:
    if ev.get("type") in ("shipment.handed_over", "shipment.delivered"):
        return True
    data = ev.get("data")
    status = data.get("status") if isinstance(data, dict) else None
    return ev.get("type") == "shipment.tracking" and status in _COLLECTED_TAGS


def bind_returns(
    core: Core, carrier: str, events: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scans of a return waybill (booked for a return's pickup) become that return's `return.picked_up`,
    once per return (a stable event id); returns (those events, the scans still unknown)."""
    numbers = [n for n in (_number(e) for e in events) if n]
    if not numbers:
        return [], events
    with core.db.read() as conn:
        known = returns_by_waybill(conn, numbers, carrier if carrier in KOREAN_CARRIERS else None)
    picked: dict[str, dict[str, Any]] = {}
    unknown: list[dict[str, Any]] = []
    for ev in events:
        found = known.get(_number(ev))
        if found is None:
            unknown.append(ev)
            continue
        if not _collected(ev) or found.return_id in picked:
            continue  # a label scan, or a later scan of a return already picked up: nothing new
        picked[found.return_id] = {
            "event_id": f"return-pickup:{found.return_id}",
            "source": ev.get("source") or f"carrier:{carrier}",
            "type": "return.picked_up",
            "occurred_at": ev.get("occurred_at"),
            "order_id": found.order_id,
            "data": {"return_id": found.return_id, "tracking_no": _number(ev)},
        }
    return list(picked.values()), unknown


def _quarantine_unknown(core: Core, carrier: str, source: str, events: list[dict[str, Any]]) -> list[str]:
    """Keep pushed events of unknown tracking numbers in quarantine (encrypted) with the reason."""
    if not events:
        return []
    reasons = []
    rejected = []
    for i, ev in enumerate(events):
        reason = (
            f"{carrier} push for tracking no. {_number(ev) or '?'}: no order of this carrier has that number "
            "(orders are found only by a tracking number the hub already knows)"
        )
        ev["order_id"] = None  # never a phantom order, even if the item is replayed unchanged
        rejected.append((i, ev, ContractError("unknown_tracking_no", reason, "shipment_id")))
        reasons.append(reason)
    with core.db.write() as conn:
        core.ingest.quarantine(conn, rejected, core.clock.now(), source)  # the one quarantine writer
    log.warning("webhook_unknown_tracking_no", carrier=carrier, events=len(events))
    return sorted(set(reasons))


def _ingest_or_forget(
    core: Core, mapped: MappingResult, source: str, receipt: tuple[str, str, str] | None
) -> list[Any]:
    """Ingest; if that fails, forget the receipt so the sender's retry of this delivery is not lost."""
    if not mapped.events:
        return []
    try:
        return list(core.ingest.ingest(mapped.events, source_hint=source))
    except Exception:
        if receipt is not None:
            with core.db.write() as conn:
                inbound.forget_delivery(conn, *receipt)
        raise


def _remember_orders(core: Core, source: str, mapped: MappingResult) -> None:
    """Before ingest (the monitors may act on the events at once): which orders this push speaks about."""
    ids = {str(e["order_id"]) for e in mapped.events if e.get("order_id")}
    if ids:
        with core.db.write() as conn:
            inbound.record_pushed_orders(conn, source, ids, core.clock.now())


def auth_status(core: Core) -> dict[str, str]:
    """How each push route authenticates now: signature, allowlist, both, or refused (not configured)."""
    out = {code: inbound.auth_method(get_connector(code).settings(), code) for code in push_codes()}
    shop = get_connector("shopify").settings()
    per_shop = (connectors_config(core).get("shopify") or {}).get("shops") or {}
    has_shop_secret = core.settings.shopify_webhook_secret or config.secret_value(shop) or per_shop
    out["shopify"] = "signature" if has_shop_secret else "refused"
    return out


# ------------------------------------------------------------------------------------------- Shopify


def shopify_secrets(core: Core, shop: str | None) -> list[str]:
    """The secrets a push from ``shop`` may be signed with (its own, else the app's); refused when none."""
    per_shop = config.shop_secret(connectors_config(core), shop)
    if per_shop:
        return [per_shop]
    app = config.secret_value(get_connector("shopify").settings())
    secrets = [s for s in (core.settings.shopify_webhook_secret, app) if s]
    if not secrets:
        raise inbound.not_configured("shopify", signing=True)
    return secrets


def _shopify_unsigned(message: str) -> Refused:
    return Refused(
        "unauthorized",
        "invalid_signature",
        f"웹훅 서명을 확인할 수 없어요. / {message}",
        "X-Shopify-Hmac-Sha256",
    )


def _shopify_headers(shop: str | None, headers: Mapping[str, str]) -> tuple[str, str]:
    """(topic, webhook id) once the shop domain, topic and webhook id headers are well-formed."""
    if shop is not None and (len(shop) > 255 or not _SHOP_DOMAIN.fullmatch(shop)):
        raise Refused(
            "invalid",
            "invalid_field",
            "X-Shopify-Shop-Domain 값이 올바른 도메인이 아니에요. / "
            "X-Shopify-Shop-Domain is not a domain name",
            "X-Shopify-Shop-Domain",
        )
    topic = _required_header(
        headers,
        "X-Shopify-Topic",
        64,
        "X-Shopify-Topic 헤더가 필요해요. / X-Shopify-Topic header is required",
    )
    webhook_id = _required_header(
        headers,
        "X-Shopify-Webhook-Id",
        128,
        "X-Shopify-Webhook-Id 헤더가 필요해요(최대 128자). / X-Shopify-Webhook-Id header is required "
        "(at most 128 characters)",
    )
    return topic, webhook_id


def _required_header(headers: Mapping[str, str], name: str, max_len: int, message: str) -> str:
    """The header's stripped value; refused as a missing field when absent, blank or over `max_len`."""
    value = (headers.get(name.lower()) or "").strip()
    if not value or len(value) > max_len:
        raise Refused("invalid", "missing_field", message, name)
    return value


def receive_shopify(
    core: Core, shop: str | None, headers: Mapping[str, str], body: bytes, secrets: list[str]
) -> dict[str, Any]:
    """Verify the HMAC, check the topic fits the body, refuse a reused webhook id, map and ingest."""
    signature = headers.get("x-shopify-hmac-sha256")
    if not signature:
        raise _shopify_unsigned("missing X-Shopify-Hmac-Sha256 header")
    # Check every candidate (no early exit), so timing does not tell which secret is in use.
    if not any([verify_base64_hmac(body, signature, s) for s in secrets]):
        raise _shopify_unsigned("X-Shopify-Hmac-Sha256 does not match the body")
    topic, webhook_id = _shopify_headers(shop, headers)
    payload = _parse_json(body)
    wrong = shopify_topics.mismatch(topic, payload)
    if wrong is not None:
        message = (
            f"웹훅 본문이 주제({topic})와 맞지 않아 거부했어요. / "
            f"The body does not fit X-Shopify-Topic: {wrong[1]}"
        )
        raise Refused("unfit", "topic_body_mismatch", message, wrong[0])
    account = shop or ""
    with core.db.write() as conn:
        # Across shops: the shop header is not signed either, so it cannot make an old body new.
        earlier = inbound.topics_for_body(conn, "shopify", body)
        clash = sorted(e for e in earlier if not shopify_topics.may_share_body(e, topic))
        seen = (
            None
            if clash
            else inbound.remember_delivery(
                conn, "shopify", account, webhook_id, topic, body, core.clock.now()
            )
        )
    if clash:
        log.warning("shopify_body_replayed_under_other_topic", topic=topic, earlier=clash, shop=shop)
        raise Refused(
            "conflict",
            "topic_body_mismatch",
            f"이 본문은 이미 {', '.join(clash)} 웹훅으로 받았어요. 다른 주제로 다시 보낼 수 없어요. / This "
            f"exact body was already received as {', '.join(clash)}; it cannot be re-sent as {topic}",
            "X-Shopify-Topic",
        )
    if seen is None and topic in earlier:
        # The very same signed body under the same topic, with a new id: a copy, acknowledged only.
        return _replayed(topic=topic, webhook_id=webhook_id, shop=shop)
    if seen is not None:
        if seen.topic != topic or seen.body_sha256 != hashlib.sha256(body).hexdigest():
            raise Refused(
                "conflict",
                "webhook_id_reused",
                "이미 다른 내용으로 받은 웹훅 ID예요. / This X-Shopify-Webhook-Id was already received "
                "with a different topic or body",
                "X-Shopify-Webhook-Id",
            )
        return _replayed(topic=topic, webhook_id=webhook_id, shop=shop)
    previous = None
    if topic == "orders/updated" and isinstance(payload, dict) and payload.get("id") is not None:
        previous = stored_address(core, str(payload["id"]))
    # Webhook ids are unique per shop only: the event id carries the shop so two shops never collide.
    hook = f"{account}/{webhook_id}" if account else webhook_id
    hook = hook if len(hook) <= 110 else hashlib.sha256(hook.encode()).hexdigest()
    mapped = shopify_mapper.map_webhook(topic, hook, payload, previous_address=previous)
    _remember_orders(core, "webhook:shopify", mapped)
    results = _ingest_or_forget(core, mapped, "oms", ("shopify", account, webhook_id))
    return _answer(results, mapped, topic=topic, webhook_id=webhook_id, shop=shop)


# ------------------------------------------------------------------------------------------ carriers


def admit_carrier(carrier: str, peer: str) -> ConnectorSettings:
    """Before the body is read: the carrier's settings, or a refusal (unknown carrier, nothing configured,
    peer outside the allowlist)."""
    codes = push_codes()
    if carrier not in codes:
        raise Refused(
            "unknown",
            "unknown_carrier",
            f"알 수 없는 택배사예요. / unknown carrier {carrier[:32]!r}; known: {', '.join(codes)}",
            "carrier",
        )
    settings = get_connector(carrier).settings()
    inbound.admit_carrier(peer, carrier, settings)
    return settings


def receive_carrier(
    core: Core,
    carrier: str,
    peer: str,
    headers: Mapping[str, str],
    body: bytes,
    settings: ConnectorSettings,
    *,
    names_order: bool = False,
) -> dict[str, Any]:
    """Authenticate the push, map it, attach it to the order known by tracking no., ingest.

    ``names_order``: the request tried to name its order (``?order_id=``), which is refused."""
    auth = inbound.authenticate_carrier(peer, carrier, headers, body, settings, core.clock.now())
    if names_order:
        raise Refused(
            "invalid",
            "order_id_not_allowed",
            "주문은 운송장 번호로만 찾아요. order_id 파라미터는 받지 않아요. / Pushes find their order only "
            "by the tracking number the hub knows; the order_id query parameter is not accepted",
            "order_id",
        )
    payload = _parse_json(body)
    connector = get_connector(carrier)
    if auth.replay_key is not None:
        with core.db.write() as conn:
            seen = inbound.remember_delivery(
                conn, carrier, "", auth.replay_key, carrier, body, core.clock.now()
            )
        if seen is not None:
            log.warning("webhook_replayed", carrier=carrier, refused=auth.refuse_replay)
            if auth.refuse_replay:
                raise Refused(
                    "conflict",
                    "replayed_delivery",
                    "이미 받은 서명이에요. 같은 푸시를 다시 보낼 수 없어요. / This signature was already "
                    "received; a push is accepted once (sign each delivery with a new timestamp)",
                    "X-Deliveryhub-Signature",
                )
            return _replayed(carrier=carrier)
    mapped = connector.map_payload(payload)
    unknown = bind_orders(core, carrier, mapped)
    picked_up, unknown = bind_returns(core, carrier, unknown)
    mapped.events.extend(picked_up)
    mapped.unmapped.extend(_quarantine_unknown(core, carrier, connector.source, unknown))
    _remember_orders(core, f"webhook:{carrier}", mapped)
    receipt = (carrier, "", auth.replay_key) if auth.replay_key else None
    results = _ingest_or_forget(core, mapped, connector.source, receipt)
    return _answer(results, mapped, carrier=carrier, quarantined=len(unknown), auth=auth.method)
