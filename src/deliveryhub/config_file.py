"""Reading the one YAML config file with line numbers, so every feature that checks its section can refuse
a bad value naming the file and the line (`deliveryhub.yaml:12 (line 12): field: message`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and line."""


def compose(text: str, name: str) -> yaml.Node | None:
    """The YAML node tree of `text` (for line numbers); invalid YAML raises ConfigError with its line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{where} (line {mark.line + 1 if mark else '?'}): invalid YAML: {problem}"
        ) from None


def node_at(node: yaml.Node | None, path: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along `path` (mapping keys / sequence indexes)."""
    best = node
    for part in path:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if str(key.value) == str(part):
                    nxt = value
                    break
            if nxt is None:
                return best
            node = best = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = best = node.value[part]
        else:
            return best
    return best


def key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The key node of a top-level mapping entry (for its line)."""
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if str(k.value) == key:
                return k  # type: ignore[no-any-return]
    return node


def read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """The top-level mapping and node tree; ConfigError when unreadable, not UTF-8 or not a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file must be UTF-8") from None
    node = compose(text, str(path))
    data = yaml.safe_load(text) if node is not None else {}
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise ConfigError(f"{path}:{line} (line {line}): the config must be a mapping of sections")
    return data, node


def validation_error(
    exc: ValidationError, name: str, node: yaml.Node | None, prefix: tuple[Any, ...] = ()
) -> ConfigError:
    """The first pydantic error as a ConfigError naming the file, line and field."""
    err = exc.errors(include_url=False)[0]
    loc = (*prefix, *tuple(err.get("loc", ())))
    target = node_at(node, loc)
    line = target.start_mark.line + 1 if target is not None else 1
    field = ".".join(str(p) for p in loc)
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return ConfigError(f"{name}:{line} (line {line}): {field}: {msg}")
