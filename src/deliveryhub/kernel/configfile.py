"""The one config loader. The YAML file (DELIVERYHUB_CONFIG_FILE) is read once with its node marks and
each feature takes its section as a typed pydantic model; environment settings (DELIVERYHUB_*) are typed
models too. Every refusal is a ConfigError naming where the bad value is: `file.yaml:12 (line 12):
section.key: message` for the file, `DELIVERYHUB_NAME: message` for the environment.

A file may start from another one with a top-level `extends: <path>` (relative to the file): a shop's
file names the platform's and says only what differs. The two are merged with `merge` (mappings key by
key, anything else replaced whole), and an error still names the file and line the offending key is in."""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "DELIVERYHUB_"
M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=BaseSettings)

# Top-level sections of the one file and the feature that reads each. A key not listed here is refused
# (a typo like `monitor:` must not be silently ignored). `kpi` is the KPI catalog's historical name.
SECTIONS: dict[str, str] = {
    "timezone": "monitors",
    "business_hours": "monitors",
    "monitors": "monitors",
    "overrides": "monitors",
    "eta": "monitors",
    "orchestration": "monitors",
    "compensation": "monitors",
    "connectors": "connectors",
    "notifications": "notifications",
    "kpi": "kpi",
    "kpis": "kpi",
    "chatbot": "chatbot",
    "security": "security",
    "returns": "aftersales",
    "outside": "effects",
    "payments": "payments",
    "address_lookup": "payments",
}


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file and line (or the variable)."""


# ---------------------------------------------------------------- YAML with line numbers
def compose(text: str, name: str) -> yaml.Node | None:
    """The YAML node tree of `text` (for line numbers); invalid YAML raises ConfigError with its line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        where = f"{name}:{line} (line {line})" if line is not None else f"{name} (line ?)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None


def _walk(node: yaml.Node | None, path: tuple[Any, ...]) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(deepest value node reached along `path`, the key node of the last mapping step that matched)."""
    best, key_of_best = node, None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if found is None:
                break
            key_of_best, node = found
            best = node
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = best = node.value[part]
            key_of_best = None
        else:
            break
    return best, key_of_best


def node_at(node: yaml.Node | None, path: tuple[Any, ...]) -> yaml.Node | None:
    """The deepest YAML node along `path` (mapping keys / sequence indexes)."""
    return _walk(node, path)[0]


def key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The key node of a top-level mapping entry (for its line); the node itself when there is none."""
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if str(k.value) == key:
                return k  # type: ignore[no-any-return]
    return node


def line_of(node: yaml.Node | None, path: tuple[Any, ...]) -> int:
    """1-based line of the key (or item) at `path`; the nearest enclosing one when it is missing."""
    value, key = _walk(node, path)
    target = key if key is not None else value
    return target.start_mark.line + 1 if target is not None else 1


def _reaches(node: yaml.Node | None, path: tuple[Any, ...]) -> bool:
    """Whether every mapping key of `path` is present along `node`."""
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            return False
        node = next((v for k, v in node.value if str(k.value) == str(part)), None)
        if node is None:
            return False
    return True


def merge(base: Any, over: Any) -> Any:
    """`over` merged onto `base`: mappings key by key, anything else (lists too) replaced whole."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


def expand_env(value: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """A value that is exactly `${NAME}` is read from the environment (the file can be shared)."""
    if value and (m := re.fullmatch(r"\$\{(\w+)\}", value.strip())):
        return (os.environ if environ is None else environ).get(m.group(1))
    return value


def env_overrides(section: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The keys of `section` a settings model knows, `${VAR}` values read from the environment: what a
    hub's config file sets over the model's environment variables (unknown keys are left out)."""
    fields = set(known)
    return {k: expand_env(v) if isinstance(v, str) else v for k, v in section.items() if k in fields}


