"""Connector checks for ``deliveryhub doctor``: a real HTTP probe of every configured carrier and shop URL.

Each check returns one plain-words line when the connection works and raises ``ConnectionProblem`` with a
diagnosis ("롯데택배 tracking API at http://...: connection refused — is the URL right?") when it does not.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import httpx

from deliveryhub.adapters.connectors import runtime
from deliveryhub.adapters.connectors.base import ConnectorSettings, connector_codes, get_connector

Check = tuple[str, Callable[[], str]]


class ConnectionProblem(Exception):
    """A connection that does not work, described in plain words."""


def _cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc


def diagnose(exc: Exception, settings: ConnectorSettings) -> str:
    """Plain words for a failed HTTP probe."""
    root = _cause(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return (
            f"no answer within {settings.connect_timeout_s:g} s — is the host up, or a firewall in the way?"
        )
    if isinstance(exc, httpx.TimeoutException):
        return (
            f"connected but no reply within {settings.timeout_s:g} s — the service is hanging or overloaded"
        )
    if isinstance(root, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connection refused — is the URL right?"
    if isinstance(root, socket.gaierror) or "name or service not known" in str(exc).lower():
        return "host name not found — check the spelling of the URL"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "not a valid http(s) URL"
    if isinstance(exc, httpx.ConnectError) and "ssl" in str(exc).lower():
        return f"TLS handshake failed ({root}) — certificate or http/https mix-up?"
    return f"cannot connect ({type(root).__name__}: {root})"


def probe(label: str, url: str, settings: ConnectorSettings, key_env: str) -> str:
    """GET ``url`` once; plain words on success, ConnectionProblem otherwise."""
    headers = {"accept": "application/json", "user-agent": "deliveryhub-doctor"}
    if settings.api_key is not None:
        headers["authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    timeout = httpx.Timeout(min(settings.timeout_s, 10.0), connect=min(settings.connect_timeout_s, 5.0))
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            response = client.get(url, headers=headers)
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise ConnectionProblem(f"{label} at {url}: {diagnose(exc, settings)}") from None
    ms = (time.perf_counter() - started) * 1000
    code = response.status_code
    if code in (401, 403):
        hint = "check " + key_env if settings.api_key is not None else f"no API key is set ({key_env})"
        raise ConnectionProblem(
            f"{label} at {url}: reachable but refused our credentials (HTTP {code}) — {hint}"
        )
    if code >= 500:
        raise ConnectionProblem(
            f"{label} at {url}: reachable but failing (HTTP {code}) — the service has trouble"
        )
    return f"{label} at {url} answers (HTTP {code} in {ms:.0f} ms)"


def _label(code: str, kind: str) -> str:
    name = get_connector(code).name
    return f"{name} {'shop API' if kind == 'shop' else 'tracking API'}"


def checks(settings: Any) -> list[Check]:
    """One check per connector with a configured ``base_url`` (carriers, aggregators, shop outbound URL)."""
    found: list[Check] = []
    for code in connector_codes():
        kind = get_connector(code).kind
        cs = runtime.connector_settings(code)
        if not cs.base_url:
            continue
        label = _label(code, kind)
        key_env = f"DELIVERYHUB_{code.upper()}_API_KEY"

        def run(
            label: str = label, url: str = cs.base_url, cs: ConnectorSettings = cs, key_env: str = key_env
        ) -> str:
            return probe(label, url, cs, key_env)

        found.append((f"connector {code}", run))
    found.extend(_shop_outbound_checks(settings))
    shop = runtime.connector_settings("shopify")
    secret = getattr(settings, "shopify_webhook_secret", None) or runtime.secret_value(shop)
    if (shop.base_url or getattr(shop, "shop_domain", "")) and not secret:

        def no_secret() -> str:
            raise ConnectionProblem(
                "Shopify webhooks: no webhook secret is configured (DELIVERYHUB_SHOPIFY_WEBHOOK_SECRET) — "
                "every Shopify webhook will be refused with 403"
            )

        found.append(("shopify webhooks", no_secret))
    found.extend(_push_checks())
    return found


def _push_checks() -> list[Check]:
    """Carrier push allowlists that cannot be parsed (every push of that carrier would be refused).

    A carrier with neither a secret nor an allowlist is fine when it is only polled: its pushes are refused
    with a 403 that names both settings.
    """
    from deliveryhub.adapters.connectors import inbound
    from deliveryhub.adapters.connectors.webhooks import PUSH_CARRIERS

    found: list[Check] = []
    for code in PUSH_CARRIERS:
        allow = (runtime.connector_settings(code).webhook_allow_ips or "").strip()
        if not allow:
            continue
        try:
            inbound.parse_allowlist(allow, inbound.env_name(code, "webhook_allow_ips"))
        except ValueError as exc:

            def refused(message: str = f"{code} pushes: {exc} — every push will be refused with 403") -> str:
                raise ConnectionProblem(message)

            found.append((f"{code} webhooks", refused))
    return found


def _shop_outbound_checks(settings: Any) -> list[Check]:
    """The shops' outbound WMS/TMS command URLs from the automation config (``orchestration.shops``)."""
    try:
        from deliveryhub.monitors.config import load_config
    except ImportError:  # the automation feature is not in this build
        return []
    config_file = getattr(settings, "config_file", None)
    try:
        cfg = load_config(config_file)
    except Exception as exc:  # noqa: BLE001 - a broken config is itself the diagnosis
        message = f"automation config {config_file}: {exc}"

        def broken() -> str:
            raise ConnectionProblem(message)

        return [("shop outbound config", broken)]
    probe_settings = ConnectorSettings(timeout_s=cfg.orchestration.timeout_seconds, connect_timeout_s=3.0)
    found: list[Check] = []
    for shop, endpoints in sorted(cfg.orchestration.shops.items()):
        for what, url in (
            ("WMS reserve-stock", endpoints.wms_url),
            ("TMS create-waybill", endpoints.tms_url),
        ):
            if not url:
                continue
            label = f"shop {shop} {what} endpoint"

            def run(label: str = label, url: str = url, hint: str = f"{shop} credentials") -> str:
                return probe(label, url, probe_settings, hint)

            found.append((f"shop {shop} {what.split()[0].lower()}", run))
    return found
