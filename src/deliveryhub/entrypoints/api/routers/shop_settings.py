"""A shop's own settings over HTTP: `GET/PATCH /v1/shop`, `GET /v1/shop/checklist` and
`POST /v1/shop/test-notice`. The shop is the credential's (the front door routed the request to the
shop's app); the change is stored in the platform's `shops` table through the hub's `ShopProfile`."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from deliveryhub.entrypoints.api.deps import HubDep, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.kernel.labels import label
from deliveryhub.security.apikeys import Principal
from deliveryhub.shops.checklist import TEST_NOTICE_SENT, as_json, checklist
from deliveryhub.shops.directory import ShopError
from deliveryhub.shops.profile import shop_settings_view

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

router = APIRouter(prefix="/v1", tags=["shop"])
# Reading a shop's settings: whoever may read its integrations (admin, ops, integration, auditor).
READ = "integrations:read"
# Changing them: the shop's administrator (the same roles that manage its staff and keys).
ADMIN = "users:admin"
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


class ShopChange(BaseModel):
    """What an admin may change of the shop; an absent field stays, null clears colour or contact."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=500)
    brand_color: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=500)


class TestNotice(BaseModel):
    """Where the test notice goes (an e-mail address) and in which language."""

    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=3, max_length=254)
    lang: Literal["ko", "en"] = "ko"


def build_router(hub: Hub) -> APIRouter | None:
    """The shop's own settings routes (every hub has them; PATCH needs the platform's directory)."""
    if hub.shops is not None:  # the platform hub: every shop hub gets its profile (shops.profile)
        from deliveryhub.shops.profile import attach_profiles

        attach_profiles(hub.shops)
    return router


def _shop_error(exc: ShopError) -> ApiError:
    code = {404: "not_found", 409: "conflict"}.get(exc.status, "invalid_field")
    return ApiError(exc.status, code, str(exc), exc.field)


@router.get("/shop", summary="This shop's settings / 내 상점 설정")
async def get_shop(hub: HubDep, _p: Annotated[Principal, Depends(require(READ))]) -> dict[str, Any]:
    """The shop of this credential: name, brand, time zone, calendar, SLA, KPI targets, config file."""
    try:
        return await run_in_threadpool(shop_settings_view, hub)
    except ShopError as exc:
        raise _shop_error(exc) from None


def _update(hub: Hub, values: dict[str, Any], principal: Principal) -> dict[str, Any]:
    profile = hub.profile
    if profile is None:
        raise ApiError(
            409,
            "conflict",
            "this hub runs without a platform directory; settings come from its environment "
            "/ 플랫폼 없이 실행 중이라 환경 변수로 설정합니다",
            "shop",
        )
    try:
        shop = profile.update(values)
    except ShopError as exc:
        raise _shop_error(exc) from None
    details = {k: getattr(shop, k) for k in values}
    hub.audit.record(principal, "shop.updated", f"shop:{shop.slug}", {"changed": sorted(values), **details})
    return shop_settings_view(hub)


@router.patch("/shop", summary="Change this shop's name, brand colour or contact / 상점 정보 변경")
async def patch_shop(
    body: ShopChange, hub: HubDep, p: Annotated[Principal, Depends(require(ADMIN))]
) -> dict[str, Any]:
    """Change name, brand_color (#rrggbb) or contact; applied to notices and tracking pages at once."""
    values = body.model_dump(exclude_unset=True)
    return await run_in_threadpool(_update, hub, values, p)


@router.get("/shop/checklist", summary="Onboarding checklist / 상점 시작 체크리스트")
async def get_checklist(hub: HubDep, _p: Annotated[Principal, Depends(require(READ))]) -> dict[str, Any]:
    """Connectors, first events, templates, test notice, API keys, staff accounts: done or what next."""

    def compute() -> dict[str, Any]:
        return as_json(checklist(hub), hub.settings.shop_slug, hub.settings.tz)

    return await run_in_threadpool(compute)


def send_test_notice(hub: Hub, to: str, lang: str, principal: Any) -> dict[str, Any]:
    """Send one test notice now through the shop's own channels (e-mail when set up, else the console)."""
    from deliveryhub.adapters.channels.base import OutgoingMessage
    from deliveryhub.notifications.preferences import mask_contact

    feature = hub.notifications
    if feature is None:
        raise ApiError(404, "not_found", "notifications are not enabled on this hub")
    channels = feature.dispatcher.channels
    notifier = channels.customer.get("email")
    channel = "email"
    if notifier is None:
        notifier = channels.console or channels.ops["console"]
        channel = "console"
    shop = str(feature.settings.shop_name)
    message = OutgoingMessage(
        to=to,
        subject=label("shop_page", "test_notice_subject", lang).format(shop=shop),
        text=label("shop_page", "test_notice_text", lang).format(shop=shop),
        idempotency_key="test-notice-" + secrets.token_hex(8),
        personal=(to,),
    )
    result = notifier.send(message)
    details = {
        "channel": channel,
        "provider": result.provider,
        "status": result.status,
        "to": mask_contact("email", to),
        "error": result.error,
    }
    action = TEST_NOTICE_SENT if result.ok else "shop.test_notice_failed"
    hub.audit.record(principal, action, f"shop:{hub.settings.shop_slug}", details)
    return {"sent": result.ok, **details}


@router.post("/shop/test-notice", summary="Send a test notice / 테스트 알림 보내기")
async def post_test_notice(
    body: TestNotice, hub: HubDep, p: Annotated[Principal, Depends(require("notifications:admin"))]
) -> dict[str, Any]:
    """One test notice to `to` (e-mail when SMTP is set up, else the console file); audited."""
    to = body.to.strip()
    if not EMAIL.match(to):
        raise ApiError(422, "invalid_field", "to: an e-mail address / 이메일 주소를 입력하세요", "to")
    return await run_in_threadpool(send_test_notice, hub, to, body.lang, p)
