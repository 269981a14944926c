"""The plan as the Nix library reads it: per unit, one string of builder data.

Nix evaluation cost is per unit and per value, so everything static about a unit (its
rustc arguments, environment, extern names, uplifts...) is printed here, once, as bash
assignments the builder ``eval``s (``data``). Nix only supplies store paths: the outputs
of ``deps`` (the direct dependencies, the builder's ``depOutputs``) and of ``refs`` (the
other units whose outputs the unit reads: build-script runs, the build script, binaries;
the builder's ``refs`` array, which ``data`` points into as ``${refs[i]}``). A package's
static part (``CARGO_PKG_*`` env, name and version) is one string too, shared by its
units.

What the builder can work out from the dependencies' outputs is left out: a lib unit
records its ``extern_file`` and its dependency closure in its output, so a dependent's
``--extern`` paths and ``-L dependency=`` closure come from there (the closure is printed
only when it is not the transitive closure of the direct dependencies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..plan import PackagePlan, Plan, RegistrySource, Unit, UnitKind
from .bash import Ref, bash_array, bash_assign, bash_word

__all__ = ["UnitView", "UnitViews", "package_data"]


def _env_words(env: Mapping[str, str]) -> list[str]:
    return [f"{k}={env[k]}" for k in sorted(env)]


#: What every ``CARGO_PKG_*`` word of ``cargoPkgEnv`` lacks (the builder adds it back).
CARGO_PKG = "CARGO_PKG_"


def package_data(pkg: PackagePlan) -> str:
    """Bash assignments shared by every unit of ``pkg``: ``cargoPkgEnv`` (the ``CARGO_PKG_*``
    variables without that prefix: it is in every unit's derivation, which Nix pays for
    by the byte), ``pkgEnv`` (any other variables, if any), ``pkgName``, ``pkgVersion``."""
    env = pkg.env
    cargo = {k[len(CARGO_PKG):]: v for k, v in env.items() if k.startswith(CARGO_PKG)}
    lines = [bash_array("cargoPkgEnv", _env_words(cargo))]
    if len(cargo) < len(env):
        lines.append(bash_array("pkgEnv", _env_words({k: v for k, v in env.items()
                                                      if not k.startswith(CARGO_PKG)})))
    lines += [bash_assign("pkgName", pkg.name), bash_assign("pkgVersion", pkg.version)]
    return "\n".join(lines)


@dataclass(frozen=True)
class UnitView:
    """What the Nix library needs of one unit."""

    deps: tuple[str, ...]  # direct dependencies (`depOutputs`), in `--extern` order
    refs: tuple[str, ...]  # other units whose output paths `data` uses
    data: str  # bash assignments


class _Refs:
    """Unit ids in first-use order, each one's position in the ``refs`` array."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, uid: str, suffix: str = "") -> Ref:
        return Ref(self.ids.setdefault(uid, len(self.ids)), suffix)