@dataclass(frozen=True)
class ConfigDocument:
    """One parsed config file: its top-level mapping and node tree (for the line of every key)."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    node: yaml.Node | None = None
    base: ConfigDocument | None = None  # the file this one `extends:` (merged into `data`)

    def owner(self, path: tuple[Any, ...]) -> ConfigDocument:
        """The file the value at `path` comes from: this one, or (for a key it does not set) its base."""
        node = self.node
        for i, part in enumerate(path):
            if not isinstance(node, yaml.MappingNode):
                return self  # a list or a value here replaced the base's whole
            found = next((v for k, v in node.value if str(k.value) == str(part)), None)
            if found is None:
                if self.base is not None and _reaches(self.base.node, path[: i + 1]):
                    return self.base.owner(path)
                return self
            node = found
        return self

    def line(self, path: tuple[Any, ...]) -> int:
        """1-based line of the key at `path` (nearest enclosing key when missing)."""
        return line_of(self.owner(path).node, path)

    def error(self, path: tuple[Any, ...], message: str) -> ConfigError:
        """A ConfigError naming the file `path` is in, its line and the dotted field."""
        owner = self.owner(path)
        line = line_of(owner.node, path)
        where = ".".join(str(p) for p in path)
        return ConfigError(f"{owner.name}:{line} (line {line}): {where + ': ' if where else ''}{message}")

    def check_sections(self, known: Iterable[str] = SECTIONS) -> None:
        """Refuse any top-level key not in `known`, naming its file and line."""
        allowed = list(known)
        for key in self.data:
            if key not in allowed:
                owner = self.owner((key,))
                line = line_of(owner.node, (key,))
                raise ConfigError(
                    f"{owner.name}:{line} (line {line}): unknown section {key!r}; known: {', '.join(allowed)}"
                )

    def raw(self, name: str) -> Any:
        """The untyped value of a top-level section (None when absent)."""
        return self.data.get(name)

    def mapping(self, name: str) -> dict[str, Any] | None:
        """A top-level section that must be a mapping (None when absent)."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error((name,), "the section must be a mapping")
        return value

    def overrides(self, name: str, known: Iterable[str]) -> dict[str, Any]:
        """Section `name` as settings over the environment (see env_overrides); an unknown key is a
        ConfigError naming its file and line."""
        section = self.mapping(name) or {}
        fields = sorted(set(known))
        for key in section:
            if key not in fields:
                raise self.error((name, key), f"unknown setting; known: {', '.join(fields)}")
        return env_overrides(section, fields)

    def section(self, name: str, model: type[M]) -> M:
        """The top-level section `name` validated as `model` (defaults when absent); errors name the line."""
        value = self.mapping(name)
        return validate(model, value or {}, self, (name,))


def validation_error(
    exc: ValidationError, name: str, node: yaml.Node | None, prefix: tuple[Any, ...] = ()
) -> ConfigError:
    """The first pydantic error as a ConfigError naming the file, the line of the offending key and field."""
    err = exc.errors(include_url=False)[0]
    loc = (*prefix, *tuple(err.get("loc", ())))
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    child = _named_child(node, loc, msg)
    line = line_of(node, (*loc, child) if child is not None else loc)
    where = ".".join(str(p) for p in loc)
    return ConfigError(f"{name}:{line} (line {line}): {where}: {msg}")


def _named_child(node: yaml.Node | None, loc: tuple[Any, ...], msg: str) -> str | None:
    """The key under `loc` a whole-mapping check names in its message ("unknown monitor 'x'"), so the
    error points at that key's line rather than the section's."""
    value, _key = _walk(node, loc)
    if isinstance(value, yaml.MappingNode):
        for k, _v in value.value:
            if f"{str(k.value)!r}" in msg:
                return str(k.value)
    return None


