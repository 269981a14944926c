"""Support for the version-resolver tests (no tests here): synthetic worlds, cargo runs.

A :class:`World` is a registry (crates, versions, dependencies, features, yanked, links,
rust-version) plus a workspace (members and their dependencies). :func:`worlds` is a
hypothesis strategy that makes small, conflict-rich worlds: few crate names, versions
across semver classes and pre-releases, exact pins, ranges, missing features, ``links``
clashes, optional dependencies. :func:`materialize` writes a world to disk (index files, a
``.cargo/config.toml`` pointing crates.io at a loopback sparse server, manifests);
:func:`cargo_lock` runs cargo on it and :func:`our_lock` our resolver (in process, reading
the same server through the real HTTP index client).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from hypothesis import strategies as st

from sparse_server import RegistryBuilder, cargo_config_for, serve_registry

NAMES = ("a", "b", "c", "d", "e")
VERSIONS = ("0.1.0", "0.1.1", "0.2.0", "0.2.3", "1.0.0", "1.0.1", "1.0.2+build.5",
            "1.1.0", "1.2.0-beta.1", "1.2.0", "2.0.0-rc.1", "2.0.0")
REQS = ("*", "0.1", "=0.1.0", "0.1.1", "0.2", "=0.2.0", "1", "1.0.1", "~1.0", "=1.0.0",
        "=1.1.0", ">=1.0, <1.2", "1.2.0-beta.1", ">=0.1.1", "<1.1", "2", "^1.1", "2.0.0-rc.1",
        "0.*", "1.1.*")
FEATURES = ("std", "extra")
RUST_VERSIONS = (None, None, "1.60", "1.70.0", "1.99")


@dataclass(frozen=True)
class DepSpec:
    name: str
    req: str
    kind: str = "normal"          # normal | build | dev
    optional: bool = False
    default_features: bool = True
    features: tuple[str, ...] = ()
    rename: str | None = None
    target: str | None = None

    def index_obj(self) -> dict:
        return {"name": self.rename or self.name, "req": self.req, "kind": self.kind,
                "optional": self.optional, "default_features": self.default_features,
                "features": list(self.features), "target": self.target,
                "package": self.name if self.rename else None}

    def toml(self) -> str:
        parts = [f'version = "{self.req}"']
        if self.rename:
            parts.append(f'package = "{self.name}"')
        if self.optional:
            parts.append("optional = true")
        if not self.default_features:
            parts.append("default-features = false")
        if self.features:
            parts.append("features = [" + ", ".join(f'"{f}"' for f in self.features) + "]")
        return f"{self.rename or self.name} = {{ {', '.join(parts)} }}"


@dataclass(frozen=True)
class VersionSpec:
    version: str
    deps: tuple[DepSpec, ...] = ()
    features: tuple[tuple[str, tuple[str, ...]], ...] = ()
    yanked: bool = False
    links: str | None = None
    rust_version: str | None = None


@dataclass(frozen=True)
class MemberSpec:
    name: str
    version: str = "0.1.0"
    deps: tuple[DepSpec, ...] = ()
    path_deps: tuple[str, ...] = ()       # other members this one depends on by path
    features: tuple[tuple[str, tuple[str, ...]], ...] = ()
    rust_version: str | None = None
    links: str | None = None


@dataclass(frozen=True)
class World:
    crates: tuple[tuple[str, tuple[VersionSpec, ...]], ...]
    members: tuple[MemberSpec, ...]
    resolver: str = "2"

    def describe(self) -> str:
        lines = [f"resolver {self.resolver}"]
        for name, versions in self.crates:
            for v in versions:
                extra = []
                if v.yanked:
                    extra.append("yanked")
                if v.links:
                    extra.append(f"links={v.links}")
                if v.rust_version:
                    extra.append(f"rv={v.rust_version}")
                deps = ", ".join(_show_dep(d) for d in v.deps)
                lines.append(f"  {name} {v.version} [{deps}] {dict(v.features)} {' '.join(extra)}")
        for m in self.members:
            deps = ", ".join(_show_dep(d) for d in m.deps)
            lines.append(f"member {m.name}: [{deps}] path={list(m.path_deps)} "
                         f"features={dict(m.features)} rv={m.rust_version}")
        return "\n".join(lines)


def _show_dep(d: DepSpec) -> str:
    flags = "".join(f" {k}" for k, on in (("opt", d.optional), ("nodef", not d.default_features))
                    if on)
    feats = f" +{','.join(d.features)}" if d.features else ""
    kind = "" if d.kind == "normal" else f" {d.kind}"
    ren = f" as {d.rename}" if d.rename else ""
    return f"{d.name} {d.req}{kind}{flags}{feats}{ren}"


# --------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------


@st.composite
def reqs_for(draw, versions: Sequence[str], *, pool: bool = True):
    """A requirement: usually derived from a published version, sometimes from the pool."""
    if versions and (not pool or draw(st.integers(0, 5)) > 0):
        v = draw(st.sampled_from(sorted(versions))).split("+")[0]
        major, minor, rest = v.split(".", 2)
        op = draw(st.sampled_from(("", "", "^", "~", "=", ">=", "<", "partial", "star")))
        if op == "partial":
            return f"{major}.{minor}" if major == "0" or draw(st.booleans()) else major
        if op == "star":
            return f"{major}.*"
        return op + v
    return draw(st.sampled_from(REQS))


@st.composite
def dep_specs(draw, targets: Sequence[str], *, allow_dev: bool, allow_rename: bool = False,
              versions: dict[str, Sequence[str]] | None = None, friendly: bool = False):
    name = draw(st.sampled_from(targets))
    kinds = ["normal"] * 6 + ["build"] + (["dev"] if allow_dev else [])
    kind = draw(st.sampled_from(kinds))
    return DepSpec(
        name=name,
        req=draw(reqs_for((versions or {}).get(name, ()), pool=not friendly)),
        kind=kind,
        # an optional dev-dependency makes an index entry invalid (cargo skips it); in a
        # manifest it is an error
        optional=(kind != "dev" or not allow_rename) and draw(st.booleans()) and draw(st.booleans()),
        default_features=not (draw(st.booleans()) and draw(st.booleans())),
        features=() if friendly else tuple(draw(st.lists(st.sampled_from(FEATURES), max_size=1,
                                                          unique=True))),
        rename=(f"{name}_alt" if allow_rename and draw(st.integers(0, 5)) == 0 else None),
        target=draw(st.sampled_from((None, None, None, "cfg(windows)"))),
    )


def _features_for(draw, deps: Sequence[DepSpec]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    feats: dict[str, tuple[str, ...]] = {}
    if draw(st.booleans()):
        feats["std"] = ()
    if draw(st.booleans()):
        feats["extra"] = ("std",) if "std" in feats else ()
    if feats and draw(st.booleans()):
        feats["default"] = (draw(st.sampled_from(sorted(feats))),)
    optional = sorted({d.rename or d.name for d in deps if d.optional})
    for name in optional:
        choice = draw(st.integers(0, 3))
        if choice == 1:  # enabled through a `dep:` feature (no implicit feature)
            feats[f"use-{name}"] = (f"dep:{name}",)
        elif choice == 2:  # enabled with a feature of it
            feats[f"with-{name}"] = (f"{name}/std",)
        elif choice == 3:  # weak feature plus implicit feature
            feats[f"weak-{name}"] = (f"{name}?/extra",)
    return tuple(sorted(feats.items()))


@st.composite
def worlds(draw, *, max_crates: int = 5, max_members: int = 1, allow_resolver3: bool = True,
           friendly: bool = False):
    """Worlds to lock. ``friendly``: fewer ways to fail (no yanked versions, requirements
    always from published versions, no features requested of dependencies) — for tests
    that need a lockable world to start from."""
    n = draw(st.integers(2, max_crates))
    names = NAMES[:n]
    published = {name: draw(st.lists(st.sampled_from(VERSIONS), min_size=2, max_size=6,
                                     unique_by=lambda v: v.split("+")[0]))
                 for name in names}
    crates = []
    for i, name in enumerate(names):
        later = names[i + 1:]
        versions = published[name]
        specs = []
        for version in versions:
            deps: tuple[DepSpec, ...] = ()
            if later:
                deps = tuple(draw(st.lists(dep_specs(later, allow_dev=True, versions=published,
                                                     friendly=friendly), max_size=2)))
            specs.append(VersionSpec(
                version=version,
                deps=_dedupe(deps),
                features=_features_for(draw, deps),
                yanked=not friendly and draw(st.integers(0, 11)) == 0,
                links=("native" if draw(st.integers(0, 6)) == 0 else None),
                rust_version=draw(st.sampled_from(RUST_VERSIONS)),
            ))
        crates.append((name, tuple(specs)))
    m = draw(st.integers(1, max_members))
    members = []
    for j in range(m):
        deps = _dedupe(tuple(draw(st.lists(dep_specs(names, allow_dev=True, allow_rename=True,
                                                     versions=published, friendly=friendly),
                                           min_size=1, max_size=3))))
        path_deps = tuple(f"m{k}" for k in range(j + 1, m) if draw(st.booleans()))
        members.append(MemberSpec(name=f"m{j}", deps=deps, path_deps=path_deps,
                                  features=_features_for(draw, deps),
                                  rust_version=draw(st.sampled_from((None, "1.65", "1.80")))))
    resolver = draw(st.sampled_from(("2", "3") if allow_resolver3 else ("2",)))
    return World(tuple(crates), tuple(members), resolver)


def _dedupe(deps: Sequence[DepSpec]) -> tuple[DepSpec, ...]:
    """One declaration per (TOML name, kind, target), as a manifest can hold."""
    seen = set()
    out = []
    for d in deps:
        key = (d.rename or d.name, d.kind, d.target)
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return tuple(out)


# --------------------------------------------------------------------------------------
# on disk
# --------------------------------------------------------------------------------------


def write_registry(world: World, root: Path) -> None:
    """Index files of the world's registry (no ``.crate`` files: locking needs none)."""
    builder = RegistryBuilder(root)
    for name, versions in world.crates:
        for v in versions:
            builder.add(name, v.version, deps=[d.index_obj() for d in v.deps],
                        features={k: list(vals) for k, vals in v.features},
                        yanked=v.yanked, links=v.links, rust_version=v.rust_version,
                        crate=False, extra={"cksum": _cksum(name, v.version)})


