"""The one config loader reading a file from disk: re-read when it changes, copies handed out, a missing
file refused."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from deliveryhub.kernel.configfile import (
    ConfigError,
)


class Demo(BaseModel):
    limit: int = 1


def test_read_config_rereads_a_changed_file_and_hands_out_copies(tmp_path):
    from deliveryhub.kernel.configfile import read_config

    path = tmp_path / "c.yaml"
    path.write_text("demo: {limit: 2}\n", encoding="utf-8")
    first = read_config(path)
    first.data["demo"]["limit"] = 99
    assert read_config(path).section("demo", Demo).limit == 2
    path.write_text("demo: {limit: 30}\n", encoding="utf-8")
    assert read_config(path).section("demo", Demo).limit == 30
    with pytest.raises(ConfigError, match="cannot read"):
        read_config(tmp_path / "missing.yaml")
