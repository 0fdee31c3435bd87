"""A shop's own entry in the platform directory, as the shop's hub sees it (GET/PATCH /v1/shop).

A shop's hub does not hold the directory: the platform hub does. `attach_profiles(hubs)` gives every
shop hub a `ShopProfile` (`Hub.profile`) that reads and changes that one shop's row and applies a new
name or contact to the shop's notices and tracking pages at once."""

from __future__ import annotations

import re
from datetime import time
from typing import TYPE_CHECKING, Any

from deliveryhub.security.tenancy import DEFAULT_SHOP
from deliveryhub.shops.directory import Shop, ShopDirectory, ShopError

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub
    from deliveryhub.shops.hubs import ShopHubs

BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
EDITABLE = ("name", "brand_color", "contact")


def check_brand_color(value: Any) -> str | None:
    """A `#rrggbb` colour in lower case (None clears it); ShopError naming `brand_color` otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not BRAND_COLOR.match(value.strip()):
        raise ShopError(
            "brand_color: a colour like #1f6feb / #rrggbb 형식의 색상이어야 합니다", "brand_color"
        )
    return value.strip().lower()


def check_name(value: Any) -> str:
    """The shop's display name, 1–120 characters; ShopError naming `name` otherwise."""
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > 120 or any(ord(c) < 32 for c in name):
        raise ShopError("name: 1–120 characters / 상점 이름은 1~120자", "name")
    return name


def check_contact(value: Any) -> str | None:
    """How customers reach the shop (phone, e-mail, URL), up to 64 characters; None clears it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > 64 or any(ord(c) < 32 for c in value):
        raise ShopError("contact: up to 64 characters / 연락처는 64자까지", "contact")
    return value.strip() or None


def check_changes(values: dict[str, Any]) -> dict[str, Any]:
    """The checked values of a change (name, brand_color, contact); ShopError on the first bad one."""
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ShopError(f"{unknown[0]}: not a shop setting / 바꿀 수 없는 항목", unknown[0])
    checks = {"name": check_name, "brand_color": check_brand_color, "contact": check_contact}
    return {k: checks[k](v) for k, v in values.items()}


class ShopProfile:
    """One shop's row in the platform directory, bound to the shop's hub."""

    def __init__(self, directory: ShopDirectory, slug: str, hub: Hub) -> None:
        self.directory = directory
        self.slug = slug
        self.hub = hub

    def get(self) -> Shop:
        """The shop as the platform lists it now."""
        shop = self.directory.get(self.slug)
        if shop is None:
            raise ShopError(f"shop {self.slug!r} not found", "shop", 404)
        return shop

    def update(self, values: dict[str, Any]) -> Shop:
        """Check and store a change of name, brand colour or contact, and apply it to the live hub."""
        from deliveryhub.shops.hubs import apply_brand

        changes = check_changes(values)
        if self.slug == DEFAULT_SHOP:
            raise ShopError(
                "the default shop's name and contact are DELIVERYHUB_SHOP_NAME / DELIVERYHUB_SHOP_CONTACT "
                "/ 기본 상점의 이름·연락처는 환경 변수로 정합니다",
                "shop",
                409,
            )
        if not changes:
            return self.get()
        shop = self.directory.update(self.slug, **changes)
        apply_brand(self.hub, shop)
        if "contact" in changes and shop.contact is None:
            _reset_contact(self.hub)
        return shop


def _reset_contact(hub: Hub) -> None:
    """A cleared contact: notices and tracking pages go back to the platform's (DELIVERYHUB_SHOP_CONTACT)."""
    from dataclasses import replace

    from deliveryhub.notifications.settings import load_notification_settings

    feature = hub.notifications
    if feature is None:
        return
    default = load_notification_settings().shop_contact
    feature.settings.shop_contact = default
    feature.link_settings = replace(feature.link_settings, shop_contact=default)
    feature.links.settings = feature.link_settings


