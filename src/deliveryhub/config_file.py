"""Compatibility names for the one config loader, which lives in `deliveryhub.kernel.configfile`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deliveryhub.kernel.configfile import (
    ConfigError,
    compose,
    key_node,
    line_of,
    node_at,
    read_config,
    validation_error,
)

__all__ = ["ConfigError", "compose", "key_node", "line_of", "node_at", "read_yaml", "validation_error"]


def read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """The top-level mapping and node tree; ConfigError when unreadable, not UTF-8 or not a mapping."""
    doc = read_config(path)
    return doc.data, doc.node
