"""Unit graphs -> :class:`~nocargo_py.plan.Plan`: every decision cargo makes per unit.

For each generated target there are four cargo-like invocations, each an already built
:class:`~nocargo_py.resolve.units.UnitGraph`: ``cargo build`` and ``cargo test --no-run``
in the ``dev``/``test`` profiles and ``cargo build --release`` / ``cargo test --release
--no-run``. Every unit of each graph becomes a plan :class:`~nocargo_py.plan.Unit` whose
rustc arguments and environment are what ``cargo build -v`` shows (cargo's
``build_base_args`` / ``build_deps_args`` / ``prepare_rustc`` order, minus the store-path
parts the Nix builder adds), and whose build-script run environment is what cargo's
``custom_build.rs`` sets.

Unit identity is content-addressed: the plan unit is built with placeholders for its own
hashes, the canonical JSON of everything in it (args, env, dependencies' ids, the
package's source) is hashed, and that hash gives the unit id, ``-C metadata`` and
``-C extra-filename``. So two graphs that need the same unit share it, and any
difference (features, profile, platform, dependencies, flags) gives a different hash.
The rustc version is not part of it: it is a Nix-side input of every derivation.

Not planned (cargo would build them, ``tests.<member>`` does not run them): examples
compiled in build mode by ``cargo test``, and doctests (they need rustdoc).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

from ..cfg import cfg_env_vars
from ..errors import NocargoError
from ..package import Target, TargetKind, Workspace
from ..plan import (
    BinExe, DepEdge, Graph, LinksDep, Plan, TargetPlan, Unit, UnitKind, Uplift,
)
from ..plan import _to_data  # the plan's own canonical data form
from ..resolve.features import FeatureResolution
from ..resolve.graph import package_id_key
from ..resolve.units import CompileMode, Intent, UnitGraph
from ..source import PackageId
from .flags import check_cfg_args, lto_map, profile_args
from .outputs import file_names
from .settings import BuildSettings
from .sources import PackageFacts

__all__ = ["GraphInput", "TargetInput", "build_plan", "envify"]

_META = "@@NOCARGO_META@@"
_EXTRA = "@@NOCARGO_EXTRA@@"
_ID = "@@NOCARGO_ID@@"
#: ``CARGO_TARGET_TMPDIR`` of integration tests and benches (cargo: ``<target-dir>/tmp``),
#: baked in at compile time; ``nix/builder/test-run.sh`` creates it before running a test.
TARGET_TMPDIR = "/tmp/nocargo-target-tmp"


def envify(s: str) -> str:
    """Cargo's ``envify``: upper case, ``-`` -> ``_``."""
    return s.upper().replace("-", "_")


@dataclass(frozen=True)
class GraphInput:
    """One cargo-like invocation: its unit graph and the feature resolution behind it."""

    ug: UnitGraph
    resolution: FeatureResolution
    intent: Intent


@dataclass(frozen=True)
class TargetInput:
    """One generated target: its triple, settings and the four invocations."""

    triple: str
    settings: BuildSettings
    dev_build: GraphInput
    dev_test: GraphInput
    release_build: GraphInput
    release_test: GraphInput


_LINKABLE = {"lib", "rlib", "dylib", "proc-macro"}


def _is_linkable(target: Target) -> bool:
    return target.kind is TargetKind.LIB and any(t in _LINKABLE for t in target.crate_types)


def _for_host(target: Target) -> bool:
    return target.kind is TargetKind.BUILD_SCRIPT or target.is_proc_macro


def _is_executable(target: Target) -> bool:
    return target.kind is TargetKind.BIN or (
        target.kind is TargetKind.EXAMPLE and tuple(target.crate_types) == ("bin",))


def _requires_upstream_objects(unit: Any) -> bool:
    if unit.mode.is_any_test:
        return True
    target = unit.target
    if target.kind in (TargetKind.LIB, TargetKind.EXAMPLE):
        return any(t not in ("lib", "rlib") for t in target.crate_types)
    return True


