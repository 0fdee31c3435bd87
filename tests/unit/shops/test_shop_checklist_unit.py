"""The onboarding checklist and the shop profile's checks, on one hub: each item turns done by the thing
it names, and every sentence it shows is Korean and English with no placeholder left."""

from __future__ import annotations

from typing import Any

import pytest

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.users import create_user
from deliveryhub.shops.checklist import ITEMS, TEST_NOTICE_SENT, as_json, checklist, summary
from deliveryhub.shops.directory import ShopError
from deliveryhub.shops.profile import check_brand_color, check_changes, check_contact, check_name
from dh_testkit import drain, order_created


def _done(hub: Any) -> dict[str, bool]:
    return {i.key: i.done for i in checklist(hub)}


def test_a_fresh_hub_has_everything_to_do(hub: Any) -> None:
    items = checklist(hub)
    assert [i.key for i in items] == list(ITEMS)
    assert not any(i.done for i in items)
    body = as_json(items, "shop-x", "Asia/Seoul")
    assert body["done"] == 0 and body["total"] == len(ITEMS) and not body["complete"]
    for item in body["items"]:
        for lang in ("ko", "en"):
            assert item["title"][lang] and item["next"][lang] and item["summary"][lang]
            assert "{" not in item["summary"][lang] and "{" not in item["next"][lang]
        assert item["command"] and "{slug}" not in item["command"]
    commands = {i["key"]: i["command"] for i in body["items"]}
    assert (
        commands["api_keys"] == "deliveryhub keys create --shop shop-x --name shop-system --role integration"
    )
    assert commands["staff_users"].startswith("deliveryhub users create --shop shop-x ")


def test_each_item_turns_done_by_what_it_names(hub: Any) -> None:
    hub.ingest.ingest(
        [
            order_created(
                "e1", "ORD-1", "2026-12-01T10:00:00+09:00", {"name": "김가나", "phone": "010-1234-5678"}
            )
        ]
    )
    drain(hub)
    done = _done(hub)
    assert done["first_events"] and done["connectors"]  # the OMS is a source seen
    assert not done["api_keys"] and not done["staff_users"] and not done["test_notice"]
    create_api_key(hub.db, "shop-system", "integration")
    create_user(hub, "owner@example.com", "admin", "Parcel-staff-2026!kept")
    hub.audit.record("cli", TEST_NOTICE_SENT, "shop:default", {"channel": "email"})
    done = _done(hub)
    assert done["api_keys"] and done["staff_users"] and done["test_notice"]
    items = {i.key: i for i in checklist(hub)}
    assert items["first_events"].facts["events"] == 1
    assert "1건" in summary(items["first_events"], "ko", "Asia/Seoul")
    assert "이메일" in summary(items["test_notice"], "ko", "Asia/Seoul")
    assert "E-mail" in summary(items["test_notice"], "en", "Asia/Seoul")
    assert items["api_keys"].facts["by_role"] == {"integration": 1}


def test_a_platform_key_is_not_the_shops_key(hub: Any) -> None:
    create_api_key(hub.db, "operator", "platform")
    assert not _done(hub)["api_keys"]


class _Sink:
    name = "email"
    provider = "test"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(ok=True, provider=self.provider)


def test_templates_are_approved_when_every_customer_notice_has_a_channel(hub: Any) -> None:
    item = {i.key: i for i in checklist(hub)}["templates"]
    assert not item.done and item.facts["covered"] == 0 and item.facts["rules"] > 0
    channels = hub.notifications.dispatcher.channels
    channels.customer["console"] = _Sink()  # the console file reaches no customer
    assert not _done(hub)["templates"]
    channels.customer["email"] = _Sink()  # every customer rule lists e-mail
    item = {i.key: i for i in checklist(hub)}["templates"]
    assert item.done and item.facts["channels"] == ["email"] and item.facts["missing"] == []


def test_the_test_notice_goes_out_on_the_shops_channel_and_is_audited(hub: Any) -> None:
    from deliveryhub.entrypoints.api.routers.shop_settings import send_test_notice

    sink = _Sink()
    hub.notifications.dispatcher.channels.customer["email"] = sink
    out = send_test_notice(hub, "owner@example.com", "ko", "cli")
    assert out["sent"] and out["channel"] == "email" and out["to"] == "o***@example.com"
    assert sink.sent[0].to == "owner@example.com" and "테스트 알림" in sink.sent[0].text
    assert _done(hub)["test_notice"]


@pytest.mark.parametrize(
    ("value", "expected"), [("#1F6FEB", "#1f6feb"), (" #00aa11 ", "#00aa11"), (None, None), ("", None)]
)
def test_brand_colour_is_rrggbb(value: Any, expected: str | None) -> None:
    assert check_brand_color(value) == expected


@pytest.mark.parametrize("value", ["blue", "#12345", "#1234567", "1f6feb", 12, "#gggggg"])
def test_a_bad_brand_colour_names_the_field(value: Any) -> None:
    with pytest.raises(ShopError) as err:
        check_brand_color(value)
    assert err.value.field == "brand_color" and err.value.status == 422


def test_name_contact_and_unknown_settings_name_their_field() -> None:
    assert check_name("  가나다 상점 ") == "가나다 상점"
    assert check_contact("1588-0000") == "1588-0000" and check_contact(None) is None
    for call, field in (
        (lambda: check_name(""), "name"),
        (lambda: check_name("x" * 121), "name"),
        (lambda: check_name("a\nb"), "name"),
        (lambda: check_contact("x" * 65), "contact"),
        (lambda: check_changes({"slug": "other"}), "slug"),
        (lambda: check_changes({"rate_limit_per_minute": 1}), "rate_limit_per_minute"),
    ):
        with pytest.raises(ShopError) as err:
            call()
        assert err.value.field == field
    assert check_changes({"brand_color": "#ABCDEF", "contact": ""}) == {
        "brand_color": "#abcdef",
        "contact": None,
    }