def validate(model: type[M], data: Any, doc: ConfigDocument, prefix: tuple[Any, ...] = ()) -> M:
    """`data` (found at `prefix` of `doc`) as `model`; a ConfigError with the file and line when invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        owner = doc
        if doc.base is not None:  # the error names the file its key is in
            err = exc.errors(include_url=False)[0]
            loc = (*prefix, *tuple(err.get("loc", ())))
            msg = str(err.get("msg", ""))
            owner = doc.owner(loc)
            for candidate in _chain(doc):
                child = _named_child(candidate.node, loc, msg)
                if child is not None:
                    owner = doc.owner((*loc, child))
                    break
        raise validation_error(exc, owner.name, owner.node, prefix) from None


def _chain(doc: ConfigDocument) -> list[ConfigDocument]:
    out = []
    found: ConfigDocument | None = doc
    while found is not None:
        out.append(found)
        found = found.base
    return out


def parse_config(text: str, name: str) -> ConfigDocument:
    """A config document from YAML text; ConfigError when it is not YAML or not a mapping."""
    node = compose(text, name)
    data = yaml.safe_load(text) if node is not None else None
    if data is None:
        return ConfigDocument(name, {}, node)
    if not isinstance(data, dict):
        line = node.start_mark.line + 1 if node is not None else 1
        raise ConfigError(f"{name}:{line} (line {line}): the config must be a mapping of sections")
    return ConfigDocument(name, data, node)


_CACHE_LOCK = threading.Lock()
_CACHE: dict[str, tuple[tuple[int, int], ConfigDocument]] = {}


EXTENDS = "extends"
MAX_EXTENDS = 4  # a shop's file -> the platform's (-> a shared base): deeper is a mistake


def read_config(path: Path | str) -> ConfigDocument:
    """The config file at `path`, parsed once per version of the file (features share one parse); a
    top-level `extends: <file>` merges this file onto that one (see the module's docstring)."""
    return _extended(_read_one(path), Path(path), ())


def _extended(doc: ConfigDocument, path: Path, seen: tuple[Path, ...]) -> ConfigDocument:
    if EXTENDS not in doc.data:
        return doc
    target = doc.data[EXTENDS]
    if not isinstance(target, str) or not target.strip():
        raise doc.error((EXTENDS,), "the path of the config file this one builds on")
    base_path = Path(target.strip())
    if not base_path.is_absolute():
        base_path = Path(os.path.normpath(path.parent / base_path))  # "shops/../x.yaml" reads as "x.yaml"
    here = path.resolve()
    chain = (*seen, here)
    if base_path.resolve() in chain:
        raise doc.error((EXTENDS,), f"{target} extends this file again (a loop)")
    if len(chain) > MAX_EXTENDS:
        raise doc.error((EXTENDS,), f"more than {MAX_EXTENDS} files extend one another")
    try:
        base = _extended(_read_one(base_path), base_path, chain)
    except ConfigError as exc:
        line = doc.line((EXTENDS,))
        raise ConfigError(f"{doc.name}:{line} (line {line}): extends: {exc}") from None
    own = {k: v for k, v in doc.data.items() if k != EXTENDS}
    return ConfigDocument(doc.name, merge(base.data, own), doc.node, base)


def config_files(path: Path | str) -> list[Path]:
    """The files a config is made of: the deepest `extends:` base first, `path` itself last."""
    return [Path(d.name) for d in reversed(_chain(read_config(path)))]


def _read_one(path: Path | str) -> ConfigDocument:
    """One file as written (its own `extends:` not followed), from the cache when unchanged."""
    p = Path(path)
    try:
        st = p.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        with _CACHE_LOCK:
            hit = _CACHE.get(str(p))
        if hit is not None and hit[0] == stamp:
            # a copy: a caller that edits its mapping must not change what the next caller reads
            return ConfigDocument(hit[1].name, copy.deepcopy(hit[1].data), hit[1].node)
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file must be UTF-8") from None
    doc = parse_config(text, str(path))
    with _CACHE_LOCK:
        _CACHE[str(p)] = (stamp, doc)
    return ConfigDocument(doc.name, copy.deepcopy(doc.data), doc.node)


def read_optional(path: Path | str | None) -> ConfigDocument:
    """The config file, or an empty document when no file is configured."""
    return read_config(path) if path else ConfigDocument("<no config file>")


def load_section(path: Path | str | None, name: str, model: type[M]) -> M:
    """Section `name` of the config file at `path` as `model` (defaults when no file or no section)."""
    return read_optional(path).section(name, model)


# ---------------------------------------------------------------- checks shared by the sections' models
def check_time_zone(value: str) -> str:
    """`value` when it names an IANA time zone, else ValueError("unknown time zone ...")."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def check_known(keys: Iterable[str], known: Iterable[str], what: str) -> None:
    """ValueError naming the first of `keys` not in `known` (`unknown <what> 'x'; known: a, b`)."""
    allowed = tuple(known)
    for key in keys:
        if key not in allowed:
            raise ValueError(f"unknown {what} {key!r}; known: {', '.join(allowed)}")


# ---------------------------------------------------------------- environment settings
class EnvSettings(BaseSettings):
    """Base of every environment-typed settings model: DELIVERYHUB_<FIELD>, unknown variables ignored."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")


def load_env(model: type[S], **overrides: object) -> S:
    """`model` from the environment with explicit overrides (None values skipped) on top; a bad variable
    is a ConfigError naming it (DELIVERYHUB_MAX_BATCH: …)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        # BaseSettings' typed __init__ lists its private source options; fields are passed by name.
        built: S = cast(Any, model)(**clean)
        return built
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = tuple(err.get("loc", ()))
        first = str(loc[0]) if loc else ""
        prefix = str(model.model_config.get("env_prefix") or "")
        var = first if first in clean else f"{prefix}{first}".upper()
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        raise ConfigError(f"{var}: {msg}") from None
