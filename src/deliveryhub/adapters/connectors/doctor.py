"""Connector checks for ``deliveryhub doctor``: a real HTTP probe of every configured carrier and shop URL.

Outbound URLs that belong to other features (a shop's WMS/TMS command endpoints, in the automation config)
are passed in as ``Endpoint``s by whoever composes the doctor; this module reads no feature's config.

Each check returns one plain-words line when the connection works and raises ``ConnectionProblem`` with a
diagnosis ("롯데택배 tracking API at http://...: connection refused — is the URL right?") when it does not.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from deliveryhub.adapters.connectors.base import (
    ConnectorSettings,
    connector_codes,
    get_connector,
    parse_allowlist,
    push_codes,
)
from deliveryhub.config import Settings

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


@dataclass(frozen=True)
class Endpoint:
    """An outside URL another part of the hub calls (e.g. a shop's WMS command URL), to probe as it is."""

    name: str  # the check's name, e.g. "shop default wms"
    label: str  # in the sentence, e.g. "shop default WMS reserve-stock endpoint"
    url: str
    timeout_s: float = 10.0
    credentials_hint: str = "its credentials"


def endpoint_checks(endpoints: Iterable[Endpoint]) -> list[Check]:
    """One probe per endpoint (a feature lists its outbound URLs; this module only knows how to probe)."""
    found: list[Check] = []
    for ep in endpoints:
        settings = ConnectorSettings(timeout_s=ep.timeout_s, connect_timeout_s=3.0, api_key=None)

        def run(ep: Endpoint = ep, settings: ConnectorSettings = settings) -> str:
            return probe(ep.label, ep.url, settings, ep.credentials_hint)

        found.append((ep.name, run))
    return found


def _failing(message: str) -> Callable[[], str]:
    def check() -> str:
        raise ConnectionProblem(message)

    return check


def checks(settings: Settings, outbound: Iterable[Endpoint] = ()) -> list[Check]:
    """One check per connector with a configured ``base_url`` (carriers, aggregators, shop API), the Shopify
    webhook secret, carrier push allowlists, then the ``outbound`` endpoints the caller lists."""
    found: list[Check] = []
    for code in connector_codes():
        connector = get_connector(code)
        cs = connector.settings()
        if not cs.base_url:
            continue
        label = f"{connector.name} {'shop API' if connector.kind == 'shop' else 'tracking API'}"

        def run(
            label: str = label,
            url: str = cs.base_url,
            cs: ConnectorSettings = cs,
            key_env: str = connector.env_name("api_key"),
        ) -> str:
            return probe(label, url, cs, key_env)

        found.append((f"connector {code}", run))
    found.extend(endpoint_checks(outbound))
    shop = get_connector("shopify").settings()
    secret = settings.shopify_webhook_secret or (
        shop.webhook_secret and shop.webhook_secret.get_secret_value()
    )
    if (shop.base_url or getattr(shop, "shop_domain", "")) and not secret:
        message = (
            "Shopify webhooks: no webhook secret is configured (DELIVERYHUB_SHOPIFY_WEBHOOK_SECRET) — "
            "every Shopify webhook will be refused with 403"
        )
        found.append(("shopify webhooks", _failing(message)))
    found.extend(_push_checks())
    return found


def _push_checks() -> list[Check]:
    """Carrier push allowlists that cannot be parsed (every push of that carrier would be refused).

    A carrier with neither a secret nor an allowlist is fine when it is only polled: its pushes are refused
    with a 403 that names both settings.
    """
    found: list[Check] = []
    for code in push_codes():
        connector = get_connector(code)
        allow = (connector.settings().webhook_allow_ips or "").strip()
        if not allow:
            continue
        try:
            parse_allowlist(allow, connector.env_name("webhook_allow_ips"))
        except ValueError as exc:
            message = f"{code} pushes: {exc} — every push will be refused with 403"
            found.append((f"{code} webhooks", _failing(message)))
    return found
