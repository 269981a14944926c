"""``.cargo/config.toml``: discovery and merge as cargo does, plus typed accessors.

Discovery (cargo's ``GlobalContext::walk_tree``): starting at the *current directory*
(not the manifest's), every ``<dir>/.cargo/config.toml`` (or the legacy ``config``; when
both exist cargo uses ``config`` and warns) from ``cwd`` up to ``/``, then
``$CARGO_HOME/config.toml`` unless that file was already seen on the way up.
``include = ["a.toml", {path = "b.toml", optional = true}]`` loads other files relative to
the including file; the including file's values win.

Merge: tables merge key by key; for scalars the deeper directory wins (``$CARGO_HOME``
is the lowest priority); arrays are concatenated with higher-priority items *later*;
a type clash is an error, as in cargo. Every leaf keeps its :class:`Definition` (file or
environment variable), which matters for paths relative to a config file (``[env]``
``relative = true``, ``local-registry``, ``directory``).

Environment variables (``CARGO_BUILD_TARGET``, ``CARGO_NET_OFFLINE``,
``CARGO_REGISTRIES_<NAME>_INDEX``, ``CARGO_TARGET_<TRIPLE>_RUSTFLAGS``…) override the
files for the keys read through :meth:`CargoConfig.get`: scalars are replaced, lists get
the whitespace-split value appended — what ``cargo config get`` shows.

Registry tokens come from ``registries.<name>.token`` / ``registry.token`` in config,
``$CARGO_HOME/credentials.toml`` (or legacy ``credentials``) and ``CARGO_REGISTRIES_<NAME>_TOKEN``
/ ``CARGO_REGISTRY_TOKEN``; they are wrapped in :class:`Secret` so they never print.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .errors import NocargoError
from .shell import Shell
from .source import CRATES_IO_INDEX, SourceId
from .toml_util import load_toml

__all__ = [
    "CargoConfig",
    "Definition",
    "EnvConfigValue",
    "PatchEntry",
    "ProfileTables",
    "Secret",
    "SourceReplacement",
    "TargetConfig",
    "cargo_home",
    "config_files",
    "load_config",
]

CRATES_IO_NAME = "crates-io"


@dataclass(frozen=True)
class Definition:
    """Where a config value was defined: a file (``path``) or an environment variable."""

    path: Path | None = None
    env: str | None = None

    def root(self, cwd: Path) -> Path:
        """The directory relative paths are resolved against: the parent of the ``.cargo``
        directory holding the file (cargo's ``Definition::root``); ``cwd`` for env values."""
        if self.path is not None:
            return self.path.parent.parent
        return cwd

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"environment variable `{self.env}`"


@dataclass(frozen=True)
class Leaf:
    """A scalar (or array element) with its definition."""

    value: Any
    definition: Definition


class Secret:
    """A token that must never be printed (``repr``/``str`` say ``<redacted>``)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The token itself (only for an ``Authorization`` header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class EnvConfigValue:
    """One ``[env]`` entry: ``value``, ``force`` (override the environment),
    ``relative`` (a path relative to the config file's ``.cargo`` parent)."""

    name: str
    value: str
    force: bool
    relative: bool
    definition: Definition

    def resolve(self, cwd: Path) -> str:
        """The value as cargo sets it: joined to the config root when ``relative``."""
        if self.relative:
            return str(self.definition.root(cwd) / self.value)
        return self.value


@dataclass(frozen=True)
class PatchEntry:
    """One ``[patch.<source>] <name> = …`` entry of the configuration (cargo's
    ``Workspace::config_patch``). ``value`` is the plain TOML value (a version string or a
    detailed dependency table) with ``path`` already resolved against the root of the file
    that defines it (cargo's ``ConfigRelativePath``: the parent of the ``.cargo``
    directory); ``definition`` is where the entry comes from."""

    source: str
    name: str
    value: Any
    definition: Definition


@dataclass(frozen=True)
class TargetConfig:
    """``[target.<triple or cfg>]``: ``rustflags`` and ``linker`` (resolved path or name)."""

    key: str
    rustflags: tuple[str, ...] | None = None
    linker: str | None = None
    runner: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SourceReplacement:
    """Where ``[source]`` replacement sends a source: ``kind`` is ``registry`` (an index URL,
    ``sparse+`` or git), ``local-registry`` / ``directory`` (a path) or ``git``."""

    name: str
    kind: str
    location: str
    definition: Definition | None = None

    def source_id(self) -> SourceId | None:
        """The replacement as a registry :class:`SourceId` (``None`` for path kinds)."""
        if self.kind == "registry":
            return SourceId.for_registry(self.location)
        return None


def cargo_home(env: Mapping[str, str] | None = None) -> Path:
    """``$CARGO_HOME`` or ``~/.cargo``."""
    env = os.environ if env is None else env
    home = env.get("CARGO_HOME")
    if home:
        return Path(home).absolute()
    return Path.home() / ".cargo"


def _config_in(dir_: Path, shell: Shell | None) -> Path | None:
    """``dir_/config`` or ``dir_/config.toml`` (cargo prefers the former, with a warning)."""
    legacy, toml = dir_ / "config", dir_ / "config.toml"
    has_legacy, has_toml = legacy.is_file(), toml.is_file()
    if has_legacy and has_toml:
        if shell is not None:
            shell.warn(f"both `{legacy}` and `{toml}` exist. Using `{legacy}`")
        return legacy
    if has_legacy:
        return legacy
    if has_toml:
        return toml
    return None


def config_files(cwd: Path, home: Path, shell: Shell | None = None) -> list[Path]:
    """Config files in *increasing* priority: ``$CARGO_HOME`` first, then ``/`` down to ``cwd``."""
    found: list[Path] = []
    seen_home = False
    home_resolved = home.resolve() if home.exists() else home
    for dir_ in [cwd, *cwd.parents]:
        cargo_dir = dir_ / ".cargo"
        if cargo_dir.exists() and cargo_dir.resolve() == home_resolved:
            seen_home = True
        path = _config_in(cargo_dir, shell)
        if path is not None:
            found.append(path)
    if not seen_home:
        path = _config_in(home, shell)
        if path is not None:
            found.append(path)
    return list(reversed(found))


# -- merging ------------------------------------------------------------------------------

Tree = dict  # str -> Leaf | list[Leaf] | Tree


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "table"
    if isinstance(node, list):
        return "array"
    value = node.value
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, float):
        return "float"
    return "datetime"


def _wrap(value: Any, definition: Definition, path: str = "") -> Any:
    """Attach ``definition`` to every leaf; floats and datetimes are refused, as by cargo."""
    if isinstance(value, dict):
        return {k: _wrap(v, definition, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_plain(item, definition, f"{path}[{i}]")
        return [Leaf(v, definition) for v in value]
    _check_plain(value, definition, path)
    return Leaf(value, definition)


def _check_plain(value: Any, definition: Definition, path: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(v, definition, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_plain(v, definition, f"{path}[{i}]")
    elif not isinstance(value, (str, int, bool)):
        kind = "float" if isinstance(value, float) else "datetime"
        raise NocargoError(f"failed to parse config at `{path}`: unsupported TOML "
                           f"configuration type `{kind}`",
                           notes=[f"in `{definition}`"])


def _where(node: Any) -> str:
    if isinstance(node, Leaf):
        return str(node.definition)
    if isinstance(node, list) and node:
        return str(node[0].definition)
    if isinstance(node, dict):
        for v in node.values():
            return _where(v)
    return "?"


def _definition(node: Any) -> Definition:
    """Where ``node`` (or its first leaf) is defined."""
    if isinstance(node, Leaf):
        return node.definition
    values = node.values() if isinstance(node, dict) else node
    for v in values:
        return _definition(v)
    return Definition()


def _merge(low: Tree, high: Tree, path: tuple[str, ...] = ()) -> Tree:
    """Merge ``high`` (higher priority) over ``low``; both are left untouched."""
    out: Tree = dict(low)
    for key, hv in high.items():
        if key not in out:
            out[key] = hv
            continue
        lv = out[key]
        lk, hk = _kind(lv), _kind(hv)
        if isinstance(lv, dict) and isinstance(hv, dict):
            out[key] = _merge(lv, hv, path + (key,))
        elif isinstance(lv, list) and isinstance(hv, list):
            out[key] = [*lv, *hv]
        elif isinstance(lv, (dict, list)) or isinstance(hv, (dict, list)):
            dotted = ".".join(path + (key,))
            raise NocargoError(
                f"failed to merge config value from `{_where(lv)}` into `{_where(hv)}`: "
                f"expected {hk}, but found {lk}",
                notes=[f"while merging key `{dotted}`"])
        else:
            out[key] = hv
    return out


def _load_file(path: Path, seen: tuple[Path, ...] = ()) -> Tree:
    """One config file with its ``include``\\ s merged in (the including file wins)."""
    doc = load_toml(path)
    data = dict(doc.data)
    include = data.pop("include", None)
    merged: Tree = {}
    if include is not None:
        items = include if isinstance(include, list) else None
        if items is None:
            raise doc.error("expected a list of strings or a list of tables, but found "
                            f"{_kind(Leaf(include, Definition()))} at `include`", ["include"])
        for i, item in enumerate(items):
            optional = False
            if isinstance(item, str):
                rel = item
            elif isinstance(item, dict) and isinstance(item.get("path"), str):
                rel = item["path"]
                optional = item.get("optional") is True
            else:
                raise doc.error("`include` entries must be strings or tables with a `path`",
                                ["include", i])
            if not rel.endswith(".toml"):
                raise doc.error(f"expected a config include path ending with `.toml`, "
                                f"but found `{rel}`", ["include", i])
            target = (path.parent / rel)
            if target in seen or target == path:
                raise NocargoError(f"config `include` cycle: `{target}` includes itself",
                                   notes=[f"included from `{path}`"])
            if not target.is_file():
                if optional:
                    continue
                raise doc.error(f"failed to load config include `{rel}`: `{target}` does "
                                "not exist", ["include", i])
            merged = _merge(merged, _load_file(target, seen + (path,)))
    return _merge(merged, _wrap(data, Definition(path=path)))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node.value


def _env_key(path: Sequence[str]) -> str:
    return "CARGO_" + "_".join(p.upper().replace("-", "_").replace(".", "_") for p in path)


def _env_scalar(text: str) -> Any:
    """An environment value where cargo accepts several types: ``true``/``false`` are
    booleans, integer text an integer, anything else the string."""
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


#: The keys of a ``[profile.NAME]`` table (and of its ``build-override``) that cargo also
#: reads from ``CARGO_PROFILE_<NAME>_<KEY>``, and how: ``str`` as is, ``list`` split on
#: whitespace, ``any`` as :func:`_env_scalar`. (``package`` tables cannot be named by a
#: variable on stable cargo: it finds a table's keys in files only.)
_PROFILE_ENV_KEYS = {
    "opt-level": "any", "lto": "any", "codegen-backend": "str", "codegen-units": "any",
    "debug": "any", "split-debuginfo": "str", "debug-assertions": "any", "rpath": "any",
    "overflow-checks": "any", "incremental": "any", "panic": "str", "dir-name": "str",
    "inherits": "str", "strip": "any", "rustflags": "list", "trim-paths": "any",
}


class ProfileTables(Mapping[str, Mapping[str, Any]]):
    """``[profile]`` as cargo reads it: a profile is looked up by name
    (:meth:`CargoConfig.profile`), so one set only by variables exists too; iterating gives
    the names the files define."""

    def __init__(self, config: "CargoConfig") -> None:
        self._config = config
        self._cache: dict[str, Mapping[str, Any] | None] = {}

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        if name not in self._cache:
            self._cache[name] = self._config.profile(name)
        found = self._cache[name]
        return default if found is None else found

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        node = self._config.node(("profile",))
        return iter(list(node) if isinstance(node, dict) else [])

    def __len__(self) -> int:
        return sum(1 for _ in self)


# -- the config object --------------------------------------------------------------------


@dataclass(frozen=True)
class CargoConfig:
    """The merged configuration seen from ``cwd`` (see the module docstring)."""

    cwd: Path
    home: Path
    files: tuple[Path, ...]
    tree: Mapping[str, Any] = field(repr=False)
    env: Mapping[str, str] = field(repr=False, compare=False)
    credentials: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- raw access ----------------------------------------------------------------------
    def to_json(self) -> dict:
        """The merged file values as plain data (``cargo config get --format json``)."""
        return _plain(self.tree)

    def node(self, path: Sequence[str]) -> Any:
        """The merged node at ``path`` (files only), or ``None``."""
        node: Any = self.tree
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def get(self, key: str | Sequence[str]) -> Any:
        """A value with environment overrides applied, as plain data (``None`` if unset).

        ``key`` is dotted (``"build.rustflags"``) or a sequence of parts (needed for keys
        containing dots, e.g. ``("target", "cfg(unix)", "rustflags")``).
        """
        path = tuple(key.split(".")) if isinstance(key, str) else tuple(key)
        leaf = self.get_leaf(path)
        if leaf is None:
            return None
        return _plain(leaf)

    def get_leaf(self, path: Sequence[str]) -> Any:
        """Like :meth:`get` but keeps definitions (``Leaf`` / list of ``Leaf`` / table)."""
        path = tuple(path)
        node = self.node(path)
        env_name = _env_key(path)
        env_value = self.env.get(env_name)
        if env_value is None or isinstance(node, dict):
            return node
        definition = Definition(env=env_name)
        if isinstance(node, list):
            return [*node, *(Leaf(v, definition) for v in env_value.split())]
        return Leaf(_env_scalar(env_value), definition)

    # -- typed accessors ------------------------------------------------------------------
    def _typed(self, path: Sequence[str], kind: type, default: Any = None) -> Any:
        leaf = self.get_leaf(path)
        if leaf is None:
            return default
        dotted = ".".join(path)
        if isinstance(leaf, (dict, list)):
            raise NocargoError(f"invalid configuration for key `{dotted}`: expected a "
                               f"{kind.__name__}, but found a {_kind(leaf)}",
                               notes=[f"defined in {_where(leaf)}"])
        value = leaf.value
        if leaf.definition.env is not None:
            raw = self.env.get(leaf.definition.env, "")
            value = raw if kind is str else _from_env(raw, kind, dotted, leaf.definition)
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise NocargoError(
                f"invalid configuration for key `{dotted}`: expected {_article(kind)}, "
                f"but found {_kind(Leaf(value, leaf.definition))} `{value}`",
                notes=[f"defined in {leaf.definition}"])
        return value

    def _string_list(self, path: Sequence[str]) -> tuple[str, ...] | None:
        """cargo's ``StringList``: an array of strings or a whitespace-separated string."""
        leaf = self.get_leaf(path)
        if leaf is None:
            return None
        dotted = ".".join(path)
        if isinstance(leaf, Leaf):
            if not isinstance(leaf.value, str):
                raise NocargoError(f"invalid configuration for key `{dotted}`: expected a "
                                   "string or array of strings", notes=[f"defined in "
                                                                        f"{leaf.definition}"])
            return tuple(leaf.value.split())
        if isinstance(leaf, list):
            out = []
            for item in leaf:
                if not isinstance(item.value, str):
                    raise NocargoError(f"invalid configuration for key `{dotted}`: expected "
                                       "an array of strings",
                                       notes=[f"defined in {item.definition}"])
                out.append(item.value)
            return tuple(out)
        raise NocargoError(f"invalid configuration for key `{dotted}`: expected a string or "
                           "array of strings, but found a table")

    # profiles ----------------------------------------------------------------------------
    def profiles(self) -> ProfileTables:
        """The ``[profile]`` tables, each read on demand by :meth:`profile`."""
        node = self.node(("profile",))
        if node is not None and not isinstance(node, dict):
            raise NocargoError("invalid configuration for key `profile`: expected a table")
        return ProfileTables(self)

    def profile(self, name: str) -> dict | None:
        """``[profile.NAME]`` as plain data, ``CARGO_PROFILE_<NAME>_<KEY>`` variables over
        the files' values (those of ``build-override`` too); ``None`` if neither sets one."""
        table = self._profile_table(("profile", name))
        override = self._profile_table(("profile", name, "build-override"))
        if override is not None:
            table = {**(table or {}), "build-override": override}
        return table

    def _profile_table(self, path: tuple[str, ...]) -> dict | None:
        node = self.node(path)
        if node is not None and not isinstance(node, dict):
            raise NocargoError(
                f"invalid configuration for key `{'.'.join(path)}`: expected a table")
        table = _plain(node) if node is not None else {}
        for key, how in _PROFILE_ENV_KEYS.items():
            text = self.env.get(_env_key((*path, key)))
            if text is not None:
                table[key] = text.split() if how == "list" else text if how == "str" \
                    else _env_scalar(text)
        return table or None

    # build / target / env --------------------------------------------------------------
    def build_rustflags(self) -> tuple[str, ...] | None:
        """``build.rustflags`` (string split on whitespace, or array), env applied."""
        return self._string_list(("build", "rustflags"))

    def build_target(self) -> tuple[str, ...]:
        """``build.target``: one or more triples (``.json`` target specs resolved to paths)."""
        leaf = self.get_leaf(("build", "target"))
        if leaf is None:
            return ()
        items = [leaf] if isinstance(leaf, Leaf) else list(leaf) if isinstance(leaf, list) else None
        if items is None or not all(isinstance(i.value, str) for i in items):
            raise NocargoError("invalid configuration for key `build.target`: expected a "
                               "string or array of strings")
        out = []
        for item in items:
            value = item.value
            if value.endswith(".json"):
                value = str(item.definition.root(self.cwd) / value)
            out.append(value)
        return tuple(out)

    def target_keys(self) -> tuple[str, ...]:
        """Keys of ``[target.*]`` tables (triples and ``cfg(...)``), sorted."""
        node = self.node(("target",))
        return tuple(sorted(node)) if isinstance(node, dict) else ()

    def target(self, key: str) -> TargetConfig:
        """``[target.<key>]`` (a triple also sees ``CARGO_TARGET_<TRIPLE>_*`` variables)."""
        rustflags = self._string_list(("target", key, "rustflags"))
        runner = self._string_list(("target", key, "runner"))
        linker_leaf = self.get_leaf(("target", key, "linker"))
        linker = None
        if linker_leaf is not None:
            if not isinstance(linker_leaf, Leaf) or not isinstance(linker_leaf.value, str):
                raise NocargoError(f"invalid configuration for key `target.{key}.linker`: "
                                   "expected a string")
            linker = _config_relative_path(linker_leaf, self.cwd)
        return TargetConfig(key=key, rustflags=rustflags, linker=linker, runner=runner)

    def env_vars(self) -> dict[str, EnvConfigValue]:
        """The ``[env]`` table: plain strings or ``{ value, force, relative }`` tables."""
        node = self.node(("env",))
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise NocargoError("invalid configuration for key `env`: expected a table")
        out: dict[str, EnvConfigValue] = {}
        for name, entry in sorted(node.items()):
            if isinstance(entry, Leaf) and isinstance(entry.value, str):
                out[name] = EnvConfigValue(name, entry.value, False, False, entry.definition)
                continue
            if isinstance(entry, dict) and isinstance(entry.get("value"), Leaf) \
                    and isinstance(entry["value"].value, str):
                flags = {}
                for flag in ("force", "relative"):
                    f = entry.get(flag)
                    if f is not None and not (isinstance(f, Leaf) and isinstance(f.value, bool)):
                        raise NocargoError(f"invalid configuration for key `env.{name}.{flag}`:"
                                           " expected a boolean")
                    flags[flag] = bool(f.value) if f is not None else False
                unknown = set(entry) - {"value", "force", "relative"}
                if unknown:
                    raise NocargoError(f"invalid configuration for key `env.{name}`: unknown "
                                       f"field `{sorted(unknown)[0]}`, expected `value`, "
                                       "`force` or `relative`")
                out[name] = EnvConfigValue(name, entry["value"].value, flags["force"],
                                           flags["relative"], entry["value"].definition)
                continue
            raise NocargoError(f"invalid configuration for key `env.{name}`: expected a "
                               "string or a table with a string `value`",
                               notes=[f"defined in {_where(entry)}"])
        return out

    # net / http --------------------------------------------------------------------------
    def net_offline(self) -> bool:
        """``net.offline`` (``CARGO_NET_OFFLINE``)."""
        return bool(self._typed(("net", "offline"), bool, False))

    def net_retry(self) -> int:
        """``net.retry`` (default 3)."""
        return int(self._typed(("net", "retry"), int, 3))

    def http_timeout(self) -> int:
        """``http.timeout`` in seconds (default 30)."""
        return int(self._typed(("http", "timeout"), int, 30))

    # registries ---------------------------------------------------------------------------
    def registry_names(self) -> tuple[str, ...]:
        """Names of ``[registries.*]`` (from files and ``CARGO_REGISTRIES_*_INDEX``), sorted."""
        node = self.node(("registries",))
        names = set(node) if isinstance(node, dict) else set()
        return tuple(sorted(names))

    def registry_index(self, name: str) -> str | None:
        """``registries.<name>.index`` (env ``CARGO_REGISTRIES_<NAME>_INDEX`` wins)."""
        if name == CRATES_IO_NAME:
            return CRATES_IO_INDEX
        return self._typed(("registries", name, "index"), str)

    def registry_source(self, name: str, *, required_by: str | None = None) -> SourceId:
        """The source of ``registry = "name"`` on a dependency (error if not configured)."""
        index = self.registry_index(name)
        if index is None:
            notes = [f"required by {required_by}"] if required_by else []
            raise NocargoError(f"registry index was not found in any configuration: `{name}`",
                               notes=notes)
        return SourceId.for_registry(index)

    def default_registry(self) -> str | None:
        """``registry.default`` (``None`` means crates.io)."""
        return self._typed(("registry", "default"), str)

    def registry_name_for(self, source: SourceId) -> str | None:
        """The ``[registries]`` name whose index URL is ``source`` (``crates-io`` for it)."""
        if source.is_crates_io():
            return CRATES_IO_NAME
        for name in self.registry_names():
            index = self.registry_index(name)
            if index and SourceId.for_registry(index) == source.without_precise():
                return name
        return None

    def token(self, source: SourceId) -> Secret | None:
        """The token of ``source``'s registry (env, config, then ``credentials.toml``)."""
        name = self.registry_name_for(source)
        if name is None:
            return None
        if name == CRATES_IO_NAME:
            candidates = [self.env.get("CARGO_REGISTRY_TOKEN"),
                          self._typed(("registry", "token"), str),
                          _dig(self.credentials, ("registry", "token"))]
        else:
            env_name = "CARGO_REGISTRIES_" + name.upper().replace("-", "_") + "_TOKEN"
            candidates = [self.env.get(env_name),
                          self._typed(("registries", name, "token"), str),
                          _dig(self.credentials, ("registries", name, "token"))]
        for value in candidates:
            if isinstance(value, str) and value:
                return Secret(value)
        return None

    # sources -------------------------------------------------------------------------------
    def patch_entries(self) -> tuple[PatchEntry, ...]:
        """The ``[patch]`` tables of the configuration, sorted by source key, then by name
        (cargo reads them into ordered maps)."""
        node = self.node(("patch",))
        if node is None:
            return ()
        if not isinstance(node, dict):
            raise NocargoError(f"invalid configuration for key `patch`: expected a table, "
                               f"but found {_kind(node)}", notes=[f"defined in {_where(node)}"])
        out: list[PatchEntry] = []
        for source in sorted(node):
            entries = node[source]
            if not isinstance(entries, dict):
                raise NocargoError(f"invalid configuration for key `patch.{source}`: expected "
                                   f"a table, but found {_kind(entries)}",
                                   notes=[f"defined in {_where(entries)}"])
            for name in sorted(entries):
                entry = entries[name]
                value = _plain(entry)
                path = entry.get("path") if isinstance(entry, dict) else None
                if isinstance(path, Leaf) and isinstance(path.value, str):
                    value["path"] = str(path.definition.root(self.cwd) / path.value)
                definition = _definition(entry)
                if definition.path is None and definition.env is None:  # an empty table
                    definition = self._defining_file(("patch", source, name))
                out.append(PatchEntry(source, name, value, definition))
        return tuple(out)

    def _defining_file(self, path: Sequence[str]) -> Definition:
        """The highest-priority config file that has the key ``path`` (for values without
        leaves, such as an empty table)."""
        for file in reversed(self.files):  # increasing priority
            if _dig(load_toml(file).data, path) is not None:
                return Definition(path=file)
        return Definition()

    def _source_table(self) -> dict:
        node = self.node(("source",))
        if node is None:
            return {}
        if not isinstance(node, dict):
            raise NocargoError("invalid configuration for key `source`: expected a table")
        return node

    def _source_location(self, name: str, entry: dict) -> SourceReplacement | None:
        kinds = [k for k in ("registry", "local-registry", "directory", "git") if k in entry]
        if len(kinds) > 1:
            raise NocargoError(f"more than one source location specified for `source.{name}`")
        if not kinds:
            return None
        kind = kinds[0]
        leaf = entry[kind]
        if not isinstance(leaf, Leaf) or not isinstance(leaf.value, str):
            raise NocargoError(f"invalid configuration for key `source.{name}.{kind}`: "
                               "expected a string")
        location = leaf.value
        if kind in ("local-registry", "directory"):
            location = str(leaf.definition.root(self.cwd) / location)
        return SourceReplacement(name, kind, location, leaf.definition)

    def source_replacement(self, source: SourceId) -> SourceReplacement | None:
        """Follow ``[source.<name>] replace-with`` chains starting at ``source``.

        ``crates-io`` names crates.io; other names match by their location. A
        ``replace-with`` may also name a ``[registries]`` entry. Returns the final
        replacement, or ``None`` when ``source`` is not replaced.
        """
        table = self._source_table()
        start = None
        for name, entry in table.items():
            if not isinstance(entry, dict):
                raise NocargoError(f"invalid configuration for key `source.{name}`: "
                                   "expected a table")
            if name == CRATES_IO_NAME:
                if source.is_crates_io():
                    start = name
                continue
            loc = self._source_location(name, entry)
            if loc is not None and loc.kind == "registry" and \
                    SourceId.for_registry(loc.location) == source.without_precise():
                start = name
        if start is None:
            return None
        current = start
        visited = [current]
        result: SourceReplacement | None = None
        while True:
            entry = table.get(current, {})
            replace = entry.get("replace-with") if isinstance(entry, dict) else None
            if replace is None:
                break
            if not isinstance(replace, Leaf) or not isinstance(replace.value, str):
                raise NocargoError(f"invalid configuration for key `source.{current}."
                                   "replace-with`: expected a string")
            target = replace.value
            if target in visited:
                chain = " -> ".join(f"`{v}`" for v in [*visited, target])
                raise NocargoError(f"detected a cycle of `replace-with` sources, the source "
                                   f"`{target}` is eventually replaced with itself",
                                   notes=[f"chain: {chain}"])
            visited.append(target)
            if target in table:
                loc = self._source_location(target, table[target])
                if loc is None and "replace-with" not in table[target]:
                    raise NocargoError(f"no source location specified for `source.{target}`, "
                                       "need `registry`, `local-registry`, `directory`, or "
                                       "`git` defined")
                if loc is not None:
                    result = loc
            elif target == CRATES_IO_NAME:
                result = SourceReplacement(target, "registry", CRATES_IO_INDEX)
            else:
                index = self.registry_index(target)
                if index is None:
                    raise NocargoError(f"could not find a configured source with the name "
                                       f"`{target}` when attempting to lookup `{current}` "
                                       "(configuration in `source.{current}.replace-with`)"
                                       .replace("{current}", current))
                result = SourceReplacement(target, "registry", index)
            current = target
        return result


def _from_env(value: str, kind: type, key: str, definition: Definition) -> Any:
    if kind is bool:
        if value in ("true", "false"):
            return value == "true"
    elif kind is int:
        try:
            return int(value)
        except ValueError:
            pass
    raise NocargoError(f"invalid configuration for key `{key}`: expected {_article(kind)}, "
                       f"but found `{value}`", notes=[f"defined in {definition}"])


def _article(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string"}.get(kind, kind.__name__)


def _config_relative_path(leaf: Leaf, cwd: Path) -> str:
    """cargo's ``ConfigRelativePath`` for programs: a value with a slash is a path relative
    to the config root; a bare name is looked up on ``PATH`` (left as is)."""
    value = leaf.value
    if "/" in value or "\\" in value:
        return str(leaf.definition.root(cwd) / value)
    return value


def _dig(data: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _iter_files(files: Sequence[Path]) -> Iterator[Tree]:
    for path in files:
        yield _load_file(path)


def load_config(cwd: Path | str | None = None, *, home: Path | str | None = None,
                env: Mapping[str, str] | None = None, shell: Shell | None = None) -> CargoConfig:
    """Discover and merge the config files seen from ``cwd`` (default: the current dir).

    ``home`` defaults to ``$CARGO_HOME`` (or ``~/.cargo``); ``env`` to ``os.environ``.
    Bad TOML or a type clash between files raise :class:`NocargoError` naming the file.
    """
    env = dict(os.environ if env is None else env)
    cwd = Path(cwd if cwd is not None else os.getcwd()).absolute()
    home_path = Path(home).absolute() if home is not None else cargo_home(env)
    files = config_files(cwd, home_path, shell)
    tree: Tree = {}
    # Like cargo, start from the deepest file and merge each ancestor (then $CARGO_HOME)
    # into what is accumulated; the result is the same, and so are the error messages.
    for layer in _iter_files(list(reversed(files))):
        tree = _merge(layer, tree)
    credentials: dict = {}
    for cred_name in ("credentials.toml", "credentials"):
        cred = home_path / cred_name
        if cred.is_file():
            credentials = dict(load_toml(cred).data)
            break
    return CargoConfig(cwd=cwd, home=home_path, files=tuple(files), tree=tree, env=env,
                       credentials=credentials)