def _link_arg_kinds(target: Target) -> tuple[str, ...]:
    kinds = ["all"]
    if target.kind is TargetKind.LIB and "cdylib" in target.crate_types:
        kinds.append("cdylib")
    if target.kind is TargetKind.BIN:
        kinds += ["bins", f"bin={target.name}"]
    if target.kind is TargetKind.TEST:
        kinds.append("tests")
    if target.kind is TargetKind.BENCH:
        kinds.append("benches")
    if _is_executable(target) and target.kind is TargetKind.EXAMPLE:
        kinds.append("examples")
    return tuple(kinds)


def _allowed_link_arg_kinds(targets: Sequence[Target]) -> tuple[str, ...]:
    allowed = ["all", "cdylib"]
    bins = [t for t in targets if t.kind is TargetKind.BIN]
    if bins:
        allowed.append("bins")
        allowed += [f"bin={t.name}" for t in bins]
    if any(t.kind is TargetKind.TEST for t in targets):
        allowed.append("tests")
    if any(t.kind is TargetKind.BENCH for t in targets):
        allowed.append("benches")
    if any(t.kind is TargetKind.EXAMPLE for t in targets):
        allowed.append("examples")
    return tuple(allowed)


class _GraphPlanner:
    """Turns one unit graph into plan units (shared registry ``units`` across graphs)."""

    def __init__(self, owner: "_PlanBuilder", target: TargetInput, gi: GraphInput) -> None:
        self.owner = owner
        self.target = target
        self.gi = gi
        self.ug = gi.ug
        self.settings = target.settings
        self.lto = lto_map(self.ug.units, self.ug.dependencies, self.ug.roots)
        self.ids: dict[int, str] = {}
        self.to_link_memo: dict[int, tuple[int, ...]] = {}
        self.closure_memo: dict[int, tuple[str, ...]] = {}
        self.primary: set = set()
        self.host_units = self._host_units()

    # -- graph helpers ---------------------------------------------------------------------
    def _host_units(self) -> set[int]:
        """Indices of units built for the host tool chain (build scripts, proc-macros and
        everything they need), informational (``Unit.host``)."""
        units, deps = self.ug.units, self.ug.dependencies
        out: set[int] = set()
        stack = [i for i, u in enumerate(units)
                 if _for_host(u.target) and u.mode is not CompileMode.RUN_CUSTOM_BUILD]
        while stack:
            i = stack.pop()
            if i in out:
                continue
            out.add(i)
            for d, *_ in deps[i]:
                if units[d].mode is not CompileMode.RUN_CUSTOM_BUILD:
                    stack.append(d)
        return out

    def _to_link(self, index: int) -> tuple[int, ...]:
        """Cargo's ``build_map`` ``to_link``: run units whose link search paths (and cdylib
        link args) reach this unit, in cargo's order."""
        memo = self.to_link_memo
        if index in memo:
            return memo[index]
        order = self._postorder([index], skip=memo)
        for i in order:
            if i in memo:
                continue
            unit = self.ug.units[i]
            out: list[int] = []
            seen: set[int] = set()
            deps = self.ug.dependencies[i]
            if unit.target.kind is not TargetKind.BUILD_SCRIPT:
                for d, *_ in deps:
                    du = self.ug.units[d]
                    if du.mode is CompileMode.RUN_CUSTOM_BUILD and du.pkg.package_id == unit.pkg.package_id:
                        if d not in seen:
                            seen.add(d)
                            out.append(d)
            ordered = sorted((d for d, *_ in deps),
                             key=lambda d: package_id_key(self.ug.units[d].pkg.package_id))
            for d in ordered:
                du = self.ug.units[d]
                if _for_host(du.target) or not _is_linkable(du.target):
                    continue
                for r in memo[d]:
                    if r not in seen:
                        seen.add(r)
                        out.append(r)
            memo[i] = tuple(out)
        return memo[index]

    def _postorder(self, roots: Iterable[int], skip: Mapping[int, Any] | None = None) -> list[int]:
        """Dependencies before dependents; the walk does not enter a unit in ``skip``
        (already handled by the caller), so repeated calls stay linear overall."""
        deps = self.ug.dependencies
        skip = skip if skip is not None else {}
        order: list[int] = []
        state: dict[int, int] = {}
        for root in roots:
            stack = [(root, False)]
            while stack:
                i, done = stack.pop()
                if done:
                    if state.get(i) != 2:
                        state[i] = 2
                        order.append(i)
                    continue
                if state.get(i):
                    continue
                state[i] = 1
                stack.append((i, True))
                for d, *_ in reversed(deps[i]):
                    if not state.get(d) and d not in skip:
                        stack.append((d, False))
        return order

    # -- planning --------------------------------------------------------------------------
    def plan_roots(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Plan everything reachable from the roots this graph contributes; returns
        ``(members, tests)`` (package name -> unit ids). ``self.ids`` then maps every unit
        of the invocation (cargo's whole graph below those roots) to its plan id."""
        units = self.ug.units
        wanted: list[int] = []
        for r in self.ug.roots:
            u = units[r]
            if self.gi.intent is Intent.BUILD:
                if u.mode is CompileMode.BUILD and u.target.kind in (TargetKind.LIB, TargetKind.BIN):
                    wanted.append(r)
            elif u.mode is CompileMode.TEST:
                wanted.append(r)
        # cargo's primary packages are those of the root units (a selected member with no
        # root unit, e.g. only untested targets under `cargo test`, is not primary)
        self.primary = {units[r].pkg.package_id for r in wanted}
        for i in self._postorder(wanted):
            self.ids[i] = self._plan_unit(i)
        members: dict[str, list[str]] = {}
        tests: dict[str, list[str]] = {}
        for r in wanted:
            u = units[r]
            table = members if self.gi.intent is Intent.BUILD else tests
            if u.pkg.package_id not in self.primary:
                continue
            ids = table.setdefault(u.pkg.name, [])
            if self.ids[r] not in ids:
                ids.append(self.ids[r])
        return members, tests

    def _kind_triple(self, kind: str | None) -> str:
        return self.settings.kind(kind).triple

    def _plan_unit(self, index: int) -> str:
        unit = self.ug.units[index]
        facts = self.owner.facts[unit.pkg.package_id]
        if unit.mode is CompileMode.RUN_CUSTOM_BUILD:
            return self._plan_run(index, unit, facts)
        if unit.mode not in (CompileMode.BUILD, CompileMode.TEST):
            raise NocargoError(f"internal error: cannot plan a `{unit.mode.json_name}` unit "
                               f"({unit.describe()})")
        return self._plan_compile(index, unit, facts)

    def _plan_run(self, index: int, unit: Any, facts: PackageFacts) -> str:
        ks = self.settings.kind(unit.kind)
        profile = unit.profile
        script = None
        links_deps: list[LinksDep] = []
        for d, *_ in self.ug.dependencies[index]:
            du = self.ug.units[d]
            if du.mode is CompileMode.RUN_CUSTOM_BUILD:
                links = du.pkg.links
                if links is not None:
                    links_deps.append(LinksDep(links, f"DEP_{envify(links)}_", self.ids[d]))
            elif du.target.kind is TargetKind.BUILD_SCRIPT:
                script = self.ids[d]
        if script is None:
            raise NocargoError(f"internal error: no build script compile unit for "
                               f"{unit.describe()}")
        host = unit.kind is None and self.settings.explicit or index in self.host_units
        key = (self._unit_key(unit), host, tuple(links_deps), script)
        known = self.owner.planned.get(key)
        if known is not None:
            return known
        features = tuple(unit.features)
        env: dict[str, str] = {}  # CARGO_PKG_* are the package's shared env
        if unit.pkg.links is not None:
            env["CARGO_MANIFEST_LINKS"] = unit.pkg.links
        for f in features:
            env[f"CARGO_FEATURE_{envify(f)}"] = "1"
        env.update(cfg_env_vars(ks.info, features=features,
                                debug_assertions=profile.debug_assertions))
        env.update({
            "TARGET": ks.triple,
            "HOST": self.settings.host,
            "NUM_JOBS": "1",
            "OPT_LEVEL": profile.opt_level,
            "DEBUG": "true" if profile.debuginfo.is_turned_on else "false",
            "PROFILE": "release" if profile.root == "release" else "debug",
        })
        if ks.linker is not None:
            env["RUSTC_LINKER"] = ks.linker
        self._config_env(env, facts)
        extra = self._extra_flags_apply(unit.kind)
        u = Unit(
            id=_ID, package=facts.key, kind=UnitKind.BUILD_SCRIPT_RUN,
            crate_name=unit.target.crate_name, target_name=unit.target.name,
            host=host, env=env, build_script=script, links_deps=tuple(links_deps),
            rustflags=tuple(ks.rustflags) if extra else (),
            allowed_link_arg_kinds=_allowed_link_arg_kinds(facts.targets),
            extra_rustc_flags=extra,
        )
        return self.owner.register(u, facts, f"{facts.key}-build-script-run", key)

    def _extra_flags_apply(self, kind: str | None) -> bool:
        return kind is not None or not self.settings.explicit

    def _config_env(self, env: dict[str, str], facts: PackageFacts) -> None:
        """``[env]`` entries, never overriding what cargo itself sets."""
        for name, value in self.settings.env:
            if name not in facts.pkg_env:
                env.setdefault(name, value)

    def _closure(self, index: int, lib_deps: Sequence[int]) -> tuple[str, ...]:
        out: set[str] = set()
        for d in lib_deps:
            out.add(self.ids[d])
            out.update(self.closure_memo[d])
        result = tuple(sorted(out))
        self.closure_memo[index] = result
        return result

    def _plan_compile(self, index: int, unit: Any, facts: PackageFacts) -> str:
        target: Target = unit.target
        profile = unit.profile
        ks = self.settings.kind(unit.kind)
        triple = ks.triple
        names = file_names(triple)
        test = unit.mode is CompileMode.TEST
        pid = unit.pkg.package_id
        primary = pid in self.primary
        crate_name = target.crate_name

        # dependencies
        lib_deps: list[int] = []
        edges: list[DepEdge] = []
        run_unit: str | None = None
        bin_exes: list[BinExe] = []
        dep_kind = "build" if target.kind is TargetKind.BUILD_SCRIPT else "normal"
        for d, extern_name, _public, _noprelude in self.ug.dependencies[index]:
            du = self.ug.units[d]
            if du.mode is CompileMode.RUN_CUSTOM_BUILD:
                if du.pkg.package_id == pid:
                    run_unit = self.ids[d]
                continue
            if _is_linkable(du.target) and du.mode is CompileMode.BUILD:
                lib_deps.append(d)
                edges.append(DepEdge(self.ids[d], extern_name, dep_kind))
            elif du.target.kind is TargetKind.BIN and du.mode is CompileMode.BUILD:
                if target.kind in (TargetKind.TEST, TargetKind.BENCH):
                    bin_exes.append(BinExe(du.target.name, self.ids[d]))
        closure = self._closure(index, lib_deps)
        link_search = tuple(self.ids[r] for r in self._to_link(index))
        lto = self.lto.get(index)
        if lto is None:
            raise NocargoError(f"internal error: no LTO decision for {unit.describe()}")
        host = index in self.host_units
        key = (self._unit_key(unit), primary, lto, host, tuple(edges), run_unit,
               tuple(bin_exes), closure, link_search)
        known = self.owner.planned.get(key)
        if known is not None:
            return known

        # arguments (cargo's build_base_args order)
        args: list[str] = ["--crate-name", crate_name, f"--edition={target.edition}"]
        if not test:
            for ct in self._rustc_crate_types(target):
                args += ["--crate-type", ct]
        args.append("--emit=dep-info,link" if _requires_upstream_objects(unit)
                    else "--emit=dep-info,metadata,link")
        contains_dylib = (not test and target.kind is TargetKind.LIB
                          and "dylib" in target.crate_types)
        if (_for_host(target) and target.kind is not TargetKind.BUILD_SCRIPT) or \
                (contains_dylib and not primary):
            args += ["-C", "prefer-dynamic"]
        args += profile_args(profile, lto, triple, test_harness=test and target.harness,
                             test_no_harness=test and not target.harness,
                             lint_args=facts.lint_flags)
        for f in unit.features:
            args += ["--cfg", f'feature="{f}"']
        args += check_cfg_args(facts.feature_names)
        args += ["-C", f"metadata={_META}"]
        use_extra = self._use_extra_filename(unit, target, triple)
        if use_extra:
            args += ["-C", f"extra-filename=-{_EXTRA}"]
        if profile.rpath:
            args += ["-C", "rpath"]
        if self.settings.explicit and unit.kind is not None:
            args += ["--target", triple]
        if ks.linker is not None:
            args += ["-C", f"linker={ks.linker}"]
        if profile.strip.value != "none":
            args += ["-C", f"strip={profile.strip.value}"]
        if target.is_proc_macro:
            args += ["--extern", "proc_macro"]
        if not facts.local:
            args += ["--cap-lints", "allow"]
        extra_flags = self._extra_flags_apply(unit.kind)
        if extra_flags:
            args += list(ks.rustflags)

        # environment (cargo's fill_env + prepare_rustc)
        env: dict[str, str] = {"CARGO_CRATE_NAME": crate_name}  # + the package's env
        if _is_executable(target):
            env["CARGO_BIN_NAME"] = target.name
        if primary:
            env["CARGO_PRIMARY_PACKAGE"] = "1"
        if target.kind in (TargetKind.TEST, TargetKind.BENCH):
            # cargo names every bin of the package, built or not (required-features)
            built = {b.name for b in bin_exes}
            for t in facts.targets:
                if t.kind is TargetKind.BIN and t.name not in built:
                    env[f"CARGO_BIN_EXE_{t.name}"] = f"/nocargo-not-built/{t.name}"
            # cargo's `<target-dir>/tmp`, free for the tests to use; the test runner
            # creates it (a build's /tmp is its own inside Nix's sandbox)
            env["CARGO_TARGET_TMPDIR"] = TARGET_TMPDIR
        self._config_env(env, facts)

        # outputs
        extra = f"-{_EXTRA}" if use_extra else ""
        uplift: list[Uplift] = []
        extern_file = None
        executable = None
        if test:
            kind = UnitKind.TEST
            exe = names.executable(crate_name, extra)
            uplift.append(Uplift(exe, f"bin/{exe}"))
            executable = f"bin/{exe}"
        elif target.kind is TargetKind.LIB:
            kind = UnitKind.LIB
            files = {ct: names.library(ct, crate_name, extra) for ct in target.crate_types}
            for ct in ("lib", "rlib", "dylib", "proc-macro"):
                if ct in files:
                    extern_file = files[ct]
                    break
            if extern_file is None:
                extern_file = files[target.crate_types[0]]
            for ct in target.crate_types:
                if ct in ("dylib", "cdylib", "staticlib"):
                    plain = names.library(ct, crate_name, "")
                    if plain != files[ct]:
                        uplift.append(Uplift(files[ct], f"lib/{plain}"))
        elif target.kind is TargetKind.BUILD_SCRIPT:
            kind = UnitKind.BUILD_SCRIPT_COMPILE
            exe = names.executable(crate_name, extra)
            executable = f"bin/{target.name}{names.exe_suffix}"
            uplift.append(Uplift(exe, executable))
        elif _is_executable(target):
            kind = UnitKind.BIN
            exe = names.executable(crate_name, extra)
            executable = f"bin/{target.name}{names.exe_suffix}"
            uplift.append(Uplift(exe, executable))
        else:
            raise NocargoError(f"internal error: cannot plan {unit.describe()}")

        own_lib = any(t.kind is TargetKind.LIB for t in facts.targets)
        u = Unit(
            id=_ID, package=facts.key, kind=kind, crate_name=crate_name,
            target_name=target.name, src_path=facts.src_path(target),
            crate_types=tuple(target.crate_types) if kind is UnitKind.LIB else (),
            host=host, args=tuple(args), env=env, deps=tuple(edges),
            dependency_closure=closure, build_script_run=run_unit,
            link_search_from=link_search,
            link_libs=target.kind is TargetKind.LIB or not own_lib,
            link_arg_kinds=_link_arg_kinds(target),
            extern_file=extern_file, uplift=tuple(uplift), executable=executable,
            extra_rustc_flags=extra_flags, remap_to=facts.remap_to,
            bin_exes=tuple(bin_exes),
        )
        tag = {UnitKind.LIB: "lib", UnitKind.BIN: f"bin-{target.name}",
               UnitKind.TEST: f"test-{target.name}",
               UnitKind.BUILD_SCRIPT_COMPILE: "build-script"}[kind]
        return self.owner.register(u, facts, f"{facts.key}-{tag}", key)

    def _unit_key(self, unit: Any) -> tuple:
        """What a plan unit is made of besides its dependencies and graph position: the
        target (settings), the package and the unit graph node. Of the profile, every field
        but the name (``dev``/``test``: cargo's unit identity leaves it out, and nothing
        planned depends on it)."""
        profile = unit.profile
        return (id(self.target), unit.mode, unit.pkg.package_id, id(unit.target),
                profile.root, profile.hint_mostly_unused, profile.comparable(), unit.kind,
                unit.features)

    @staticmethod
    def _rustc_crate_types(target: Target) -> tuple[str, ...]:
        if target.kind in (TargetKind.LIB, TargetKind.EXAMPLE):
            return tuple(target.crate_types)
        return ("bin",)

    @staticmethod
    def _use_extra_filename(unit: Any, target: Target, triple: str) -> bool:
        if unit.mode.is_any_test:
            return True
        special = (
            (target.kind is TargetKind.LIB and ("dylib" in target.crate_types
                                                or "cdylib" in target.crate_types))
            or (_is_executable(target) and (triple.startswith("wasm32-") or "msvc" in triple
                                           or "-apple-" in triple))
        )
        return not (special and unit.pkg.package_id.source.is_path())


class _PlanBuilder:
    """Collects units from every graph (content-addressed, deduplicated)."""

    def __init__(self, facts: Mapping[PackageId, PackageFacts]) -> None:
        self.facts = facts
        self.units: dict[str, Unit] = {}
        self._package_json: dict[str, str] = {}
        # The four graphs of a target share most units: a unit whose inputs (everything
        # `_plan_compile`/`_plan_run` read: `_GraphPlanner._unit_key`, graph position,
        # dependencies' ids) were planned before has that id, without building and hashing
        # it again.
        self.planned: dict[tuple, str] = {}

    def register(self, unit: Unit, facts: PackageFacts, prefix: str, key: tuple) -> str:
        package = self._package_json.get(facts.key)
        if package is None:
            package = self._package_json[facts.key] = json.dumps(
                _to_data(facts.plan), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        # == json.dumps({"unit": ..., "package": ...}, sort_keys=True, separators=(",", ":"),
        # ensure_ascii=False), with the package's part made once per package
        blob = ('{"package":' + package + ',"unit":'
                + json.dumps(_to_data(unit), sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False) + "}")
        digest = hashlib.sha256(blob.encode("utf-8")).hexdigest()
        meta = digest[:16]
        extra = hashlib.sha256(("extra-filename:" + digest).encode()).hexdigest()[:16]
        uid = f"{prefix[:180]}-{meta}"
        final = _substitute(unit, uid, meta, extra)
        known = self.units.get(uid)
        if known is None:
            self.units[uid] = final
        elif known != final:  # pragma: no cover - would need a hash collision
            raise NocargoError(f"internal error: two different units hash to `{uid}`")
        self.planned[key] = uid
        return uid


def _subst(text: str, meta: str, extra: str) -> str:
    return text.replace(_META, meta).replace(_EXTRA, extra)


def _substitute(unit: Unit, uid: str, meta: str, extra: str) -> Unit:
    return replace(
        unit,
        id=uid,
        args=tuple(_subst(a, meta, extra) if "@@NOCARGO_" in a else a for a in unit.args),
        extern_file=_subst(unit.extern_file, meta, extra) if unit.extern_file else None,
        uplift=tuple(Uplift(_subst(x.file, meta, extra), _subst(x.dest, meta, extra))
                     for x in unit.uplift),
        executable=_subst(unit.executable, meta, extra) if unit.executable else None,
    )


def _graph_units(plan_units: Mapping[str, Unit], roots: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        u = plan_units[uid]
        stack += [d.unit for d in u.deps] + list(u.dependency_closure) + list(u.link_search_from)
        stack += [x for x in (u.build_script, u.build_script_run) if x]
        stack += [ld.unit for ld in u.links_deps] + [b.unit for b in u.bin_exes]
    return tuple(sorted(seen))


def build_plan(ws: Workspace, facts: Mapping[PackageId, PackageFacts],
               targets: Sequence[TargetInput], host: str,
               trace: dict | None = None) -> Plan:
    """The :class:`Plan` of every target in ``targets`` (first = the default target).

    Units nothing in a graph needs (a cdylib/staticlib-only library that is only a
    dependency: cargo builds it but links nothing of it) are left out of the plan. With
    ``trace`` (a dict), ``trace["invocations"][(triple, profile, "build"|"test")]`` gets the
    ids of every unit cargo's invocation would compile or run, ``trace["units"]`` all
    planned units and ``trace["packages"]`` all packages, for differential tests against
    ``cargo -v``. Not validated here: its consumers (``render_cargo_nix``, ``plan``'s
    output) call :meth:`Plan.validate` themselves."""
    builder = _PlanBuilder(facts)
    invocations: dict[tuple[str, str, str], tuple[str, ...]] = {}
    target_plans: list[TargetPlan] = []
    root_name = ws.root_package.name if ws.root_package is not None else None
    for t in targets:
        graphs = {}
        for profile, build_gi, test_gi in (("dev", t.dev_build, t.dev_test),
                                           ("release", t.release_build, t.release_test)):
            build_planner = _GraphPlanner(builder, t, build_gi)
            members, _ = build_planner.plan_roots()
            test_planner = _GraphPlanner(builder, t, test_gi)
            _, tests = test_planner.plan_roots()
            invocations[(t.triple, profile, "build")] = tuple(sorted(set(build_planner.ids.values())))
            invocations[(t.triple, profile, "test")] = tuple(sorted(set(test_planner.ids.values())))
            for name in members:
                tests.setdefault(name, [])
            roots = [uid for ids in (*members.values(), *tests.values()) for uid in ids]
            root = root_name if root_name in members else None
            graphs[profile] = Graph(
                units=_graph_units(builder.units, roots),
                members={k: tuple(v) for k, v in sorted(members.items())},
                tests={k: tuple(v) for k, v in sorted(tests.items())},
                root=root,
            )
        target_plans.append(TargetPlan(t.triple, graphs["dev"], graphs["release"]))
    if trace is not None:
        trace["invocations"] = invocations
        trace["units"] = dict(builder.units)
        trace["packages"] = {f.key: f.plan for f in facts.values()}
    used = {uid for t in target_plans for g in (t.dev, t.release) for uid in g.units}
    units = {uid: u for uid, u in sorted(builder.units.items()) if uid in used}
    keys = {u.package for u in units.values()}
    packages = {f.key: f.plan for f in facts.values() if f.key in keys}
    plan = Plan(host=host, targets=tuple(target_plans),
                packages=dict(sorted(packages.items())), units=units)
    return plan
