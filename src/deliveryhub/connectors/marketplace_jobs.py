"""Marketplace order sources: Cafe24 webhooks and the marketplaces' catch-up polling jobs.

Cafe24 signs nothing a receiver can verify, so each mall's webhook carries a shared secret the operator
sets in Cafe24's webhook settings (the ``x-api-key`` field, or a custom ``X-Cafe24-Webhook-Secret``
header) and in the hub's (shop's) config file ``connectors.cafe24.malls.<mall_id>.webhook_secret``. It is
compared in constant time before the body is parsed; a missing or wrong secret is 401 and nothing is
stored. Event ids are stable per fact, so a replayed webhook has one effect. Under the platform a seller's
webhook URL is ``/s/<shop>/v1/webhooks/cafe24`` (the front door strips the prefix).

``POLLERS``: one catch-up poll per marketplace, each a ``Job`` built by ``register(core)``; the cursor of
each mall is a ``connector_cursors`` row (``source`` = ``cafe24:<mall_id>``) whose ``updated_at`` is also
the lease: a worker claims a cycle with a conditional UPDATE, so two workers never poll one mall at once.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import sqlalchemy as sa
import structlog

from deliveryhub.adapters.connectors import tables as ct
from deliveryhub.adapters.connectors.base import MappingResult, UpstreamError
from deliveryhub.adapters.connectors.cafe24 import CODE, SOURCE, Cafe24Settings
from deliveryhub.adapters.connectors.cafe24 import mapper as cafe24_mapper
from deliveryhub.adapters.connectors.cafe24.client import Cafe24Client, use_token_store
from deliveryhub.adapters.connectors.payload import as_dict, as_str
from deliveryhub.adapters.persistence.dialect import insert_or_ignore
from deliveryhub.connectors import coupang_poll, cursors, inbound, naver_poll, writeback
from deliveryhub.connectors.inbound import Refused
from deliveryhub.contracts.events import ContractError
from deliveryhub.pii.cipher import KeyError_, open_, seal
from deliveryhub.service_layer.hub import Core
from deliveryhub.service_layer.scheduler import Job

log = structlog.get_logger(__name__)

KST = timezone(timedelta(hours=9))
SECRET_HEADERS = ("x-cafe24-webhook-secret", "x-api-key")
POLL_JOB = "connectors.cafe24.poll"
POLL_EVERY_S = 30.0


class SealedTokens:
    """A mall's refreshed OAuth pair in ``connector_cursors`` (``cafe24:<mall>:token``), sealed with a key
    derived from the hub's master key and bound to the row."""

    def __init__(self, core: Core, mall_id: str) -> None:
        self.core = core
        self.source = f"{CODE}:{mall_id}:token"[:72]
        self._key = core.keyring.master.derive("deliveryhub cafe24 tokens v1")

    def load(self, origin: str) -> tuple[str, str] | None:
        """The stored pair when it grew from the configured refresh token ``origin``."""
        cur = ct.connector_cursors
        with self.core.db.read() as conn:
            text = conn.execute(
                sa.select(cur.c.cursor).where(cur.c.source == self.source)
            ).scalar_one_or_none()
        if not text:
            return None
        try:
            value = orjson.loads(open_(self._key, base64.b64decode(text), self.source.encode()))
        except (KeyError_, ValueError):
            log.warning("cafe24_tokens_unreadable", source=self.source)
            return None
        if not isinstance(value, dict) or value.get("origin") != origin:
            return None
        return str(value["access"]), str(value["refresh"])

    def save(self, origin: str, access: str, refresh: str) -> None:
        """Seal and keep the newest pair."""
        blob = seal(
            self._key,
            orjson.dumps({"origin": origin, "access": access, "refresh": refresh}),
            self.source.encode(),
        )
        text = base64.b64encode(blob).decode()
        cur = ct.connector_cursors
        now = self.core.clock.now()
        with self.core.db.write() as conn:
            insert_or_ignore(
                conn, cur, [{"source": self.source, "cursor": None, "updated_at": now}], ["source"]
            )
            conn.execute(cur.update().where(cur.c.source == self.source).values(cursor=text, updated_at=now))


