"""Roles and the permission matrix, written down once and enforced on every route and page."""

from __future__ import annotations

from typing import Any

ROLES = ("admin", "ops", "cs_agent", "analyst", "integration", "auditor", "platform")
# `platform` is the hub operator's role: every permission in every shop (it exists only in the platform
# database, i.e. the `default` shop's, and names the shop it acts on with ?shop= or X-Shop).

# permission -> roles that hold it. Every route declares exactly one permission (or `public`).
PERMISSIONS: dict[str, frozenset[str]] = {
    "events:write": frozenset({"platform", "admin", "ops", "integration"}),
    "events:read": frozenset({"platform", "admin", "ops", "analyst", "auditor"}),
    "quarantine:manage": frozenset({"platform", "admin", "ops"}),
    "orders:read": frozenset({"platform", "admin", "ops", "cs_agent", "analyst", "integration", "auditor"}),
    "orders:act": frozenset({"platform", "admin", "ops", "cs_agent"}),
    "exceptions:read": frozenset({"platform", "admin", "ops", "cs_agent", "analyst", "auditor"}),
    "exceptions:act": frozenset({"platform", "admin", "ops"}),
    "kpis:read": frozenset({"platform", "admin", "ops", "analyst", "auditor"}),
    "kpis:admin": frozenset({"platform", "admin"}),
    "tickets:read": frozenset({"platform", "admin", "ops", "cs_agent", "auditor"}),
    "tickets:act": frozenset({"platform", "admin", "ops", "cs_agent"}),
    "integrations:read": frozenset({"platform", "admin", "ops", "integration", "auditor"}),
    "notifications:read": frozenset({"platform", "admin", "ops", "cs_agent", "auditor"}),
    "notifications:admin": frozenset({"platform", "admin", "ops"}),
    "audit:read": frozenset({"platform", "admin", "auditor"}),
    "users:admin": frozenset({"platform", "admin"}),
    "keys:admin": frozenset({"platform", "admin"}),
    "metrics:read": frozenset({"platform", "admin", "ops", "auditor"}),
    "customers:erase": frozenset({"platform", "admin"}),
    "shops:admin": frozenset({"platform"}),
    # A CS lead's correction of a ticket's VOC category (it feeds the next training round).
    "voc:relabel": frozenset({"platform", "admin", "ops"}),
}

# How much personal data each role sees on an order or ticket. cs_agent stays masked: a customer's chat
# verification proves nothing about the agent (an agent could pass it in the public chat).
PII_VIEW: dict[str, str] = {
    "admin": "full",
    "ops": "full",
    "cs_agent": "masked",
    "analyst": "pseudonym",
    "integration": "none",
    "auditor": "masked",
    "platform": "masked",
}


def allowed(role: str, permission: str) -> bool:
    """Whether `role` holds `permission`."""
    return role in PERMISSIONS.get(permission, frozenset())


def permits(principal: Any, permission: str) -> bool:
    """Whether a principal may use `permission`: its role holds it and, for a scoped key, it is in scope."""
    if not allowed(principal.role, permission):
        return False
    scopes = getattr(principal, "scopes", ()) or ()
    return not scopes or permission in scopes


# Routes reachable without a role: liveness, docs, customer-facing pages authenticated by a
# signed token or chat session, webhooks authenticated by their signature, login.
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/login",
        "/logout",
        "/chat",
        "/favicon.ico",
    }
)
PUBLIC_PREFIXES = ("/track/", "/v1/chat/", "/static/", "/v1/webhooks/", "/v1/auth/")
