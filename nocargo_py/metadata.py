"""``cargo metadata --no-deps --format-version 1`` as a Python dict (and its JSON text).

Field order, value spelling and list order follow cargo 1.95 exactly, so that
:func:`metadata_text` is byte-identical to cargo's output for the same workspace:

* ``packages`` and ``workspace_members``: workspace members in cargo's discovery order;
* a package's ``dependencies``: ``[dependencies]``, ``[dev-dependencies]``,
  ``[build-dependencies]`` (each by name), then every ``[target.KEY]`` (by key) with normal,
  build and dev tables; ``path`` only for path dependencies;
* ``targets``: lib, bins, examples, tests, benches, build script (each kind by name);
  ``required-features`` only when written; ``doctest`` only for doctestable libs;
* ``features``: the feature map *including* the implicit features of optional
  dependencies (``d = ["dep:d"]``), keys sorted.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from .package import Package, Target, Workspace
from .summary import Dependency

__all__ = ["metadata_json", "metadata_text", "package_json", "toml_to_json"]


def toml_to_json(value: Any) -> Any:
    """A TOML value as ``serde_json`` sees a ``toml::Value`` (datetimes in cargo's wrapper)."""
    if isinstance(value, dict):
        return {k: toml_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [toml_to_json(v) for v in value]
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return {"$__toml_private_datetime": _toml_datetime(value)}
    return value


def _toml_datetime(value: Any) -> str:
    """``toml_datetime``'s Display: fractional seconds without trailing zeros, UTC as ``Z``."""
    text = value.isoformat()
    if isinstance(value, _dt.datetime) and value.tzinfo is not None \
            and value.utcoffset() == _dt.timedelta(0):
        text = text[: -len("+00:00")] + "Z"
    if getattr(value, "microsecond", 0):
        frac = f".{value.microsecond:06d}"
        text = text.replace(frac, frac.rstrip("0"), 1)
    return text


def _platform_display(key: str | None) -> str | None:
    """cargo prints a ``[target.KEY]`` key re-serialized: ``cfg(target_os = "linux")``."""
    if key is None:
        return None
    from .cfg import Platform

    return str(Platform.parse(key))


def dependency_json(dep: Dependency) -> dict[str, Any]:
    """One entry of a package's ``dependencies`` list."""
    out: dict[str, Any] = {
        "name": dep.name,
        "source": None if dep.source.is_path() else dep.source.to_metadata_string(),
        "req": dep.req,
        "kind": dep.kind.metadata_name,
        "rename": dep.rename,
        "optional": dep.optional,
        "uses_default_features": dep.default_features,
        "features": list(dep.features),
        "target": _platform_display(dep.target),
        "registry": dep.registry,
    }
    if dep.source.is_path():
        out["path"] = dep.source.url
    return out


def target_json(target: Target) -> dict[str, Any]:
    """One entry of a package's ``targets`` list."""
    out: dict[str, Any] = {
        "kind": list(target.metadata_kind),
        "crate_types": list(target.crate_types),
        "name": target.name,
        "src_path": str(target.src_path),
        "edition": target.edition,
    }
    if target.declares_required_features:
        out["required-features"] = list(target.required_features)
    out["doc"] = target.doc
    out["doctest"] = target.doctest
    out["test"] = target.test
    return out


def package_json(pkg: Package) -> dict[str, Any]:
    """One entry of ``packages`` (``cargo metadata``'s ``SerializedPackage``)."""
    md = pkg.metadata
    features = {name: [str(v) for v in values]
                for name, values in sorted(pkg.summary.features.items())}
    return {
        "name": pkg.name,
        "version": pkg.version,
        "id": pkg.package_id.to_spec(),
        "license": md.license,
        "license_file": md.license_file,
        "description": md.description,
        "source": None if pkg.package_id.source.is_path()
        else pkg.package_id.source.to_metadata_string(),
        "dependencies": [dependency_json(d) for d in pkg.dependencies],
        "targets": [target_json(t) for t in pkg.targets],
        "features": features,
        "manifest_path": str(pkg.manifest_path),
        "metadata": toml_to_json(md.metadata) if md.metadata is not None else None,
        "publish": list(md.publish) if md.publish is not None else None,
        "authors": list(md.authors),
        "categories": list(md.categories),
        "keywords": list(md.keywords),
        "readme": md.readme,
        "repository": md.repository,
        "homepage": md.homepage,
        "documentation": md.documentation,
        "edition": pkg.edition,
        "links": pkg.links,
        "default_run": md.default_run,
        "rust_version": pkg.rust_version,
    }


def metadata_json(ws: Workspace) -> dict[str, Any]:
    """``cargo metadata --no-deps --format-version 1`` for a loaded workspace."""
    target_dir = str(ws.target_directory or (ws.root / "target"))
    return {
        "packages": [package_json(p) for p in ws.members],
        "workspace_members": [p.package_id.to_spec() for p in ws.members],
        "workspace_default_members": [p.package_id.to_spec() for p in ws.default_members],
        "resolve": None,
        "target_directory": target_dir,
        "build_directory": target_dir,
        "version": 1,
        "workspace_root": str(ws.root),
        "metadata": toml_to_json(ws.workspace_metadata) if ws.workspace_metadata is not None
        else None,
    }


def metadata_text(ws: Workspace) -> str:
    """The JSON text cargo prints (compact, UTF-8, one line, newline-terminated)."""
    return to_json_text(metadata_json(ws)) + "\n"


def to_json_text(value: Any) -> str:
    """Compact JSON as ``serde_json`` writes it (see :func:`ryu_float` for floats)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(ryu_float(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(":")
            _encode(v, out)
        out.append("}")
    else:
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")


def ryu_float(value: float) -> str:
    """A float as cargo's ``serde_json`` prints it (checked with cargo 1.95): ``null`` if not
    finite, else the shortest round-trip digits — ``1.0``, ``0.00001``, ``1e+16``, ``1.5e-7``."""
    import math

    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    exp = int(exp_text) if exp_text else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # decimal point position relative to the digit string (value = 0.DIGITS * 10**kk)
    kk = len(int_part) + exp if int_part != "0" else exp - (len(frac_part) - len(frac_part.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    if 0 <= kk - length and kk <= 16:  # integer: digits then zeros, ".0"
        return f"{sign}{digits}{'0' * (kk - length)}.0"
    if 0 < kk <= 16:
        return f"{sign}{digits[:kk]}.{digits[kk:]}"
    if -5 < kk <= 0:
        return f"{sign}0.{'0' * -kk}{digits}"
    e = kk - 1
    exp_text = f"e+{e}" if e >= 0 else f"e{e}"
    if length == 1:
        return f"{sign}{digits}{exp_text}"
    return f"{sign}{digits[0]}.{digits[1:]}{exp_text}"