def cafe24_settings(core: Core) -> Cafe24Settings:
    """The hub's Cafe24 settings (environment over its config file); binds each mall's token store."""
    settings = writeback.connector_settings(core, CODE)
    assert isinstance(settings, Cafe24Settings)
    for mall in settings.mall_ids():
        use_token_store(settings.mall(mall).api_base(), mall, SealedTokens(core, mall))
    return settings


def _secrets(settings: Cafe24Settings) -> dict[str, str]:
    found = {}
    for mall in settings.mall_ids():
        secret = settings.mall(mall).webhook_secret
        if secret is not None and secret.get_secret_value():
            found[mall] = secret.get_secret_value()
    return found


def _unauthorized(message: str) -> Refused:
    return Refused(
        "unauthorized",
        "invalid_webhook_secret",
        f"Cafe24 웹훅 인증값이 맞지 않아요. / {message}",
        "X-Cafe24-Webhook-Secret",
    )


def authenticate_cafe24(core: Core, headers: Mapping[str, str]) -> tuple[Cafe24Settings, set[str]]:
    """Before the body is read: the malls whose shared secret the request carries (401 when none)."""
    settings = cafe24_settings(core)
    secrets = _secrets(settings)
    if not secrets:
        raise Refused(
            "unauthorized",
            "not_configured",
            "Cafe24 웹훅 비밀값이 설정되지 않아 수신을 거부했어요. 운영자가 "
            "connectors.cafe24.malls.<mall_id>.webhook_secret을 설정해 주세요. / no Cafe24 webhook secret "
            "is configured "
            "(connectors.cafe24.malls.<mall_id>.webhook_secret)",
            "X-Cafe24-Webhook-Secret",
        )
    given = next((headers.get(h) for h in SECRET_HEADERS if headers.get(h)), None)
    if not given:
        raise _unauthorized("missing X-Cafe24-Webhook-Secret (or x-api-key) header")
    # Compare with every mall's secret (no early exit), so timing does not tell which one is close.
    matched = {m for m, s in secrets.items() if hmac.compare_digest(s.encode(), given.strip().encode())}
    if not matched:
        raise _unauthorized("the webhook secret does not match")
    return settings, matched


def _quarantine(core: Core, payload: Any, reasons: list[str]) -> None:
    reason = "; ".join(reasons)[:500]
    rejected = [(0, payload, ContractError("unmapped_cafe24_event", reason, "event_no"))]
    with core.db.write() as conn:
        core.ingest.quarantine(conn, rejected, core.clock.now(), SOURCE)


def _enrich(settings: Cafe24Settings, mall: str, event_no: int, res: dict[str, Any]) -> MappingResult | None:
    """Read from the Admin API what a webhook leaves out: a new order's items/receivers, a new address."""
    mall_settings = settings.mall(mall)
    if mall_settings.access_token is None and mall_settings.refresh_token is None:
        return None
    order_id = as_str(res.get("order_id"))
    if not order_id or "," in order_id:
        return None
    client = Cafe24Client(mall_settings)
    try:
        if event_no in (90023, 90031):
            return cafe24_mapper.map_response(client.order(order_id), mall=mall)
        if event_no == 90064:
            result = MappingResult()
            now = datetime.now(KST).isoformat()
            cafe24_mapper.map_receivers(mall, order_id, client.receivers(order_id), now, result)
            return result
    except UpstreamError as exc:
        log.warning("cafe24_enrich_failed", mall=mall, event_no=event_no, error=str(exc)[:200])
    return None