def attach_profiles(hubs: ShopHubs) -> None:
    """Give every shop hub of `hubs` (built now or later) its profile; calling it again changes nothing."""

    def attach(slug: str, hub: Hub) -> None:
        if getattr(hub, "profile", None) is None:
            hub.profile = ShopProfile(hubs.directory, slug, hub)

    if not any(getattr(hook, "_attaches_profiles", False) for hook in hubs.on_new_hub):
        attach._attaches_profiles = True  # type: ignore[attr-defined]
        hubs.on_new_hub.append(attach)
    for slug, hub in hubs.loaded():
        attach(slug, hub)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _config_source(hub: Hub, shop: Shop | None) -> dict[str, Any]:
    file = hub.settings.config_file
    own = shop.config_file if shop is not None else None
    source = "shop" if own else ("platform" if file else "defaults")
    return {"file": str(file) if file else None, "source": source}


def _calendar(hub: Hub) -> dict[str, Any] | None:
    if hub.monitors is None:
        return None
    cfg = hub.monitors.ctx.cfg
    hours = cfg.business_hours
    return {
        "time_zone": cfg.timezone,
        "workdays": list(hours.workdays),
        "start": _hhmm(hours.start),
        "end": _hhmm(hours.end),
        "cutoff": _hhmm(hours.cutoff),
        "public_holidays": "KR",
        "extra_holidays": [d.isoformat() for d in hours.extra_holidays],
    }


def _sla(hub: Hub) -> dict[str, Any] | None:
    if hub.chat is None:
        return None
    cs = hub.chat.config
    hours = cs.business_hours
    return {
        "unit": "business_minutes" if hours is not None else "minutes",
        "policies": {
            p: {
                "first_response": s.first_response,
                "next_response": s.next_response,
                "resolution": s.resolution,
            }
            for p, s in cs.sla.items()
        },
        "on_breach": dict(cs.on_breach),
        "business_hours": None
        if hours is None
        else {"time_zone": hours.tz, "start": _hhmm(hours.start), "end": _hhmm(hours.end)},
    }


def _kpi_targets(hub: Hub) -> list[dict[str, Any]]:
    if hub.kpi is None:
        return []
    engine = hub.kpi.engine
    out = []
    for k in engine.with_overrides(engine.catalog.values()):
        if k.target is None:
            continue
        out.append(
            {
                "key": k.key,
                "name": {"ko": k.name("ko"), "en": k.name("en")},
                "unit": k.unit,
                "direction": k.direction,
                "target": {
                    "op": k.target.op,
                    "threshold": k.target.threshold,
                    "change_vs_previous": k.target.change_vs_previous,
                },
                "warning": k.warning,
            }
        )
    return out


def shop_settings_view(hub: Hub) -> dict[str, Any]:
    """What GET /v1/shop shows: the shop, its brand, time zone, calendar, SLA, KPI targets, config file."""
    profile = hub.profile
    shop: Shop | None = profile.get() if profile is not None else None
    feature = hub.notifications
    fallback_name = str(feature.settings.shop_name) if feature is not None else hub.settings.shop_slug
    fallback_contact = str(feature.settings.shop_contact or "") if feature is not None else ""
    own_row = shop is not None and hub.settings.shop_slug != DEFAULT_SHOP
    return {
        "slug": hub.settings.shop_slug,
        "name": shop.name if shop is not None else fallback_name,
        "status": shop.status if shop is not None else "active",
        "created_at": shop.created_at.isoformat() if shop is not None and shop.created_at else None,
        "editable": profile is not None and hub.settings.shop_slug != DEFAULT_SHOP,
        "brand": {
            "color": shop.brand_color if shop is not None else None,
            "contact": shop.contact if shop is not None and own_row else fallback_contact or None,
        },
        "time_zone": hub.settings.tz,
        "business_calendar": _calendar(hub),
        "sla": _sla(hub),
        "kpi_targets": _kpi_targets(hub),
        "config": _config_source(hub, shop),
        "rate_limit_per_minute": hub.settings.rate_limit_per_minute,
    }
