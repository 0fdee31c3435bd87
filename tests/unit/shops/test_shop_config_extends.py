"""A shop's config file builds on the platform's with `extends:`: the shop says only what differs, every
feature reads the merged file, and an error names the file and line the offending key is in."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.chatbot.config import shop_closed_days
from deliveryhub.kernel.configfile import ConfigError, config_files, read_config
from deliveryhub.kpi.catalog import load_catalog
from deliveryhub.monitors.config import load_config

PLATFORM = """\
timezone: Asia/Seoul
business_hours:
  start: "09:00"
  end: "18:00"
  extra_holidays: ["2026-12-31"]
monitors:
  dispatch_delay: {hours: 24}
kpis:
  - key: on_time_delivery_rate
    target: ">= 0.97"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shop_says_only_what_differs(tmp_path: Path) -> None:
    platform = _write(tmp_path, "platform.yaml", PLATFORM)
    shop = _write(
        tmp_path, "shops/shop-a.yaml", "extends: ../platform.yaml\nbusiness_hours:\n  end: \"20:00\"\n"
    )
    cfg = load_config(shop)
    assert cfg.timezone == "Asia/Seoul"
    assert (cfg.business_hours.start.hour, cfg.business_hours.end.hour) == (9, 20)  # merged key by key
    assert cfg.thresholds("dispatch_delay")["hours"] == 24
    assert [str(d) for d in shop_closed_days(shop)] == ["2026-12-31"]
    target = load_catalog(config_file=shop)["on_time_delivery_rate"].target
    assert target is not None and target.threshold == 0.97  # the platform's KPI target holds for the shop
    assert config_files(shop) == [platform, shop]
    assert "extends" not in read_config(shop).data


def test_an_error_names_the_file_and_line_of_its_key(tmp_path: Path) -> None:
    platform = _write(tmp_path, "platform.yaml", PLATFORM)
    shop = _write(tmp_path, "shop.yaml", "extends: platform.yaml\nmonitors:\n  dispatch_delay: {hours: -1}\n")
    with pytest.raises(ConfigError) as err:  # the shop's own key (line 3)
        load_config(shop)
    assert str(err.value).startswith(f"{shop}:3 (line 3): monitors.dispatch_delay.hours")
    _write(tmp_path, "platform.yaml", PLATFORM.replace('end: "18:00"', 'end: "soon"'))
    _write(tmp_path, "shop.yaml", "extends: platform.yaml\nmonitors:\n  dispatch_delay: {hours: 2}\n")
    with pytest.raises(ConfigError) as err:  # the platform's key (line 4 of platform.yaml)
        load_config(shop)
    assert str(err.value).startswith(f"{platform}:4 (line 4): business_hours.end")
    # the shop's own value replaces the platform's bad one: no error any more
    _write(tmp_path, "shop.yaml", 'extends: platform.yaml\nbusiness_hours:\n  end: "19:00"\n')
    assert load_config(shop).business_hours.end.hour == 19


def test_an_unknown_section_of_the_platform_is_named_there(tmp_path: Path) -> None:
    _write(tmp_path, "platform.yaml", "timezone: Asia/Seoul\nmonitor:\n  x: 1\n")
    shop = _write(tmp_path, "shop.yaml", "# shop a\nextends: platform.yaml\n")
    with pytest.raises(ConfigError) as err:
        load_config(shop)
    assert str(err.value).startswith(f"{tmp_path / 'platform.yaml'}:2 (line 2): unknown section 'monitor'")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"shop.yaml": "extends: shop.yaml\n"}, "a loop"),
        ({"shop.yaml": "extends: b.yaml\n", "b.yaml": "extends: shop.yaml\n"}, "a loop"),
        ({"shop.yaml": "extends: missing.yaml\n"}, "cannot read config file"),
        ({"shop.yaml": "extends: [a, b]\n"}, "the path of the config file"),
        ({"shop.yaml": "extends: b.yaml\n", "b.yaml": "timezone: [\n"}, "invalid YAML"),
    ],
)
def test_a_broken_extends_names_the_shops_line(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        _write(tmp_path, name, "# shop\n" + text)
    with pytest.raises(ConfigError) as err:
        read_config(tmp_path / "shop.yaml")
    assert str(err.value).startswith(f"{tmp_path / 'shop.yaml'}:2 (line 2): ")
    assert message in str(err.value)