def _cksum(name: str, version: str) -> str:
    import hashlib
    return hashlib.sha256(f"{name}-{version}".encode()).hexdigest()


def member_manifest(member: MemberSpec, world: World, *, workspace_members: Sequence[str] = ()) -> str:
    lines = ["[package]", f'name = "{member.name}"', f'version = "{member.version}"',
             'edition = "2021"']
    if member.rust_version:
        lines.append(f'rust-version = "{member.rust_version}"')
    if member.links:
        lines += [f'links = "{member.links}"', 'build = "build.rs"']
    lines.append("")
    if workspace_members:
        lines += ["[workspace]", "members = [" + ", ".join(f'"{m}"' for m in workspace_members) + "]",
                  f'resolver = "{world.resolver}"', ""]
    tables: dict[str, list[str]] = {}
    for d in member.deps:
        table = {"normal": "dependencies", "build": "build-dependencies",
                 "dev": "dev-dependencies"}[d.kind]
        if d.target:
            table = f"target.'{d.target}'.{table}"
        tables.setdefault(table, []).append(d.toml())
    for p in member.path_deps:
        tables.setdefault("dependencies", []).append(f'{p} = {{ path = "../{p}" }}')
    for table, entries in tables.items():
        lines.append(f"[{table}]")
        lines += entries
        lines.append("")
    if member.features:
        lines.append("[features]")
        for k, vals in member.features:
            lines.append(f'{k} = [' + ", ".join(f'"{v}"' for v in vals) + "]")
        lines.append("")
    return "\n".join(lines)