def receive_cafe24(core: Core, settings: Cafe24Settings, malls: set[str], body: bytes) -> dict[str, Any]:
    """Map an authenticated Cafe24 webhook body and ingest it (stable ids: a replay has one effect)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused("invalid", "invalid_json", f"본문이 올바른 JSON이 아니에요. / {exc}", "body") from None
    res = as_dict(as_dict(payload).get("resource"))
    mall = as_str(res.get("mall_id")) or ""
    if mall not in malls:
        raise _unauthorized("the secret does not belong to this mall_id")
    text = as_str(as_dict(payload).get("event_no")) or ""
    event_no = int(text) if text.isdigit() and len(text) < 10 else 0
    mapped = cafe24_mapper.map_webhook(payload)
    richer = _enrich(settings, mall, event_no, res)
    if richer is not None and richer.events:
        mapped = richer
    elif event_no == 90064:
        mapped.unmapped.append(
            "cafe24 90064: recipient changed but the body has no address and the Admin API is not "
            "configured (access_token/refresh_token) to read it"
        )
    if not mapped.events and any("unknown" in u or "error" in u for u in mapped.unmapped):
        _quarantine(core, payload, mapped.unmapped)
        return {
            "event_no": event_no,
            "accepted": 0,
            "duplicate": 0,
            "rejected": 1,
            "unmapped": mapped.unmapped,
        }
    ids = {str(e["order_id"]) for e in mapped.events if e.get("order_id")}
    if ids:
        with core.db.write() as conn:
            inbound.record_pushed_orders(conn, f"webhook:{CODE}", ids, core.clock.now())
    results = (
        [r.as_dict() for r in core.ingest.ingest(mapped.events, source_hint=SOURCE)] if mapped.events else []
    )
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "duplicate", "rejected")}
    return {"event_no": event_no, **counts, "results": results, "unmapped": mapped.unmapped}


# ------------------------------------------------------------------------------------------- polling


@dataclass
class Cafe24Catchup:
    """Catch-up poll of every configured mall's orders (webhooks can be missed)."""

    core: Core
    transport: Any = None

    def run(self, now: datetime) -> int:
        """One cycle for each mall whose interval is up; returns the number of events accepted."""
        settings = cafe24_settings(self.core)
        accepted = 0
        for mall in settings.mall_ids():
            mall_settings = settings.mall(mall)
            if mall_settings.access_token is None and mall_settings.refresh_token is None:
                continue
            try:
                accepted += self.poll_mall(mall_settings, now)
            except UpstreamError as exc:
                log.warning("cafe24_poll_failed", mall=mall, status=exc.status, retry_after=exc.retry_after)
                self._hold(mall_settings, now, exc.retry_after)
        return accepted

    def _hold(self, settings: Cafe24Settings, now: datetime, retry_after: float | None) -> None:
        """After a 429/5xx: the next cycle not before Retry-After."""
        if retry_after:
            until = now + timedelta(seconds=retry_after)
            cursors.hold(self.core, f"{CODE}:{settings.mall_id}", until, float(settings.poll_interval_s))

    def poll_mall(self, settings: Cafe24Settings, now: datetime) -> int:
        """Pages of orders from the cursor's date (one day of overlap) to today; cursor moves on success."""
        key = f"{CODE}:{settings.mall_id}"
        if not cursors.claim(self.core, key, now, float(settings.poll_interval_s)):
            return 0
        cursor, _ = cursors.read(self.core, key)
        today = now.astimezone(KST).date()
        start = today - timedelta(days=max(1, settings.catchup_days))
        if cursor:
            start = max(start, datetime.fromisoformat(cursor).date() - timedelta(days=1))
        client = Cafe24Client(settings, transport=self.transport)
        accepted = 0
        for page in client.orders(start.isoformat(), today.isoformat()):
            result = MappingResult()
            for order in page:
                cafe24_mapper.map_order(settings.mall_id, order, result)
            if result.events:
                found = self.core.ingest.ingest(result.events, source_hint=SOURCE)
                accepted += sum(1 for r in found if r.as_dict()["status"] == "accepted")
        cursors.write_keeping_lease(self.core, key, today.isoformat())
        log.info("cafe24_poll_done", mall=settings.mall_id, start=start.isoformat(), accepted=accepted)
        return accepted


# (job name, seconds between ticks, factory(core) -> run(now)); others append one line each via the lead.
POLLERS: tuple[tuple[str, float, Callable[[Core], Callable[[datetime], Any]]], ...] = (
    (POLL_JOB, POLL_EVERY_S, lambda core: Cafe24Catchup(core).run),
    (naver_poll.JOB_NAME, naver_poll.EVERY_S, lambda core: naver_poll.NaverPollJob(core).run),
    (coupang_poll.JOB_NAME, coupang_poll.EVERY_S, lambda core: coupang_poll.CoupangPoller(core).run),
)


def register(core: Core) -> None:
    """Add every marketplace catch-up poll to the hub's jobs (wired from connectors/wiring.py)."""
    try:
        cafe24_settings(core)  # bind the malls' token stores before a write-back needs them
    except ValueError:
        log.exception("cafe24_settings_unreadable")
    for name, every, factory in POLLERS:
        core.jobs.append(Job(name, every, factory(core)))