class UnitViews:
    """:class:`UnitView` of every unit of a plan (closures of dependencies memoised)."""

    def __init__(self, plan: Plan) -> None:
        self._units = plan.units
        self._packages = plan.packages
        self._closure_sets: dict[str, frozenset[str]] = {}

    def _closure_set(self, uid: str) -> frozenset[str]:
        s = self._closure_sets.get(uid)
        if s is None:
            s = self._closure_sets[uid] = frozenset(self._units[uid].dependency_closure)
        return s

    def _derived_closure(self, unit: Unit) -> bool:
        """Whether ``dependency_closure`` is what the builder derives: each direct
        dependency and its own closure."""
        closure = unit.dependency_closure
        derived: set[str] = set()
        for d in unit.deps:
            derived.add(d.unit)
            derived |= self._closure_set(d.unit)
        return len(derived) == len(closure) and derived == self._closure_set(unit.id) \
            and list(closure) == sorted(closure)

    def _source_owner(self, unit: Unit) -> Unit:
        """The unit whose output holds the unpacked ``.crate`` that ``unit`` reads: that of
        its build script (which every other unit of the package needs anyway), else that
        of a library of its own package it depends on, else itself. Always ``unit`` or a
        unit it depends on, so the sources are there when it is built."""
        units = self._units
        if unit.kind is UnitKind.BUILD_SCRIPT_RUN and unit.build_script is not None:
            return self._source_owner(units[unit.build_script])
        if unit.build_script_run is not None:
            script = units[unit.build_script_run].build_script
            if script is not None:
                return self._source_owner(units[script])
        for d in unit.deps:
            dep = units[d.unit]
            if dep.package == unit.package:
                return self._source_owner(dep)
        return unit

    def _source(self, unit: Unit, ref: _Refs) -> str | None:
        """How the builder finds the package root of a registry package: unpack the
        ``.crate`` into ``$out/src`` (``unpackRoot``), or in the output of the unit that
        did (``srcRoot``). So there is no derivation per package just to unpack it, and the
        root is a store path that stays valid for dependents (a build script's
        ``rustc-link-search`` into its sources, ``include`` metadata). ``None``: the ``src``
        Nix passes is the root (path and git sources)."""
        pkg = self._packages[unit.package]
        if not isinstance(pkg.source, RegistrySource):
            return None
        owner = self._source_owner(unit)
        if owner is unit:
            return bash_assign("unpackRoot", pkg.root)
        return bash_assign("srcRoot", ref(owner.id, f"/src/{pkg.root}" if pkg.root else "/src"))

    def view(self, unit: Unit) -> UnitView:
        """The :class:`UnitView` of ``unit``."""
        units = self._units
        ref = _Refs()
        lines: list[str] = []
        source = self._source(unit, ref)
        if source is not None:
            lines.append(source)
        words = [bash_word(w) for w in _env_words(unit.env)]
        if unit.kind is UnitKind.BUILD_SCRIPT_RUN:
            assert unit.build_script is not None
            script = units[unit.build_script]
            lines.append(bash_assign("buildScript", ref(script.id, "/" + (script.executable or ""))))
            if unit.rustflags:
                lines.append(bash_array("rustflags", unit.rustflags))
            if unit.links_deps:
                lines.append(bash_array("linksPrefixes", [l.env_prefix for l in unit.links_deps]))
                lines.append(bash_array("linksUnits", [ref(l.unit) for l in unit.links_deps]))
            if unit.allowed_link_arg_kinds:
                lines.append(bash_array("allowedLinkArgKinds", unit.allowed_link_arg_kinds))
        else:
            lines.append(bash_assign("srcPath", unit.src_path))
            if unit.remap_to:
                lines.append(bash_assign("remapTo", unit.remap_to))
            lines.append(bash_array("rustcArgs", unit.args))
            if not self._derived_closure(unit):
                lines.append(bash_array("closureIds", unit.dependency_closure))
            if unit.deps:
                lines.append(bash_array("externNames", [d.extern_name for d in unit.deps]))
            if unit.extern_file is not None:
                lines.append(bash_assign("externFile", unit.extern_file))
            if unit.build_script_run is not None:
                lines.append(bash_assign("buildScriptRun", ref(unit.build_script_run)))
            if unit.link_search_from:
                lines.append(bash_array("linkSearchFrom", [ref(u) for u in unit.link_search_from]))
            if unit.link_libs:
                lines.append("linkLibs=1")
            if unit.link_arg_kinds:
                lines.append(bash_array("linkArgKinds", unit.link_arg_kinds))
            if unit.executable is not None:
                lines.append(bash_assign("executable", unit.executable))
            if unit.uplift:
                lines.append(bash_array("upliftFiles", [u.file for u in unit.uplift]))
                lines.append(bash_array("upliftDests", [u.dest for u in unit.uplift]))
            for b in unit.bin_exes:
                words.append(bash_word(ref(b.unit, "/" + (units[b.unit].executable or "")),
                                       f"CARGO_BIN_EXE_{b.name}="))
        if words:
            lines.append("unitEnv=(" + " ".join(words) + ")")
        return UnitView(tuple(d.unit for d in unit.deps), tuple(ref.ids), "\n".join(lines))