def write_workspace(world: World, root: Path) -> Path:
    """Manifests of the world's members: a virtual workspace at ``root`` (members ``mN``)."""
    root.mkdir(parents=True, exist_ok=True)
    names = [m.name for m in world.members]
    (root / "Cargo.toml").write_text(
        "[workspace]\nmembers = [" + ", ".join(f'"{n}"' for n in names) + "]\n"
        f'resolver = "{world.resolver}"\n')
    for m in world.members:
        d = root / m.name
        (d / "src").mkdir(parents=True, exist_ok=True)
        (d / "src" / "lib.rs").write_text("")
        if m.links:
            (d / "build.rs").write_text("fn main() {}\n")
        (d / "Cargo.toml").write_text(member_manifest(m, world))
    return root / "Cargo.toml"


def set_registry_config(ws_root: Path, server) -> None:
    """Point crates.io at ``server`` for both cargo and us (``.cargo/config.toml``)."""
    (ws_root / ".cargo").mkdir(parents=True, exist_ok=True)
    (ws_root / ".cargo" / "config.toml").write_text(cargo_config_for(server))


@contextlib.contextmanager
def served_world(world: World, base: Path) -> Iterator[Path]:
    """``world``'s registry written to ``base/index`` and served on 127.0.0.1, its workspace
    at ``base/ws`` pointed at the server (for both tools); yields the workspace."""
    write_registry(world, base / "index")
    ws = base / "ws"
    write_workspace(world, ws)
    with serve_registry(base / "index") as server:
        set_registry_config(ws, server)
        yield ws


