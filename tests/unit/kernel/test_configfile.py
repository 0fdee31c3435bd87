"""The one config loader: typed sections, refusals naming the file and the line of the offending key,
environment settings naming the variable."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from deliveryhub.kernel.configfile import (
    ConfigDocument,
    ConfigError,
    EnvSettings,
    env_overrides,
    expand_env,
    load_env,
    merge,
    parse_config,
)


class Shop(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "http://x"
    days: list[Literal["mon", "tue"]] = Field(default_factory=list)


class Demo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=1, gt=0)
    shops: dict[str, Shop] = Field(default_factory=dict)
    names: dict[str, int] = Field(default_factory=dict)

    @field_validator("names")
    @classmethod
    def _known(cls, value: dict[str, int]) -> dict[str, int]:
        for key in value:
            if key.startswith("x"):
                raise ValueError(f"unknown name {key!r}")
        return value


TEXT = """\
demo:
  limit: 3
  shops:
    web:
      url: http://web
      days: [mon, tue]
"""


def doc(text: str) -> ConfigDocument:
    return parse_config(text, "c.yaml")


def test_typed_section_and_defaults():
    cfg = doc(TEXT).section("demo", Demo)
    assert cfg.limit == 3 and cfg.shops["web"].days == ["mon", "tue"]
    assert doc("other: 1\n").section("demo", Demo) == Demo()
    assert doc("").data == {}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("demo:\n  limit: 0\n", 2, "demo.limit"),
        ("demo:\n  shops:\n    web:\n      url: http://x\n      uri: 1\n", 5, "demo.shops.web.uri"),
        (
            "demo:\n  shops:\n    web:\n      days:\n        - mon\n        - sun\n",
            6,
            "demo.shops.web.days.1",
        ),
        ("a: 1\ndemo:\n  names:\n    ok: 1\n    xbad: 2\n", 5, "unknown name 'xbad'"),
        ("demo: [1]\n", 1, "must be a mapping"),
    ],
)
def test_errors_name_the_file_and_the_line_of_the_key(text: str, line: int, words: str):
    with pytest.raises(ConfigError) as info:
        doc(text).section("demo", Demo)
    message = str(info.value)
    assert message.startswith(f"c.yaml:{line} (line {line}): ") and words in message, message


def test_yaml_errors_and_non_mappings():
    with pytest.raises(ConfigError, match=r"c.yaml:2 \(line 2\): invalid YAML"):
        doc("a: 1\n\tb: 2\n")
    with pytest.raises(ConfigError, match="mapping of sections"):
        doc("- 1\n- 2\n")


def test_unknown_sections_are_refused_with_their_line():
    d = doc("monitors: {}\nmonitor: {}\n")
    with pytest.raises(ConfigError, match=r"c.yaml:2 \(line 2\): unknown section 'monitor'"):
        d.check_sections()
    doc("monitors: {}\nchatbot: {}\nkpis: []\n").check_sections()


def test_merge_and_env_references():
    merged = merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]})
    assert merged == {"a": {"b": 1, "c": 3}, "l": [2]}
    assert expand_env("${TOKEN}", {"TOKEN": "t"}) == "t"
    assert expand_env("plain", {}) == "plain"


class Env(EnvSettings):
    max_batch: int = 10
    name: str = "x"


def test_env_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DELIVERYHUB_MAX_BATCH", "25")
    assert load_env(Env).max_batch == 25
    assert load_env(Env, max_batch=3, name=None).max_batch == 3
    monkeypatch.setenv("DELIVERYHUB_MAX_BATCH", "lots")
    with pytest.raises(ConfigError, match="DELIVERYHUB_MAX_BATCH: "):
        load_env(Env)


def test_overrides_read_env_values_and_name_an_unknown_key_with_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DH_TEST_SOLAPI_KEY", "k-123")
    doc = parse_config(
        "notifications:\n  sender: '0212345678'\n  api_key: ${DH_TEST_SOLAPI_KEY}\n", "shop.yaml"
    )
    assert doc.overrides("notifications", ["sender", "api_key", "other"]) == {
        "sender": "0212345678",
        "api_key": "k-123",
    }
    assert doc.overrides("absent", ["sender"]) == {}
    bad = parse_config("notifications:\n  sender: '02'\n  sendr: x\n", "shop.yaml")
    with pytest.raises(ConfigError) as err:
        bad.overrides("notifications", ["sender"])
    assert "shop.yaml:3" in str(err.value) and "notifications.sendr" in str(err.value)
    assert env_overrides({"sender": "${DH_TEST_SOLAPI_KEY}", "nope": 1}, ["sender"]) == {"sender": "k-123"}
