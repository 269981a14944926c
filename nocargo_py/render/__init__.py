"""Render a :class:`~nocargo_py.plan.Plan` into a self-contained ``Cargo.nix``.

The Nix library (``nix/*.nix``) and the builder scripts (``nix/builder/*.sh``) are
inlined, so the generated file needs neither nocargo-py nor network access to evaluate.
All escaping goes through :mod:`nocargo_py.render.nix`; the jinja2 template only places
pre-rendered text.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from .. import __version__
from ..plan import PathSource, Plan, RegistrySource
from .nix import nix_attr_name, nix_relative_path, nix_string, write_nix
from .units import UnitViews, package_data

__all__ = ["render_cargo_nix", "library_files", "NIX_LIBRARY_FILES"]

#: library attribute name -> file under ``nix/`` (each file is one Nix expression).
NIX_LIBRARY_FILES = {
    "lib": "lib.nix",
    "fetch": "fetch.nix",
    "buildUnit": "build-crate.nix",
    "overrides": "overrides.nix",
}
#: builder script name (a unit kind, or a helper) -> file under ``nix/builder/``.
BUILDER_SCRIPTS = {
    "common": "common.sh",
    "lib": "lib.sh",
    "bin": "bin.sh",
    "test": "test.sh",
    "build-script-compile": "build-script-compile.sh",
    "build-script-run": "build-script-run.sh",
    "test-run": "test-run.sh",
    "member": "member.sh",
    "tools": "tools.sh",
}


@lru_cache(maxsize=1)
def library_files() -> dict[str, str]:
    """The Nix library and builder scripts shipped with the package: relative path -> text."""
    root = resources.files("nocargo_py") / "nix"
    files = {}
    for rel in [*NIX_LIBRARY_FILES.values(), *(f"builder/{f}" for f in BUILDER_SCRIPTS.values())]:
        files[rel] = root.joinpath(rel).read_text(encoding="utf-8")
    return files


def _path_as_nix(obj: Any) -> Any:
    """For :func:`write_nix`: a path source's ``path`` becomes a Nix path expression."""
    if type(obj) is PathSource:
        return {"exclude": obj.exclude, "kind": obj.kind, "path": nix_relative_path(obj.path)}
    return None


def _plan_nix(plan: Plan) -> str:
    """The plan as the Nix library reads it (see :mod:`.units`): packages and units as
    positional lists (parsing a binding costs Nix about as much as a 100-byte string, and
    a big plan has tens of thousands of them), the layout documented in
    docs/plan-format.md ("In `Cargo.nix`")."""
    out = ["{\n    host = ", nix_string(plan.host), ";\n    targets = ",
           write_nix(plan.targets, indent=2), ";\n    packages = {\n"]
    for key in sorted(plan.packages):
        pkg = plan.packages[key]
        out.append(f"      {nix_attr_name(key)} = [ {nix_string(pkg.name)} "
                   f"{nix_string(pkg.version)} {nix_string(pkg.root)} "
                   f"{nix_string(package_data(pkg))} {_source(pkg.source)} ];\n")
    out.append("    };\n    units = {\n")
    views = UnitViews(plan)
    for uid in sorted(plan.units):
        u = plan.units[uid]
        v = views.view(u)
        extra = "" if u.extra_rustc_flags else " false"
        out.append(f"      {nix_attr_name(uid)} = [ {nix_string(u.package)} "
                   f"{nix_string(u.kind.value)} {_strings(v.deps)} {_strings(v.refs)} "
                   f"{nix_string(v.data)}{extra} ];\n")
    out.append("    };\n")
    if plan.env_paths:  # (absent from most plans: their output stays as it was)
        out.append("    envPaths = [\n")
        for name in sorted(plan.env_paths):
            out.append(f"      [ {nix_string(name)} {_source(plan.env_paths[name])} ]\n")
        out.append("    ];\n")
    out.append("  }")
    return "".join(out)


def _source(source: Any) -> str:
    """A registry source as ``[ url sha256 ]`` (the common case, no bindings to parse),
    any other as the attribute set of its fields (path sources' ``path`` a Nix path)."""
    if type(source) is RegistrySource:
        return f"[ {nix_string(source.url)} {nix_string(source.sha256)} ]"
    return write_nix(source, replace=_path_as_nix)


def _strings(values: tuple[str, ...]) -> str:
    return "[ " + " ".join(nix_string(v) for v in values) + " ]" if values else "[ ]"


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nocargo_py", "templates"),
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("Cargo.nix.j2")


def render_cargo_nix(plan: Plan) -> str:
    """The generated ``Cargo.nix`` text for ``plan`` (validated first); deterministic."""
    plan.validate()
    files = library_files()
    nix_files = [(name, files[path].rstrip("\n")) for name, path in NIX_LIBRARY_FILES.items()]
    scripts = [(nix_attr_name(name),
                nix_string(files[f"builder/{path}"]))
               for name, path in BUILDER_SCRIPTS.items()]
    return _template().render(
        version=__version__,
        plan_version=plan.version,
        targets_comment=", ".join(t.triple for t in plan.targets).replace("\n", " "),
        default_target=nix_string(plan.targets[0].triple),
        plan=_plan_nix(plan),
        nix_files=nix_files,
        name_file=NIX_LIBRARY_FILES,
        scripts=scripts,
    )