def local_registry_config(index_dir: Path, scratch: Path) -> str:
    """A cargo config replacing crates.io by a ``local-registry`` holding ``index_dir``.

    Cargo reads a sparse registry in passes, and a pass may fail before the index files
    of some dependencies have arrived: the error it reports then comes from a partial view
    (a failure on the partial view implies one on the whole, so success and failure always
    agree, but *which* conflict is reported may differ). A local registry is always
    complete, like ours, so it is the oracle for the situation an error describes.
    """
    root = scratch / "local-registry"
    if not root.exists():
        shutil.copytree(index_dir, root / "index")
    return ("[source.crates-io]\nreplace-with = \"lr\"\n\n[source.lr]\n"
            f"local-registry = {json.dumps(str(root))}\n")


# --------------------------------------------------------------------------------------
# running the two resolvers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockRun:
    ok: bool
    lock: str          # the lock file text (empty on failure)
    error: str         # the error text (empty on success)

    def error_kind(self) -> str:
        return error_kind(self.error)


def error_kind(text: str) -> str:
    """The situation an error describes, independent of wording details."""
    t = text
    if "cyclic package dependency" in t:
        return "cycle"
    if "links to the native library" in t or "links=" in t:
        return "links"
    if "does not have that feature" in t or "does not have the feature" in t:
        return "feature"
    if "failed to select a version for `" in t:
        return "conflict"
    if "failed to select a version for the requirement" in t or "candidate versions found" in t:
        return "no-version"
    if "no matching package named" in t:
        return "missing"
    return "other: " + t.strip().splitlines()[0][:200] if t.strip() else "other"


def cargo_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO")}
    env.update(CARGO_HOME=str(home), CARGO_TERM_COLOR="never", CARGO_NET_RETRY="0",
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               RUSTUP_TOOLCHAIN="stable")  # corpus projects may pin another toolchain
    return env


def run_cargo(ws_root: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["cargo", *args], cwd=ws_root, env=cargo_env(home),
                          capture_output=True, text=True, timeout=300)


def cargo_lock(ws_root: Path, home: Path, *args: str) -> LockRun:
    """``cargo generate-lockfile`` (or ``args``, e.g. ``update --workspace``) → the lock."""
    proc = run_cargo(ws_root, home, *(args or ("generate-lockfile",)))
    if proc.returncode != 0:
        return LockRun(False, "", proc.stderr)
    return LockRun(True, (ws_root / "Cargo.lock").read_text(), "")


def our_lock(ws_root: Path, cache: Path, *, from_scratch: bool = False, locked: bool = False,
             offline: bool = False) -> LockRun:
    """Our ``lock`` in process: same manifests, same server (through the HTTP index client)."""
    from nocargo_py.config import load_config
    from nocargo_py.errors import NocargoError
    from nocargo_py.index.registries import Registries
    from nocargo_py.resolve.git_source import GitSources
    from nocargo_py.resolve.lockgen import lock_workspace, registry_loader
    from nocargo_py.shell import Shell
    from nocargo_py.workspace import load_workspace

    shell = Shell(verbosity=-1)
    try:
        ws = load_workspace(ws_root / "Cargo.toml", ws_root, shell)
        config = load_config(ws_root, home=cache / "home", env={}, shell=shell)
        registries = Registries(config=config, cache_root=cache, shell=shell, offline=offline)
        git = GitSources(cache_root=cache, offline=offline, shell=shell)
        try:
            outcome = lock_workspace(ws, registry_loader(registries, git), config=config,
                                     ignore_previous=from_scratch, locked=locked)
        finally:
            registries.close()
    except NocargoError as err:
        return LockRun(False, "", err.render())
    return LockRun(True, outcome.text, "")
