"""One config file for every feature: the automation config accepts the other features' sections and
still refuses unknown keys inside its own with the line; connectors read their section from the same
file; the documented example in docs/CONFIG.md is a valid file for all of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deliveryhub.connectors import config as runtime
from deliveryhub.monitors.config import ConfigError, load_config
from deliveryhub.monitors.orchestration import HttpPorts, oms_body

DOC = Path(__file__).resolve().parents[3] / "docs" / "CONFIG.md"


def _doc_example() -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/CONFIG.md has no yaml example"
    return blocks[0]


def test_documented_example_is_valid_for_automation_connectors_and_kpis(tmp_path):
    path = tmp_path / "deliveryhub.yaml"
    path.write_text(_doc_example(), encoding="utf-8")
    cfg = load_config(path)
    shop = cfg.orchestration.shop("smartstore")
    assert shop.oms_method == "PUT" and shop.pushes("handed_over") and not shop.pushes("picked_packed")
    assert shop.headers({"SMARTSTORE_OMS_TOKEN": "t"}) == {"Authorization": "Bearer t"}
    assert cfg.thresholds("handover_missing", carrier="cj")["hours"] == 20
    conn = runtime.load_connectors_config(env={"DELIVERYHUB_CONFIG_FILE": str(path)})
    assert runtime.shop_secret(conn, "my-shop.myshopify.com") == "change-me"
    wms = next(r for r in runtime.silence_rules(conn, env={}) if r.source == "wms")
    assert wms.minutes == 30
    from deliveryhub.kpi.catalog import load_catalog

    assert load_catalog(config_file=path)["on_time_delivery_rate"].target is not None


def test_other_features_sections_are_accepted_and_ignored(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "connectors: {shopify: {shops: {}}}\nnotifications: {anything: [1, 2]}\nkpi: {x: 1}\n"
        "chatbot: {greeting: 안녕하세요}\nsecurity: {session_minutes: 30}\n"
        "monitors:\n  waybill_missing: {minutes: 15}\n",
        encoding="utf-8",
    )
    assert load_config(path).thresholds("waybill_missing")["minutes"] == 15


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("connectors: {}\nmonitor:\n  waybill_missing: {minutes: 1}\n", 2, "unknown section 'monitor'"),
        (
            "connectors: {}\norchestration:\n  shops:\n    web:\n      oms_url: http://x\n      omsurl: 1\n",
            6,
            "omsurl",
        ),
        ("kpi: {}\nbusiness_hours:\n  start: '09:00'\n  lunch: '12:00'\n", 4, "lunch"),
        ("security: {}\nmonitors:\n  waybill_missed: {minutes: 1}\n", 3, "unknown monitor"),
        (
            "orchestration:\n  shops:\n    web: {oms_url: 'http://x', field_map: {tracking: invoiceNo}}\n",
            3,
            "tracking",
        ),
        ("orchestration:\n  shops:\n    web:\n      auth_header: Bearer-only\n", 4, "Header-Name"),
    ],
)
def test_unknown_keys_inside_automation_sections_are_refused_with_the_line(tmp_path, text, line, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert f"bad.yaml:{line} (line {line})" in str(exc.value) and words in str(exc.value)


def test_separate_connectors_file_still_works_and_wins(tmp_path):
    main = tmp_path / "deliveryhub.yaml"
    main.write_text(
        "connectors:\n  shopify: {shops: {a.myshopify.com: {webhook_secret: one}, b.myshopify.com: "
        "{webhook_secret: two}}}\n",
        encoding="utf-8",
    )
    extra = tmp_path / "connectors.yaml"
    extra.write_text("shopify: {shops: {b.myshopify.com: {webhook_secret: three}}}\n", encoding="utf-8")
    only_extra = runtime.load_connectors_config(env={"DELIVERYHUB_CONNECTORS_CONFIG": str(extra)})
    assert runtime.shop_secret(only_extra, "b.myshopify.com") == "three"
    both = runtime.load_connectors_config(
        env={"DELIVERYHUB_CONFIG_FILE": str(main), "DELIVERYHUB_CONNECTORS_CONFIG": str(extra)}
    )
    assert runtime.shop_secret(both, "a.myshopify.com") == "one"
    assert runtime.shop_secret(both, "b.myshopify.com") == "three"
    assert runtime.load_connectors_config(env={}) == {}
    no_section = tmp_path / "plain.yaml"
    no_section.write_text("monitors: {}\n", encoding="utf-8")
    assert runtime.load_connectors_config(env={"DELIVERYHUB_CONFIG_FILE": str(no_section)}) == {}


def test_oms_body_uses_the_shops_names_and_status_values(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "orchestration:\n  shops:\n    default:\n      oms_url: 'http://x/{order_id}'\n"
        "      field_map: {order_id: ordNo, stage: '', status: ordStatus}\n"
        "      stage_values: {delivered: DONE}\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    body = oms_body(
        cfg.orchestration.shop("any"), {"order_id": "A1", "stage": "delivered", "tracking_no": "1"}
    )
    assert body == {"ordNo": "A1", "ordStatus": "DONE", "tracking_no": "1"}
    ports = HttpPorts(cfg.orchestration)
    assert ports.has_oms("any", "delivered") and ports.has_oms("any", "received")


def test_overrides_per_carrier_and_channel(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "overrides:\n  - match: {carrier: cj}\n    monitors: {handover_missing: {hours: 12}}\n"
        "  - match: {channel: coupang}\n    monitors: {dispatch_delay: {pack_business_hours: 2}}\n"
    )
    cfg = load_config(f)
    assert cfg.thresholds("handover_missing", carrier="cj")["hours"] == 12
    assert cfg.thresholds("handover_missing", carrier="lotte")["hours"] == 24
    assert cfg.thresholds("dispatch_delay", channel="coupang")["pack_business_hours"] == 2
    assert cfg.compensation.rules[0].name == "delay_2d_coupon"  # defaults kept where the user is silent
