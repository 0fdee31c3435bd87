"""Admin and audit API: users and roles, API keys, key rotation, erasure, the audit log and its review."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from deliveryhub.entrypoints.api.deps import require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.security import apikeys, users
from deliveryhub.security.apikeys import Principal
from deliveryhub.security.audit import access_review
from deliveryhub.security.erasure import NotFound
from deliveryhub.security.rbac import ROLES
from deliveryhub.security.rotation import key_status, rotate, rotation_in_progress
from deliveryhub.service_layer.hub import Core

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

MAX_ID = 2**63 - 1  # ids are 64-bit: larger numbers are a 422, not a database overflow
RoleField = Field(pattern="^(" + "|".join(ROLES) + ")$", description="one of " + ", ".join(ROLES))


class NewUser(BaseModel):
    """A staff account to create; a password is generated (and returned once) when omitted."""

    email: str = Field(min_length=3, max_length=254)
    role: str = RoleField
    # Length and strength are checked by the password policy (its message names the rule broken).
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class UserChange(BaseModel):
    """Role change and/or disabling of an account."""

    role: str | None = Field(default=None, pattern="^(" + "|".join(ROLES) + ")$")
    disabled: bool | None = None


class NewKey(BaseModel):
    """An API key for an integration: optional scopes (permission names) and expiry."""

    name: str = Field(min_length=1, max_length=128)
    role: str = RoleField
    scopes: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list,
        max_length=20,
        description="permission names the key is limited to (e.g. events:write); empty = all of the role's",
    )
    expires_in_days: int | None = Field(default=None, ge=1, le=3660, description="the key expires after this")


class Erasure(BaseModel):
    """Why a customer is erased (kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=500)


def _api(exc: users.AuthError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.field)


