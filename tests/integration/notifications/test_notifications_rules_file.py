"""Notification rules read from a file on disk: invalid YAML is refused naming the line."""

from __future__ import annotations

import pytest

from deliveryhub.notifications.rules import RuleError, load_rules


def test_invalid_yaml_names_the_line(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "rules.yaml"  # type: ignore[operator]
    path.write_text("rules:\n  - id: a\n    on: {stage: [received]\n", encoding="utf-8")
    with pytest.raises(RuleError, match="line"):
        load_rules(path)
