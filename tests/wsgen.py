"""Random path-only Cargo workspaces for differential tests (a hypothesis strategy).

:func:`workspaces` draws a :class:`GenWorkspace`: 3–15 crates (libs, proc-macros, bin-only
packages; bins with ``required-features``; build scripts, some with ``links``; integration
tests and examples), dependencies between them (normal and build dependencies only towards
higher-numbered crates so no cycle goes through them; dev-dependencies anywhere, so cycles
through dev-dependencies happen), renames (``package = …``, sometimes equal to the name),
optional dependencies, ``default-features = false``, dependency ``features``, platform
tables (``cfg(..)`` and plain triples), the same crate as normal *and* build dependency
with other features, and ``[features]`` using plain features, ``dep:``, ``d/f`` and weak
``d?/f``. The workspace is virtual (resolver absent/1/2/3) or has a root package (resolver
from its edition or written); some crates live outside the workspace root (non-member
path dependencies); ``[profile]`` tables with ``build-override``, package overrides and a
custom profile appear too.

:func:`invocations` draws the command line to compare: package selection, features,
``--all-features``/``--no-default-features``, ``--target`` (0–2 of
x86_64-unknown-linux-gnu, aarch64-apple-darwin, wasm32-unknown-unknown), profile and
``build`` vs ``test --no-run``.

Everything generated is meant to be accepted by cargo; where cargo rejects an input (some
rules are easier to test than to avoid) both tools must reject it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

__all__ = ["GenWorkspace", "Invocation", "RUSTFLAGS", "TARGETS", "invocations", "workspaces"]

TARGETS = ("x86_64-unknown-linux-gnu", "aarch64-apple-darwin", "wasm32-unknown-unknown")
PLATFORMS = (
    "cfg(unix)", "cfg(windows)", "cfg(target_arch = \"wasm32\")",
    "cfg(target_os = \"macos\")", "cfg(all(unix, target_pointer_width = \"64\"))",
    "cfg(not(target_family = \"wasm\"))", "x86_64-unknown-linux-gnu",
    "aarch64-apple-darwin", "wasm32-unknown-unknown",
    # true only with the rustflags of :data:`RUSTFLAGS` (cargo asks rustc with them)
    "cfg(nocargo_flag)", "cfg(target_feature = \"crt-static\")",
)
#: ``RUSTFLAGS`` values an invocation may be run with (``invocations(rustflags=...)``)
RUSTFLAGS = ("--cfg nocargo_flag", "-C target-feature=+crt-static",
             "--cfg nocargo_flag -C target-feature=+crt-static")


@dataclass
class GenDep:
    target: int
    key: str
    package_field: bool
    kind: str  # normal | build | dev
    platform: str | None
    optional: bool
    default_features: bool | None
    features: list[str]


@dataclass
class GenCrate:
    index: int
    name: str
    dir: str  # relative to the base directory
    edition: str
    lib: str | None  # "lib" | "proc-macro" | None
    lib_name: str | None
    bins: list[tuple[str, list[str]]]  # (name, required-features); name == crate -> main.rs
    build_script: bool
    links: str | None
    tests: bool
    examples: bool
    features: dict[str, list[str]] = field(default_factory=dict)
    deps: list[GenDep] = field(default_factory=list)
    resolver: str | None = None  # package.resolver (root package only)
    external: bool = False
    crate_types: list[str] | None = None  # [lib] crate-type
    lib_flags: dict = field(default_factory=dict)  # [lib] test/doctest/harness
    build_path: str = "build.rs"
    example_proc_macro: bool = False  # an example with crate-type = ["proc-macro"]
    bench: bool = False
    explicit: set[str] = field(default_factory=set)  # optional deps used as `dep:`

    def feature_map_keys(self) -> list[str]:
        """Declared features plus implicit features of optional deps (as cargo builds them)."""
        keys = set(self.features)
        for d in self.deps:
            if d.optional and d.key not in keys and d.key not in self.explicit:
                keys.add(d.key)
        return sorted(keys)


@dataclass
class GenWorkspace:
    crates: list[GenCrate]
    virtual: bool
    resolver: str | None  # workspace.resolver
    members: list[int]
    default_members: list[int] | None
    profiles: dict

    @property
    def root_crate(self) -> GenCrate | None:
        return None if self.virtual else self.crates[0]

    def write(self, base: Path) -> Path:
        """Write the workspace under ``base``; returns the workspace root directory."""
        root = base / "ws"
        root.mkdir(parents=True, exist_ok=True)
        ws_lines = ["[workspace]"]
        members = [self.crates[i].dir for i in self.members if self.crates[i].dir != "ws"]
        ws_lines.append("members = " + _toml_list([_rel(m) for m in members]))
        if self.default_members is not None:
            ws_lines.append("default-members = " + _toml_list(
                [_rel(self.crates[i].dir) or "." for i in self.default_members]))
        if self.resolver is not None:
            ws_lines.append(f'resolver = "{self.resolver}"')
        ws_text = "\n".join(ws_lines) + "\n" + _profiles_toml(self.profiles)
        for crate in self.crates:
            extra = ws_text if crate.dir == "ws" else ""
            _write_crate(base, crate, self.crates, extra)
        if self.virtual:
            (root / "Cargo.toml").write_text(ws_text)
        return root

    def describe(self) -> str:
        """The workspace as indented JSON (sets as sorted lists), for failure reports."""
        return json.dumps(dataclasses.asdict(self), default=_jsonable, indent=1)


def _jsonable(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _rel(member_dir: str) -> str:
    return member_dir[len("ws/"):] if member_dir.startswith("ws/") else member_dir


def _toml_str(s: str) -> str:
    return json.dumps(s)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _toml_str(v)
    raise TypeError(v)


def _profiles_toml(profiles: dict) -> str:
    lines: list[str] = []
    for name, table in profiles.items():
        plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
        lines.append(f"[profile.{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in plain.items())
        for k, v in table.items():
            if k == "build-override":
                lines.append(f"[profile.{name}.build-override]")
                lines.extend(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items())
            elif k == "package":
                for spec, sub in v.items():
                    lines.append(f"[profile.{name}.package.{_toml_str(spec)}]")
                    lines.extend(f"{kk} = {_toml_value(vv)}" for kk, vv in sub.items())
    return "\n".join(lines) + ("\n" if lines else "")


def _relpath(src: str, dst: str) -> str:
    import os

    return os.path.relpath(dst, src)


def _write_crate(base: Path, crate: GenCrate, crates: list[GenCrate], extra: str) -> None:
    d = base / crate.dir
    (d / "src").mkdir(parents=True, exist_ok=True)
    lines = ["[package]", f'name = "{crate.name}"', 'version = "0.1.0"',
             f'edition = "{crate.edition}"']
    if crate.build_script:
        lines.append(f'build = "{crate.build_path}"')
        (d / crate.build_path).parent.mkdir(parents=True, exist_ok=True)
        (d / crate.build_path).write_text("fn main() {}\n")
    if crate.links:
        lines.append(f'links = "{crate.links}"')
    if crate.resolver:
        lines.append(f'resolver = "{crate.resolver}"')
    if crate.lib:
        lines.append("[lib]")
        if crate.lib_name:
            lines.append(f'name = "{crate.lib_name}"')
        if crate.lib == "proc-macro":
            lines.append("proc-macro = true")
        if crate.crate_types:
            lines.append("crate-type = " + _toml_list(crate.crate_types))
        for key, value in crate.lib_flags.items():
            lines.append(f"{key} = {_toml_value(value)}")
        (d / "src" / "lib.rs").write_text("")
    for name, req in crate.bins:
        lines.append("[[bin]]")
        lines.append(f'name = "{name}"')
        if name == crate.name:
            lines.append('path = "src/main.rs"')
            (d / "src" / "main.rs").write_text("fn main() {}\n")
        else:
            (d / "src" / "bin").mkdir(exist_ok=True)
            lines.append(f'path = "src/bin/{name}.rs"')
            (d / "src" / "bin" / f"{name}.rs").write_text("fn main() {}\n")
        if req:
            lines.append("required-features = " + _toml_list(req))
    if crate.tests:
        (d / "tests").mkdir(exist_ok=True)
        (d / "tests" / "it.rs").write_text("")
    if crate.examples:
        (d / "examples").mkdir(exist_ok=True)
        (d / "examples" / "ex.rs").write_text("fn main() {}\n")
    if crate.example_proc_macro:
        (d / "examples").mkdir(exist_ok=True)
        (d / "examples" / "pmex.rs").write_text("")
        lines.append('[[example]]\nname = "pmex"\ncrate-type = ["proc-macro"]')
    if crate.bench:
        (d / "benches").mkdir(exist_ok=True)
        (d / "benches" / "bb.rs").write_text("")
    if crate.features:
        lines.append("[features]")
        for fname, values in crate.features.items():
            lines.append(f"{_toml_str(fname)} = {_toml_list(values)}")
    tables: dict[tuple[str | None, str], list[str]] = {}
    for dep in crate.deps:
        target = crates[dep.target]
        parts = [f'path = {_toml_str(_relpath(str(base / crate.dir), str(base / target.dir)))}']
        if dep.package_field:
            parts.append(f'package = "{target.name}"')
        if dep.optional:
            parts.append("optional = true")
        if dep.default_features is not None:
            parts.append(f"default-features = {_toml_value(dep.default_features)}")
        if dep.features:
            parts.append("features = " + _toml_list(dep.features))
        table = {"normal": "dependencies", "build": "build-dependencies",
                 "dev": "dev-dependencies"}[dep.kind]
        tables.setdefault((dep.platform, table), []).append(
            f"{_toml_str(dep.key)} = {{ {', '.join(parts)} }}")
    for (platform, table), entries in tables.items():
        header = f"[{table}]" if platform is None else f"[target.{_toml_str(platform)}.{table}]"
        lines.append(header)
        lines.extend(entries)
    (d / "Cargo.toml").write_text("\n".join(lines) + "\n" + extra)


# --------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------


@st.composite
def workspaces(draw, min_crates: int = 3, max_crates: int = 15) -> GenWorkspace:
    """A random path-only workspace (see the module docstring)."""
    n = draw(st.integers(min_crates, max_crates))
    virtual = draw(st.booleans())
    # crates [n_ext, n) may live outside the root; crate 0 is the root package if not virtual
    n_ext = draw(st.integers(max(1, n - 2), n)) if draw(st.booleans()) else n
    crates: list[GenCrate] = []
    for i in range(n):
        name = draw(st.sampled_from([f"c{i}", f"c-{i}", f"k{i}x"]))
        external = i >= n_ext and (virtual or i > 0)
        if not virtual and i == 0:
            cdir = "ws"
        elif external:
            cdir = f"ext/{name}"
        else:
            cdir = f"ws/{name}"
        lib = draw(st.sampled_from(["lib"] * 6 + ["proc-macro"] * 2 + [None]))
        bins: list[tuple[str, list[str]]] = []
        if lib is None or draw(st.integers(0, 3)) == 0:
            bins.append((name, []))
        if draw(st.integers(0, 4)) == 0:
            bins.append((f"extra{i}", []))
        build_script = draw(st.integers(0, 2)) == 0
        links = f"native{i}" if build_script and draw(st.booleans()) else None
        crates.append(GenCrate(
            index=i, name=name, dir=cdir,
            edition=draw(st.sampled_from(["2015", "2018", "2021", "2024"])),
            lib=lib,
            lib_name=(f"lib_of_{i}" if lib == "lib" and draw(st.integers(0, 5)) == 0 else None),
            bins=bins, build_script=build_script, links=links,
            tests=draw(st.integers(0, 2)) == 0 and not external,
            examples=draw(st.integers(0, 3)) == 0 and not external,
            external=external,
            crate_types=(draw(st.sampled_from([["rlib"], ["lib", "cdylib"], ["cdylib"],
                                                ["staticlib", "rlib"], ["dylib"]]))
                         if lib == "lib" and draw(st.integers(0, 7)) == 0 else None),
            lib_flags=({k: draw(st.booleans()) for k in draw(st.lists(
                st.sampled_from(["test", "doctest", "harness"]), max_size=2, unique=True))}
                if lib and draw(st.integers(0, 5)) == 0 else {}),
            build_path=draw(st.sampled_from(["build.rs", "build.rs", "src/gen.rs"])),
            example_proc_macro=draw(st.integers(0, 12)) == 0 and not external,
            bench=draw(st.integers(0, 6)) == 0 and not external,
        ))
        nfeat = draw(st.integers(0, 4))
        for k in range(nfeat):
            crates[i].features[f"f{k}"] = []
        if draw(st.booleans()):
            crates[i].features["default"] = []

    # dependencies
    for i, crate in enumerate(crates):
        candidates_fwd = list(range(i + 1, n))
        if crate.external:
            candidates_fwd = [j for j in candidates_fwd if crates[j].external]
        fwd = draw(st.lists(st.sampled_from(candidates_fwd), max_size=3, unique=True)) if candidates_fwd else []
        # members: dev-dependencies on other members; non-members: on other non-members
        # (cargo ignores those, but `test -p <non-member>` then refuses)
        dev_cands = [j for j in range(n) if j != i and crates[j].external == crate.external]
        dev = draw(st.lists(st.sampled_from(dev_cands), max_size=2, unique=True)) if dev_cands else []
        for j in sorted(set(fwd) | set(dev)):
            target = crates[j]
            renamed = draw(st.integers(0, 4))
            if renamed == 0:
                key, package_field = f"r{j}", True
            elif renamed == 1:
                key, package_field = target.name, True
            else:
                key, package_field = target.name, False
            kinds: list[str] = []
            if j in fwd:
                kinds += draw(st.lists(st.sampled_from(["normal", "build", "normal-plat", "build-plat"]),
                                       min_size=1, max_size=3, unique=True))
            if j in dev:
                kinds += draw(st.lists(st.sampled_from(["dev", "dev-plat"]), min_size=1, max_size=2,
                                       unique=True))
            seen_tables: set[tuple[str, str | None]] = set()
            for kind in kinds:
                base_kind = kind.split("-")[0]
                platform = draw(st.sampled_from(PLATFORMS)) if kind.endswith("plat") else None
                if (base_kind, platform) in seen_tables:
                    continue
                seen_tables.add((base_kind, platform))
                optional = base_kind != "dev" and draw(st.integers(0, 2)) == 0
                tfeatures = list(target.features)
                feats = draw(st.lists(st.sampled_from(tfeatures), max_size=2, unique=True)) if tfeatures else []
                crate.deps.append(GenDep(
                    target=j, key=key, package_field=package_field, kind=base_kind,
                    platform=platform, optional=optional,
                    default_features=draw(st.sampled_from([None, None, True, False])),
                    features=feats,
                ))

    # which optional dependencies are referenced with `dep:` (they lose their implicit
    # feature); decided for every crate first so feature_map_keys() is final below
    for crate in crates:
        optional_keys = sorted({d.key for d in crate.deps if d.optional})
        crate.explicit = {k for k in optional_keys if draw(st.integers(0, 2)) == 0}
    # feature values (now that every crate's dependencies are known)
    for crate in crates:
        optional_keys = sorted({d.key for d in crate.deps if d.optional})
        explicit = crate.explicit
        fnames = list(crate.features)
        dep_targets: dict[str, int] = {}
        for d in crate.deps:
            dep_targets.setdefault(d.key, d.target)
        for fname in fnames:
            values: list[str] = []
            for _ in range(draw(st.integers(0, 3))):
                choice = draw(st.integers(0, 4))
                if choice == 0 and len(fnames) > 1:
                    values.append(draw(st.sampled_from([f for f in fnames if f != fname])))
                elif choice == 1 and optional_keys:
                    key = draw(st.sampled_from(optional_keys))
                    values.append(f"dep:{key}" if key in explicit else key)
                elif choice in (2, 3) and dep_targets:
                    key = draw(st.sampled_from(sorted(dep_targets)))
                    tkeys = crates[dep_targets[key]].feature_map_keys()
                    if tkeys:
                        weak = choice == 3 and key in optional_keys
                        values.append(f"{key}{'?' if weak else ''}/{draw(st.sampled_from(tkeys))}")
            crate.features[fname] = sorted(set(values))
        # every `dep:`-only optional dependency must be enabled by some feature
        for key in sorted(explicit):
            if not any(f"dep:{key}" in vals for vals in crate.features.values()):
                target_feature = draw(st.sampled_from(sorted(crate.features) + ["__new"]))
                if target_feature == "__new":
                    target_feature = f"use-{key}"
                    crate.features.setdefault(target_feature, [])
                crate.features[target_feature].append(f"dep:{key}")
        # bins may require features (plain, or dep/feat)
        new_bins = []
        for bname, _ in crate.bins:
            req: list[str] = []
            if crate.features and draw(st.integers(0, 2)) == 0:
                req.append(draw(st.sampled_from(sorted(crate.features))))
            if dep_targets and draw(st.integers(0, 5)) == 0:
                key = draw(st.sampled_from(sorted(dep_targets)))
                tkeys = crates[dep_targets[key]].feature_map_keys()
                if tkeys:
                    req.append(f"{key}/{draw(st.sampled_from(tkeys))}")
            new_bins.append((bname, req))
        crate.bins = new_bins

    members = [i for i in range(n) if not crates[i].external and (virtual or i > 0)]
    default_members = None
    if draw(st.integers(0, 3)) == 0 and members:
        default_members = draw(st.lists(st.sampled_from(members), min_size=1, max_size=2, unique=True))
    resolver = draw(st.sampled_from([None, "1", "2", "3"]))
    if not virtual and resolver is None and draw(st.booleans()):
        crates[0].resolver = draw(st.sampled_from(["1", "2"]))
    profiles = draw(_profiles([c.name for c in crates]))
    return GenWorkspace(crates, virtual, resolver, members, default_members, profiles)


_PROFILE_VALUES = {
    "opt-level": st.sampled_from([0, 1, 2, 3, "s", "z"]),
    "debug": st.sampled_from([True, False, 0, 1, 2, "line-tables-only", "limited"]),
    "strip": st.sampled_from([True, False, "none", "debuginfo", "symbols"]),
    "debug-assertions": st.booleans(),
    "overflow-checks": st.booleans(),
    "incremental": st.booleans(),
    "codegen-units": st.integers(1, 16),
    "split-debuginfo": st.sampled_from(["off", "packed", "unpacked"]),
}
_ROOT_ONLY = {
    "panic": st.sampled_from(["unwind", "abort"]),
    "lto": st.sampled_from([True, False, "thin", "fat", "off"]),
    "rpath": st.booleans(),
}


@st.composite
def _profile_table(draw, keys: dict, max_size: int = 3) -> dict:
    chosen = draw(st.lists(st.sampled_from(sorted(keys)), max_size=max_size, unique=True))
    return {k: draw(keys[k]) for k in chosen}


@st.composite
def _profiles(draw, names: list[str]) -> dict:
    if draw(st.integers(0, 2)) != 0:
        return {}
    profiles: dict = {}
    for pname in draw(st.lists(st.sampled_from(["dev", "release", "test", "custom"]),
                               min_size=1, max_size=2, unique=True)):
        table = draw(_profile_table({**_PROFILE_VALUES, **_ROOT_ONLY}))
        if pname == "test":
            table.pop("panic", None)
        if pname == "custom":
            table["inherits"] = draw(st.sampled_from(["dev", "release"]))
        if draw(st.booleans()):
            table["build-override"] = draw(_profile_table(_PROFILE_VALUES, 2))
        if draw(st.integers(0, 2)) == 0:
            specs = draw(st.lists(st.sampled_from(names + ["*"]), min_size=1, max_size=2, unique=True))
            table["package"] = {s: draw(_profile_table(_PROFILE_VALUES, 2)) for s in specs}
        profiles[pname] = table
    return profiles


@dataclass
class Invocation:
    """One command line to compare (cargo ``build``/``test --no-run`` flags)."""

    manifest_dir: str  # relative to the base dir ("ws" = the workspace root)
    packages: list[str]
    workspace: bool
    exclude: list[str]
    features: list[str]
    all_features: bool
    no_default_features: bool
    targets: list[str]
    profile: str | None  # None = dev (build) / test (test); "release"; "custom"
    tests: bool
    rustflags: str | None = None  # the RUSTFLAGS variable (None: unset)

    def cargo_args(self) -> list[str]:
        args = ["--manifest-path", f"{self.manifest_dir}/Cargo.toml"]
        for p in self.packages:
            args += ["-p", p]
        if self.workspace:
            args.append("--workspace")
        for e in self.exclude:
            args += ["--exclude", e]
        if self.features:
            args += ["--features", " ".join(self.features)]
        if self.all_features:
            args.append("--all-features")
        if self.no_default_features:
            args.append("--no-default-features")
        for t in self.targets:
            args += ["--target", t]
        if self.profile == "release":
            args.append("--release")
        elif self.profile is not None:
            args += ["--profile", self.profile]
        return args


@st.composite
def invocations(draw, ws: GenWorkspace, rustflags: tuple[str, ...] = ()) -> Invocation:
    """A command line for ``ws``: mostly valid, sometimes naming unknown features; run
    with one of ``rustflags`` as ``RUSTFLAGS`` half the time (when given)."""
    member_crates = [ws.crates[i] for i in ws.members] + ([ws.crates[0]] if not ws.virtual else [])
    manifest_dir = "ws"
    if member_crates and draw(st.integers(0, 4)) == 0:
        manifest_dir = draw(st.sampled_from([c.dir for c in member_crates]))
    selection = draw(st.integers(0, 2))
    packages: list[str] = []
    workspace = False
    exclude: list[str] = []
    if selection == 1:
        workspace = True
        if member_crates and draw(st.integers(0, 3)) == 0:
            name = draw(st.sampled_from(member_crates)).name
            exclude = [draw(st.sampled_from([name, name[:2] + "*"]))]
    elif selection == 2 and member_crates:
        packages = [c.name for c in draw(st.lists(st.sampled_from(member_crates), min_size=1,
                                                  max_size=2, unique_by=lambda c: c.name))]
        externals = [c for c in ws.crates if c.external]
        if externals and draw(st.integers(0, 3)) == 0:
            packages = [draw(st.sampled_from(externals)).name]
        elif draw(st.integers(0, 5)) == 0:
            packages = [draw(st.sampled_from([packages[0][:2] + "*", packages[0] + "@0.1",
                                              packages[0] + ":0.1.0"]))]
    features: list[str] = []
    if draw(st.booleans()):
        pool: list[str] = []
        for c in member_crates:
            pool.extend(c.features)
            pool.extend(f"{c.name}/{f}" for f in c.features)
        pool.append("nonexistent")
        features = draw(st.lists(st.sampled_from(sorted(set(pool))), max_size=2, unique=True))
    targets = draw(st.sampled_from([[], [], [TARGETS[0]], [TARGETS[1]], [TARGETS[2]],
                                    [TARGETS[1], TARGETS[2]], [TARGETS[0], TARGETS[2]]]))
    profiles = [None, None, "release"] + (["custom"] if "custom" in ws.profiles else [])
    return Invocation(
        manifest_dir=manifest_dir, packages=packages, workspace=workspace, exclude=exclude,
        features=features, all_features=draw(st.integers(0, 3)) == 0,
        no_default_features=draw(st.integers(0, 3)) == 0,
        targets=targets, profile=draw(st.sampled_from(profiles)), tests=draw(st.booleans()),
        rustflags=draw(st.sampled_from((None,) * len(rustflags) + rustflags)) if rustflags else None,
    )