def build_router(hub: Hub) -> APIRouter | None:
    """The /v1 security administration routes (None without the security feature)."""
    if hub.security is None:
        return None
    security = hub.security
    audit = security.audit
    router = APIRouter(prefix="/v1", tags=["security"])

    @router.get("/audit", summary="Audit log entries, newest first")
    def audit_entries(
        _p: Annotated[Principal, Depends(require("audit:read"))],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before: Annotated[int | None, Query(ge=1)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        """Who did what, when, from where."""
        return {"entries": audit.entries(limit, before, action, actor)}

    @router.get("/audit/verify", summary="Verify the audit log's hash chain")
    def audit_verify(_p: Annotated[Principal, Depends(require("audit:read"))]) -> dict[str, Any]:
        """ok=false names the first broken entry."""
        r = audit.verify()
        return {"ok": r.ok, "checked": r.checked, "broken_entry": r.broken_seq, "reason": r.reason}

    @router.get(
        "/audit/review", summary="Monthly access-log review: personal-data reads per user, unusual flagged"
    )
    def audit_review(
        request: Request,
        principal: Annotated[Principal, Depends(require("audit:read"))],
        month: Annotated[str, Query(pattern=r"^2\d{3}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
    ) -> dict[str, Any]:
        """Reads per actor, distinct customers, night-time reads; flags with reasons."""
        try:
            report = access_review(hub, month)
        except ValueError:
            raise ApiError(422, "invalid_field", "month: use YYYY-MM (2000-2999)", "month") from None
        audit.record(
            principal,
            "audit.review_viewed",
            f"month:{month}",
            {"flagged": report["flagged"]},
            client_ip(request),
        )
        return report

    @router.get("/users", summary="Staff accounts")
    def get_users(_p: Annotated[Principal, Depends(require("users:admin"))]) -> dict[str, Any]:
        """Accounts without secrets."""
        return {"users": users.list_users(hub)}

    @router.post("/users", status_code=201, summary="Create a staff account")
    async def post_user(
        body: NewUser, principal: Annotated[Principal, Depends(require("users:admin"))]
    ) -> dict[str, Any]:
        """Returns the generated password once when none was given."""
        import secrets

        password = body.password or secrets.token_urlsafe(15)
        try:
            user_id = await run_in_threadpool(
                users.create_user, hub, body.email, body.role, password, principal
            )
        except users.AuthError as exc:
            raise _api(exc) from None
        out: dict[str, Any] = {"id": user_id, "email": body.email.strip().lower(), "role": body.role}
        if body.password is None:
            out["password"] = password
        return out

    @router.patch("/users/{user_id}", summary="Change a user's role or disable the account")
    async def patch_user(
        user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        body: UserChange,
        principal: Annotated[Principal, Depends(require("users:admin"))],
    ) -> dict[str, Any]:
        """Role changes end the user's sessions (the new role applies at once); both are audited."""
        try:
            if body.role is not None:
                await run_in_threadpool(users.set_role, hub, user_id, body.role, principal)
            if body.disabled is not None:
                await run_in_threadpool(users.set_disabled, hub, user_id, body.disabled, principal)
        except users.AuthError as exc:
            raise _api(exc) from None
        return {"id": user_id, "role": body.role, "disabled": body.disabled}

    @router.post("/users/{user_id}/totp", summary="Enable TOTP two-factor login for a user")
    async def post_totp(
        user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        principal: Annotated[Principal, Depends(require("users:admin"))],
    ) -> dict[str, Any]:
        """Returns the otpauth:// URI once (scan it into an authenticator app)."""
        try:
            uri = await run_in_threadpool(users.enable_totp, hub, user_id, principal)
        except users.AuthError as exc:
            raise _api(exc) from None
        return {"id": user_id, "otpauth_uri": uri}

    @router.get("/keys", summary="API keys (prefixes only)")
    def get_keys(_p: Annotated[Principal, Depends(require("keys:admin"))]) -> dict[str, Any]:
        """Keys without secrets."""
        return {"keys": apikeys.list_api_keys(hub.db)}

    @router.post("/keys", status_code=201, summary="Create an API key (shown once)")
    def post_key(
        request: Request, body: NewKey, principal: Annotated[Principal, Depends(require("keys:admin"))]
    ) -> dict[str, Any]:
        """The key is in the answer and nowhere else."""
        now = hub.clock.now()
        expires = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
        try:
            key = apikeys.create_api_key(
                hub.db, body.name, body.role, body.scopes, expires, now, shop=hub.settings.shop_slug
            )
        except ValueError as exc:
            field = "scopes" if "scope" in str(exc) else None
            raise ApiError(422, "invalid_field", str(exc), field) from None
        scopes = apikeys.check_scopes(body.role, body.scopes)
        audit.record(
            principal,
            "api_key.created",
            f"api_key:{key[:10]}",
            {
                "name": body.name,
                "role": body.role,
                "scopes": scopes,
                "expires_at": expires.isoformat() if expires else None,
            },
            client_ip(request),
        )
        return {
            "key": key,
            "name": body.name,
            "role": body.role,
            "prefix": key[:10],
            "scopes": scopes,
            "expires_at": expires.isoformat() if expires else None,
        }

    @router.delete("/keys/{key_id}", summary="Revoke an API key")
    def delete_key(
        request: Request,
        key_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        principal: Annotated[Principal, Depends(require("keys:admin"))],
    ) -> dict[str, Any]:
        """Takes effect at once in this process, within seconds elsewhere."""
        if not apikeys.revoke_api_key(hub.db, key_id):
            raise ApiError(404, "not_found", f"no API key {key_id}")
        audit.record(principal, "api_key.revoked", f"api_key:{key_id}", {}, client_ip(request))
        return {"id": key_id, "revoked": True}

    @router.get("/crypto/keys", summary="Key-encryption keys and how many customers each wraps")
    def crypto_keys(_p: Annotated[Principal, Depends(require("keys:admin"))]) -> dict[str, Any]:
        """active / retiring / retired."""
        return {"keys": key_status(hub), "rotating": rotation_in_progress()}

    @router.post("/crypto/rotate", status_code=202, summary="Start a key rotation in the background")
    def crypto_rotate(
        request: Request, principal: Annotated[Principal, Depends(require("keys:admin"))]
    ) -> dict[str, Any]:
        """Re-wraps every customer data key while the hub keeps serving."""
        if rotation_in_progress():
            raise ApiError(409, "rotation_running", "a key rotation is already running")
        audit.record(principal, "key.rotation_requested", None, {}, client_ip(request))
        threading.Thread(target=_rotate_quietly, args=(hub,), name="key-rotation", daemon=True).start()
        return {"started": True}

    @router.post(
        "/customers/{customer_id}/erasure", summary="Erase a customer's personal data (crypto-shredding)"
    )
    def post_erasure(
        request: Request,
        customer_id: Annotated[str, Path(max_length=40)],
        body: Erasure,
        principal: Annotated[Principal, Depends(require("customers:erase"))],
    ) -> dict[str, Any]:
        """Orders and events stay (KPIs intact); name, phone, e-mail and address become unrecoverable."""
        try:
            return security.erase_customer(customer_id, principal, body.reason, client_ip(request))
        except NotFound:
            raise ApiError(404, "not_found", f"no customer {customer_id}") from None

    return router


def _rotate_quietly(core: Core) -> None:
    import structlog

    try:
        rotate(core)
    except Exception:  # noqa: BLE001 - a background rotation reports through the log and the audit trail
        structlog.get_logger(__name__).exception("key_rotation_failed")
